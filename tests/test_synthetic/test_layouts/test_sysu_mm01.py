# Copyright (c) mmreid_text contributors. All rights reserved.
"""The SYSU-MM01 layout: the raw layout read by the real loader, ids
missing from some cameras, IR captions without colours, identity
learnable across visible and infrared."""
import os.path as osp
import re

import numpy as np
import pytest

from mmreid_text.captions.format import load_caption_file
from mmreid_text.datasets import SYSUMM01
from mmreid_text.synthetic import build_layout, make_synthetic
from mmreid_text.synthetic.colours import CLOTH_COLOURS, HAIR_COLOURS
from .vi_retrieval import cross_modality_rank1

COLOUR_WORD = re.compile(
    r'\b(' + '|'.join(sorted(set(CLOTH_COLOURS) | set(HAIR_COLOURS))) + r')\b')


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


@pytest.fixture(scope='module')
def sysu(tmp_path_factory):
    return make_synthetic(
        'SYSUMM01',
        str(tmp_path_factory.mktemp('sysu')),
        img_size=(64, 32),
        num_train_ids=5,
        num_val_ids=2,
        num_test_ids=8,
        rgb_cameras_per_id=3,
        ir_cameras_per_id=1,
        images_per_camera=2)


def _ids(root, name):
    with open(osp.join(root, 'exp', f'{name}.txt')) as f:
        lines = f.read().splitlines()
    assert len(lines) == 1
    return [int(v) for v in lines[0].split(',')]


def test_id_files_and_cameras(sysu):
    root = sysu['dataset_dir']
    train, val, test = (
        _ids(root, n) for n in ('train_id', 'val_id', 'test_id'))
    assert (len(train), len(val), len(test)) == (3, 2, 8)
    assert sorted(train + val + test) == list(range(1, 14))
    assert _ids(root, 'available_id') == list(range(1, 14))
    assert train + val != list(range(1, 6))  # interleaved, not a block
    ds = SYSUMM01(data_root=root, split='train')
    assert ds.num_ids == 5 and len(ds) == 5 * 4 * 2
    cams = {}
    for d in infos(SYSUMM01(data_root=root, split='test')):
        cams.setdefault(d['pid'], set()).add(d['camid'])
        assert d['is_query'] == (d['camid'] in (3, 6)) != d['is_gallery']
        assert d['modality'] == ('ir' if d['is_query'] else 'vis')
        assert d['rel_img_path'][d['modality']].startswith(
            f'cam{d["camid"]}/{d["pid"]:04d}/')
    assert sorted(cams) == test
    for found in cams.values():
        assert len(found & {1, 2, 4, 5}) == 3 and len(found & {3, 6}) == 1
        assert found & {1, 2}  # an indoor gallery camera
    assert len({frozenset(c) for c in cams.values()}) > 1


def test_ir_captions_lose_colours(sysu):
    root = sysu['dataset_dir']
    captions = load_caption_file(osp.join(root, 'captions', 'train.json'))
    assert captions['split'] == 'train'
    entries = captions['captions']
    ds = SYSUMM01(data_root=root, split='train')
    texts = {'vis': {}, 'ir': {}}
    for d in infos(ds):
        mod = d['modality']
        entry = entries[d['rel_img_path'][mod]]
        assert set(entry) == {mod}
        texts[mod].setdefault(d['pid'], []).append(entry[mod]['text'])
        colours = entry[mod]['attributes']['upper_colour']['value']
        assert (colours == 'unknown') == (mod == 'ir')
    assert all(
        COLOUR_WORD.search(t) for ts in texts['vis'].values() for t in ts)
    assert not any(
        COLOUR_WORD.search(t) for ts in texts['ir'].values() for t in ts)
    test = load_caption_file(osp.join(root, 'captions', 'test.json'))
    assert len(test['captions']) == len(SYSUMM01(root, split='test'))


def test_identity_is_learnable_across_modalities(sysu):
    """Nearest neighbour on a grey band profile matches IR queries to RGB
    gallery images well above chance (1/8); shuffled ids do not."""
    data = [
        dict(d, img_path={
            m: [p]
            for m, p in d['img_path'].items()
        })
        for d in infos(SYSUMM01(data_root=sysu['dataset_dir'], split='test'))
    ]
    rank1 = cross_modality_rank1(data, 'ir')
    assert rank1 > 2 / 8
    order = np.random.default_rng(0).permutation(len(data))
    shuffled = [data[i]['pid'] for i in order]
    assert cross_modality_rank1(data, 'ir', pids=shuffled) < rank1 / 2


def test_bad_parameters():
    with pytest.raises(ValueError, match='num_val_ids'):
        build_layout('SYSUMM01', num_train_ids=3, num_val_ids=3)
    with pytest.raises(ValueError, match='rgb_cameras_per_id'):
        build_layout('SYSUMM01', rgb_cameras_per_id=5)
    with pytest.raises(ValueError, match='ir_cameras_per_id'):
        build_layout('SYSUMM01', ir_cameras_per_id=0)
    layout = build_layout('SYSUMM01')
    with pytest.raises(RuntimeError, match='plan'):
        layout.write_index('/nonexistent', [])
