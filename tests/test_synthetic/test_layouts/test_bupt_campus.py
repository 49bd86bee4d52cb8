# Copyright (c) mmreid_text contributors. All rights reserved.
"""The BUPTCampus layout: read by the real loader (pairs, auxiliary ids,
query / gallery), pairs are pixel-aligned, identity carries across
visible and infrared."""
import json
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmreid_text.datasets import BUPTCampus
from mmreid_text.synthetic import make_synthetic
from .vi_retrieval import cross_modality_rank1


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


@pytest.fixture(scope='module')
def tiny_bupt(tmp_path_factory):
    return make_synthetic(
        'BUPTCampus',
        str(tmp_path_factory.mktemp('bupt')),
        img_size=(64, 32),
        num_train_ids=2,
        num_auxiliary_ids=2,
        num_test_ids=3,
        cameras_per_id=3,
        tracklets_per_camera=2,
        frames_per_tracklet=5,
        min_frames=3)['dataset_dir']


def _lines(root, name):
    with open(osp.join(root, name)) as f:
        return [line.split() for line in f]


def test_lists_and_json_are_read_by_the_real_loader(tiny_bupt):
    root = tiny_bupt
    with open(osp.join(root, 'data_paths.json')) as f:
        paths = json.load(f)
    train = _lines(root, 'train.txt')
    assert {m for _, m, _, _ in train} == {'RGB/IR'}
    assert len(train) == 2 * 3 * 2
    data = infos(BUPTCampus(data_root=root, split='train'))
    assert len(data) == 2 * len(train)
    for (obj, _, cam, tid), vis, ir in zip(train, data[0::2], data[1::2]):
        assert (vis['modality'], ir['modality']) == ('vis', 'ir')
        assert vis['camid'] == ir['camid'] == BUPTCampus.CAMERAS.index(cam)
        assert vis['rel_img_path']['vis'] == [
            'DATA/' + p for p in paths[obj]['RGB'][cam][tid]
        ]
        assert [
            p.replace('/RGB/', '/IR/') for p in vis['rel_img_path']['vis']
        ] == ir['rel_img_path']['ir']
    assert 3 <= min(d['num_frames_total'] for d in data) < 5
    # auxiliary identities: one camera each, only with auxiliary=True
    aux = _lines(root, 'train_auxiliary.txt')
    assert {o for o, *_ in aux}.isdisjoint({o for o, *_ in train})
    for obj in {o for o, *_ in aux}:
        assert len({c for o, _, c, _ in aux if o == obj}) == 1
    full = BUPTCampus(data_root=root, split='train', auxiliary=True)
    assert full.num_ids == 4 and len(full) == len(data) + 2 * len(aux)


def test_queries_have_cross_modality_positives_and_no_twin(tiny_bupt):
    query, gallery = (
        _lines(tiny_bupt, n) for n in ('query.txt', 'gallery.txt'))
    assert {m for _, m, _, _ in query + gallery} == {'RGB', 'IR'}
    data = infos(BUPTCampus(data_root=tiny_bupt, split='test'))
    assert len(data) == len(query) + len(gallery)  # every tracklet kept
    queries = [d for d in data if d['is_query']]
    galleries = [d for d in data if d['is_gallery']]
    gallery_tracks = {(d['pid'], d['camid']) for d in galleries}
    for q in queries:
        assert (q['pid'], q['camid']) not in gallery_tracks
        assert any(g['pid'] == q['pid'] and g['modality'] != q['modality']
                   for g in galleries)


def test_pairs_are_pixel_aligned(tiny_bupt):
    """An infrared frame of a pair correlates best (gradient magnitude)
    with the visible frame of the same time, not with its neighbours."""

    def gradients(path):
        with Image.open(path) as img:
            grey = np.asarray(img.convert('L'), dtype=np.float64)
        magnitude = np.hypot(*np.gradient(grey))
        return (magnitude - magnitude.mean()) / magnitude.std()

    data = infos(BUPTCampus(data_root=tiny_bupt, split='train'))
    best = []
    for vis, ir in zip(data[0::2], data[1::2]):
        visible = [gradients(p) for p in vis['img_path']['vis']]
        for t, path in enumerate(ir['img_path']['ir']):
            infrared = gradients(path)
            best.append(
                np.argmax([np.mean(infrared * v) for v in visible]) == t)
    assert len(best) > 30 and np.mean(best) > 0.8


def test_identity_is_learnable_across_modalities(tmp_path):
    """Nearest neighbour on a grey band profile, query.txt tracklets of one
    modality against gallery.txt tracklets of the other (no camera rule,
    as in the bupt protocol): well above chance (1/8) in both directions,
    not with shuffled identities (seed 0: 25% / 62%)."""
    root = make_synthetic(
        'BUPTCampus',
        str(tmp_path),
        img_size=(64, 32),
        num_train_ids=1,
        num_auxiliary_ids=0,
        num_test_ids=8,
        frames_per_tracklet=6)['dataset_dir']
    data = infos(BUPTCampus(data_root=root, split='test'))
    chance = 1 / 8
    ir2vis = cross_modality_rank1(data, 'ir', camera_rule=False)
    vis2ir = cross_modality_rank1(data, 'vis', camera_rule=False)
    assert ir2vis >= 2 * chance and vis2ir >= 2 * chance
    assert (ir2vis + vis2ir) / 2 > 2.5 * chance
    order = np.random.default_rng(0).permutation(len(data))
    shuffled = [data[i]['pid'] for i in order]
    assert cross_modality_rank1(
        data, 'vis', pids=shuffled, camera_rule=False) < vis2ir / 2
