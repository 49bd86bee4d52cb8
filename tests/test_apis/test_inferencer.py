# Copyright (c) mmreid_text contributors. All rights reserved.
"""ReIDInferencer on the tiny configs: features equal the model's own
predict on the test pipeline, checkpoints load, batch size changes
nothing, every input form and its errors."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmreid_text.apis import InferenceInputError, ReIDInferencer

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_baseline.py')
EEES_TINY = osp.join(REPO, 'configs', 'eees', 'eees_tiny_synthetic_sysu.py')
VLD_TINY = osp.join(REPO, 'configs', 'vld', 'vld_tiny_synthetic_hitszvcm.py')


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    from mmreid_text.synthetic import ensure_synthetic
    root = tmp_path_factory.mktemp('inferencer')
    ensure_synthetic(
        'RGBNT201',
        str(root),
        progress=False,
        seed=0,
        num_train_ids=4,
        num_test_ids=3,
        images_per_camera=1,
        img_size=(64, 32))
    return str(root / 'RGBNT201')


@pytest.fixture(scope='module')
def triplets(data_root):
    rgb = sorted(glob.glob(osp.join(data_root, 'test', 'RGB', '*')))
    assert len(rgb) >= 5
    return [{
        'rgb': p,
        'nir': p.replace(f'{osp.sep}RGB{osp.sep}', f'{osp.sep}NI{osp.sep}'),
        'tir': p.replace(f'{osp.sep}RGB{osp.sep}', f'{osp.sep}TI{osp.sep}')
    } for p in rgb[:5]]


@pytest.fixture(scope='module')
def inferencer():
    torch.manual_seed(0)
    return ReIDInferencer(TINY, device='cpu', batch_size=2)


def test_features_equal_model_predict_and_checkpoint(inferencer, triplets,
                                                     tmp_path):
    feats = inferencer(triplets)
    assert isinstance(feats, np.ndarray) and feats.dtype == np.float32
    # the runner's way: the test pipeline, its collate, the preprocessor
    # and predict
    model = inferencer.model
    batch = pseudo_collate([
        inferencer.pipeline(inferencer.build_info(i, s))
        for i, s in enumerate(triplets)
    ])
    with torch.no_grad():
        data = model.data_preprocessor(batch, False)
        expected = torch.stack([s.pred_feature for s in model.predict(**data)])
    assert feats.shape == tuple(expected.shape) == (5, 3 * 128)
    np.testing.assert_allclose(feats, expected.numpy(), atol=1e-5)

    # a checkpoint of this model into a fresh (differently initialised)
    # inferencer gives the same features
    ckpt = str(tmp_path / 'model.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    torch.manual_seed(123)
    fresh = ReIDInferencer(TINY, device='cpu')
    assert not np.allclose(fresh(triplets), feats, atol=1e-3)
    loaded = ReIDInferencer(TINY, ckpt, device='cpu')
    np.testing.assert_allclose(loaded(triplets), feats, atol=1e-5)
    as_torch = loaded(triplets[0], return_numpy=False)
    assert isinstance(as_torch, torch.Tensor) and as_torch.shape == (1, 384)
    with pytest.raises(FileNotFoundError, match='does not exist'):
        ReIDInferencer(TINY, str(tmp_path / 'nope.pth'), device='cpu')
    with pytest.raises(ValueError, match='only local files'):
        ReIDInferencer(TINY, 'https://example.org/x.pth', device='cpu')


def test_batch_size_does_not_change_features(inferencer, triplets):
    one = inferencer(triplets, batch_size=1)
    three = inferencer(triplets, batch_size=3)
    five = inferencer(triplets, batch_size=5)
    np.testing.assert_allclose(one, three, atol=1e-5)
    np.testing.assert_allclose(one, five, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_equals_cpu(inferencer, triplets, tmp_path):
    ckpt = str(tmp_path / 'model.pth')
    torch.save({'state_dict': inferencer.model.state_dict()}, ckpt)
    gpu = ReIDInferencer(TINY, ckpt, device='cuda')
    np.testing.assert_allclose(gpu(triplets), inferencer(triplets), atol=1e-4)


def test_wrong_forms_name_the_expected_form(inferencer, triplets):
    expected = "every modality, {'rgb': path, 'nir': path, 'tir': path}"
    with pytest.raises(InferenceInputError, match='got the path') as err:
        inferencer(triplets[0]['rgb'])
    assert expected in str(err.value)
    assert 'SyntheticRGBNT201' in str(err.value)
    partial = {'rgb': triplets[0]['rgb'], 'nir': triplets[0]['nir']}
    with pytest.raises(
            InferenceInputError,
            match=r"Input 1: modalities \['tir'\] are missing"):
        inferencer([triplets[0], partial])
    with pytest.raises(InferenceInputError, match=r"unknown modalities"):
        inferencer(dict(triplets[0], ir='x.jpg'))
    with pytest.raises(InferenceInputError, match='not one image path'):
        inferencer(dict(triplets[0], rgb=[triplets[0]['rgb']]))
    with pytest.raises(InferenceInputError, match='got int'):
        inferencer([3])


def test_missing_and_corrupt_images_name_the_file(inferencer, triplets,
                                                  tmp_path):
    bad = tmp_path / 'corrupt.jpg'
    bad.write_bytes(b'not an image at all')
    with pytest.raises(OSError, match='corrupt.jpg'):
        inferencer([triplets[0], dict(triplets[1], nir=str(bad))])
    with pytest.raises(FileNotFoundError, match='missing.jpg'):
        inferencer(dict(triplets[0], tir=str(tmp_path / 'missing.jpg')))


def test_captions_required_when_the_test_pipeline_reads_them(
        triplets, data_root):
    cfg = Config.fromfile(TINY)
    pipeline = list(cfg.test_dataloader.dataset.pipeline)
    pipeline.insert(
        1,
        dict(
            type='LoadCaptions',
            caption_file=osp.join(data_root, 'captions', 'test.json')))
    cfg.test_dataloader.dataset.pipeline = pipeline
    inf = ReIDInferencer(cfg, device='cpu')
    with pytest.raises(InferenceInputError, match='reads captions'):
        inf(triplets[:2])
    texts = {m: f'A {m} photo of a person.' for m in ('rgb', 'nir', 'tir')}
    with pytest.raises(InferenceInputError, match=r"no caption for .*'tir'"):
        inf(triplets[0], captions={'rgb': 'a', 'nir': 'b'})
    with pytest.raises(InferenceInputError, match='2 caption dicts for 3'):
        inf(triplets[:3], captions=[texts, texts])
    info = inf.build_info(0, triplets[0], texts)
    packed = inf.pipeline(info)
    assert packed['data_samples'].metainfo['captions'] == texts
    assert inf(triplets[:2], captions=[texts, texts]).shape == (2, 384)


def test_visible_infrared_images_need_their_modality(triplets):
    inf = ReIDInferencer(EEES_TINY, device='cpu')
    assert inf.one_modality_per_sample and inf.modalities == ('vis', 'ir')
    feats = inf([{'ir': triplets[0]['tir']}, {'vis': triplets[1]['rgb']}])
    assert feats.shape[0] == 2 and np.isfinite(feats).all()
    with pytest.raises(InferenceInputError, match='one modality per sample'):
        inf({'vis': triplets[0]['rgb'], 'ir': triplets[0]['tir']})
    with pytest.raises(InferenceInputError, match='got the path'):
        inf(triplets[0]['rgb'])


def test_tracklets(triplets):
    inf = ReIDInferencer(VLD_TINY, device='cpu')
    assert inf.is_video and inf.one_modality_per_sample
    frames = [t['tir'] for t in triplets]
    feats = inf([{'ir': frames}, {'vis': [t['rgb'] for t in triplets[:3]]}])
    assert feats.shape[0] == 2 and np.isfinite(feats).all()
    with pytest.raises(
            InferenceInputError, match='not a non-empty list of frame paths'):
        inf({'ir': frames[0]})
    assert "{modality: [frame paths]}" in inf.expected_form()
