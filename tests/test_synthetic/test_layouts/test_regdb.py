# Copyright (c) mmreid_text contributors. All rights reserved.
"""The RegDB layout: trials of the real loader, aligned visible / thermal
pairs, thermal captions without colours or patterns, identity learnable
across modalities."""
import os.path as osp
import re

import numpy as np
import pytest
from PIL import Image

from mmreid_text.captions.format import load_caption_file
from mmreid_text.datasets import RegDB
from mmreid_text.synthetic import build_layout, make_synthetic
from mmreid_text.synthetic.colours import CLOTH_COLOURS, HAIR_COLOURS
from .vi_retrieval import cross_modality_rank1

COLOUR_WORD = re.compile(
    r'\b(' + '|'.join(sorted(set(CLOTH_COLOURS) | set(HAIR_COLOURS))) + r')\b')


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


@pytest.fixture(scope='module')
def regdb(tmp_path_factory):
    return make_synthetic(
        'RegDB',
        str(tmp_path_factory.mktemp('regdb')),
        img_size=(64, 32),
        num_train_ids=4,
        num_test_ids=8,
        images_per_id=2,
        num_trials=3)


def _folders(ds):
    """Folder ids of a split, in label order."""
    out = {}
    for d in infos(ds):
        rel = d['rel_img_path'][d['modality']]
        out.setdefault(d['pid'], set()).add(int(rel.split('/')[1]))
    assert all(len(v) == 1 for v in out.values())
    return [out[label].pop() for label in sorted(out)]


def test_trials_split_the_identities(regdb):
    root = regdb['dataset_dir']
    splits = []
    for trial in (1, 2, 3):
        train = RegDB(data_root=root, split='train', trial=trial)
        test = RegDB(data_root=root, split='test', trial=trial)
        ids = _folders(train), _folders(test)
        # labels 0-based in sorted folder order
        assert ids[0] == sorted(ids[0]) and ids[1] == sorted(ids[1])
        assert sorted(ids[0] + ids[1]) == list(range(1, 13))
        assert train.num_ids == 4 and len(train) == 4 * 2 * 2
        for ds in (train, test):
            data = infos(ds)
            vis = [d for d in data if d['modality'] == 'vis']
            ir = [d for d in data if d['modality'] == 'ir']
            assert [d['pid'] for d in vis] == [d['pid'] for d in ir]
            for v, t in zip(vis, ir):  # one render, two files
                assert v['rel_img_path']['vis'].replace(
                    'Visible',
                    'Thermal').replace('_v_', '_t_') == t['rel_img_path']['ir']
        splits.append(ids[0])
    assert len({tuple(s) for s in splits}) > 1
    with pytest.raises(FileNotFoundError, match='train_visible_4.txt'):
        RegDB(data_root=root, split='train', trial=4)


def test_bmp_files_thermal_grey_and_captions(regdb):
    root = regdb['dataset_dir']
    data = infos(RegDB(data_root=root, split='test'))
    entries = load_caption_file(osp.join(root, 'captions',
                                         'all.json'))['captions']
    texts = {}
    for d in data:
        mod = d['modality']
        path = d['img_path'][mod]
        assert path.endswith('.bmp')
        with Image.open(path) as img:
            assert img.format == 'BMP' and img.mode == 'RGB'
            pixels = np.asarray(img, np.int16)
        spread = np.abs(pixels - pixels[..., :1]).max()
        assert (spread == 0) == (mod == 'ir')
        entry = entries[d['rel_img_path'][mod]]
        assert set(entry) == {mod}
        texts.setdefault(mod, []).append(entry[mod]['text'])
        pattern = entry[mod]['attributes']['upper_pattern']['value']
        assert (pattern == 'unknown') == (mod == 'ir')  # TIR: no patterns
    assert all(COLOUR_WORD.search(t) for t in texts['vis'])
    assert not any(COLOUR_WORD.search(t) for t in texts['ir'])


def test_identity_is_learnable_across_modalities(tmp_path):
    """With ``ir_spectrum='nir'`` a grey band profile matches the aligned
    pairs well above chance (1/8). (Thermal images keep the silhouette,
    hair, garment shapes and items but not the brightness profile of the
    clothes, which this crude descriptor needs.)"""
    result = make_synthetic(
        'RegDB',
        str(tmp_path),
        img_size=(64, 32),
        num_train_ids=4,
        num_test_ids=8,
        images_per_id=2,
        num_trials=1,
        ir_spectrum='nir')
    data = [
        dict(d, img_path={
            m: [p]
            for m, p in d['img_path'].items()
        })
        for d in infos(RegDB(data_root=result['dataset_dir'], split='test'))
    ]
    rank1 = {
        q: cross_modality_rank1(data, q, camera_rule=False)
        for q in ('vis', 'ir')
    }
    assert min(rank1.values()) > 3 / 8
    order = np.random.default_rng(0).permutation(len(data))
    shuffled = [data[i]['pid'] for i in order]
    assert cross_modality_rank1(
        data, 'ir', pids=shuffled, camera_rule=False) < rank1['ir'] / 2


def test_bad_parameters():
    with pytest.raises(ValueError, match='num_train_ids'):
        build_layout('RegDB', num_train_ids=207)
    with pytest.raises(ValueError, match='num_trials'):
        build_layout('RegDB', num_trials=11)
    with pytest.raises(RuntimeError, match='plan'):
        build_layout('RegDB').write_index('/nonexistent', [])
