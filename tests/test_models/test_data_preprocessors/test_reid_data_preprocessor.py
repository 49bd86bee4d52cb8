# Copyright (c) mmreid_text contributors. All rights reserved.
import pytest
import torch

from mmreid_text.models.data_preprocessors import ReIDDataPreprocessor
from mmreid_text.structures import ReIDDataSample


def _batch(b=2, m=3, t=None):
    shape = (m, 3, 4, 2) if t is None else (m, t, 3, 4, 2)
    inputs = [
        torch.randint(0, 256, shape, dtype=torch.uint8) for _ in range(b)
    ]
    samples = [
        ReIDDataSample(metainfo=dict(modalities=('rgb', 'nir', 'tir')[:m]))
        for _ in range(b)
    ]
    return dict(inputs=inputs, data_samples=samples)


def test_normalises_and_stacks():
    pre = ReIDDataPreprocessor(mean=(10, 20, 30), std=(2, 4, 5))
    data = _batch()
    out = pre(data)
    x = out['inputs']
    assert x.shape == (2, 3, 3, 4, 2) and x.dtype == torch.float32
    raw = torch.stack(data['inputs']).float()
    expect = (raw - torch.tensor([10., 20, 30]).view(3, 1, 1)) / torch.tensor(
        [2., 4, 5]).view(3, 1, 1)
    torch.testing.assert_close(x, expect)


def test_video_inputs_keep_time_axis():
    out = ReIDDataPreprocessor()(_batch(m=2, t=5))
    assert out['inputs'].shape == (2, 2, 5, 3, 4, 2)


def test_blanks_missing_modalities_at_test_time_only():
    """Default ``missing_mode='input'``: the images are blanked to the
    normalised 0 and nothing else tells the model (no metainfo key)."""
    pre = ReIDDataPreprocessor(missing_modalities=('nir', ))
    assert pre.missing_mode == 'input'
    data = _batch()
    raw = torch.stack(data['inputs']).float()
    out = pre(data, training=False)
    assert (out['inputs'][:, 1] == 0).all()
    torch.testing.assert_close(out['inputs'][:, [0, 2]],
                               (raw[:, [0, 2]] - 127.5) / 127.5)
    assert all('missing_modalities' not in s.metainfo
               for s in out['data_samples'])
    train = pre(_batch(), training=True)
    assert (train['inputs'][:, 1] != 0).any()


def test_masked_mode_names_the_missing_modalities():
    pre = ReIDDataPreprocessor(
        missing_modalities=('nir', ), missing_mode='masked')
    data = _batch()
    out = pre(data, training=False)
    assert (out['inputs'][:, 1] == 0).all()
    assert (out['inputs'][:, 0] != 0).any()
    assert all(s.metainfo['missing_modalities'] == ('nir', )
               for s in out['data_samples'])
    # same inputs as the input mode: the modes differ in the metainfo only
    again = _batch()
    again['inputs'] = [x.clone() for x in data['inputs']]
    pre.missing_mode = 'input'
    torch.testing.assert_close(pre(again)['inputs'], out['inputs'])
    train = pre(_batch(), training=True)
    assert all('missing_modalities' not in s.metainfo
               for s in train['data_samples'])


def test_missing_mode_is_checked():
    with pytest.raises(ValueError, match="'input', 'masked'.*'mask'"):
        ReIDDataPreprocessor(missing_mode='mask')
    pre = ReIDDataPreprocessor(missing_modalities=('nir', ))
    pre.missing_mode = 'zeros'  # set between test runs, as tools/test.py
    with pytest.raises(ValueError, match="'zeros'"):
        pre(_batch())


def test_blank_errors():
    with pytest.raises(ValueError, match='not among'):
        ReIDDataPreprocessor(missing_modalities=('depth', ))(_batch())
    with pytest.raises(ValueError, match='At least one'):
        ReIDDataPreprocessor(missing_modalities=('rgb', 'nir', 'tir'))(
            _batch())


def test_shape_mismatch_is_explained():
    data = _batch()
    data['inputs'][1] = torch.zeros(3, 3, 5, 2, dtype=torch.uint8)
    with pytest.raises(ValueError, match='differ in shape'):
        ReIDDataPreprocessor()(data)


@pytest.mark.parametrize('mode', ['input', 'masked'])
def test_captions_of_missing_modalities_are_removed(mode):
    data = _batch()
    for s in data['data_samples']:
        s.set_metainfo(
            dict(captions=dict(rgb='a red coat', nir='a coat', tir='warm')))
    out = ReIDDataPreprocessor(
        missing_modalities=('rgb', 'tir'), missing_mode=mode)(
            data)
    for s in out['data_samples']:
        assert s.metainfo['captions'] == dict(rgb='', nir='a coat', tir='')
