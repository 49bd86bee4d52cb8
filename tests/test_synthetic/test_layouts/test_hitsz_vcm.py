# Copyright (c) mmreid_text contributors. All rights reserved.
"""The HITSZ-VCM layout: read by the real loader in both folder variants,
tracklets are walks, identity carries across visible and infrared."""
import math
import os.path as osp
from itertools import groupby

import numpy as np
import pytest
from PIL import Image

from mmreid_text.datasets import HITSZVCM
from mmreid_text.synthetic import (Stream, SyntheticWorld, build_layout,
                                   make_synthetic)
from mmreid_text.synthetic.person.walk import sample_walk, walk_pose
from .vi_retrieval import cross_modality_rank1


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


@pytest.mark.parametrize('variant', ['split', 'flat'])
def test_both_folder_variants_read_with_the_real_loader(tmp_path, variant):
    result = make_synthetic(
        'HITSZVCM',
        str(tmp_path),
        img_size=(64, 32),
        num_train_ids=2,
        num_test_ids=2,
        cameras_per_id=3,
        tracklets_per_modality=2,
        frames_per_tracklet=14,
        min_frames=9,
        folder_variant=variant)
    root = result['dataset_dir']
    assert osp.isdir(osp.join(root, 'Train')) == (variant == 'split')
    rows = {}
    for split in ('train', 'test'):
        with open(osp.join(root, 'info', f'track_{split}_info.txt')) as f:
            rows[split] = [list(map(int, line.split())) for line in f]
    train = HITSZVCM(data_root=root, split='train')
    test = HITSZVCM(data_root=root, split='test')
    for split, ds in (('train', train), ('test', test)):
        long_rows = [r for r in rows[split] if r[2] - r[1] + 1 >= 12]
        assert ds.num_dropped_tracklets == len(rows[split]) - len(long_rows)
        assert [d['num_frames_total']
                for d in infos(ds)] == [r[2] - r[1] + 1 for r in long_rows]
        assert [d['modality'] for d in infos(ds)
                ] == ['ir' if r[0] == 1 else 'vis' for r in long_rows]
    assert 0 < train.num_dropped_tracklets + test.num_dropped_tracklets
    assert train.num_ids == 2
    with open(osp.join(root, 'info', 'query_IDX.txt')) as f:
        query_rows = [int(v) for v in f.read().split()]
    assert query_rows == [
        i for i, r in enumerate(rows['test'], 1) if r[0] == 1
    ]
    data = infos(test)
    for d in data:
        assert d['is_query'] == (d['modality'] == 'ir') != d['is_gallery']
        frames = d['rel_img_path'][d['modality']]
        prefix = 'Test/' if variant == 'split' else ''
        mod_dir = 'ir' if d['modality'] == 'ir' else 'rgb'
        assert all(
            p.startswith(f'{prefix}{d["pid"]:04d}/{mod_dir}/D{d["camid"]}/')
            for p in frames)
        assert frames == sorted(frames)  # temporal order = name order


def test_every_tracklet_has_a_cross_modality_positive_elsewhere():
    layout = build_layout(
        'HITSZVCM', num_train_ids=4, num_test_ids=4, tracklets_per_modality=1)
    tracks = {
        (s.pid, s.track): (s.cam, layout.modality_of(s))
        for s in layout.plan(3)
    }
    for (pid, _), (cam, mod) in tracks.items():
        assert any(p == pid and m != mod and c != cam
                   for (p, _), (c, m) in tracks.items())


WALK_LAYOUTS = {
    'HITSZVCM':
    dict(num_train_ids=4, num_test_ids=1, tracklets_per_modality=2),
    'BUPTCampus': dict(num_train_ids=4, num_auxiliary_ids=0, num_test_ids=1),
}


@pytest.mark.parametrize('name', sorted(WALK_LAYOUTS))
def test_tracklets_are_walks(name):
    """Position, gait phase and scale move steadily along a tracklet, in
    both video layouts (one walk renderer)."""
    size = (128, 64)
    layout = build_layout(name, frames_per_tracklet=12, **WALK_LAYOUTS[name])
    world = SyntheticWorld(layout, 0, size)
    views = set()
    plan = [s for s in layout.plan(0) if s.source is None]  # no copies
    for (pid, _, track), specs in groupby(plan, lambda s:
                                          (s.pid, s.cam, s.track)):
        specs = list(specs)
        masks = [world.render(s)[0]['labels'] > 0 for s in specs]
        heights = [np.ptp(np.nonzero(m)[0]) + 1 for m in masks]
        centres = [np.nonzero(m)[1].mean() for m in masks]
        walk = sample_walk(
            world.scene(specs[0].cam), size,
            world.rng(Stream.TRACK, pid, specs[0].cam, track))
        views.add(walk.view)
        assert abs(centres[-1] - centres[0]) > 1  # drifts across the crop
        changed = [(a ^ b).mean() for a, b in zip(masks, masks[1:])]
        assert min(changed) > 0 and np.mean(changed) > 0.01  # gait, scale
        change = heights[-1] / heights[0] - 1
        if walk.view == 'front':  # walking towards the camera
            assert change > 0.02
        elif walk.view == 'back':
            assert change < -0.02
        else:
            assert abs(change) < 0.05
    assert views == {'front', 'back', 'side'}


def test_walk_pose_follows_the_walk():
    layout = build_layout('HITSZVCM', num_train_ids=1, num_test_ids=1)
    world = SyntheticWorld(layout, 0, (128, 64))
    scene = world.scene(1)
    walk = sample_walk(scene, (128, 64), np.random.default_rng(5))
    rng = np.random.default_rng(0)
    poses = [
        walk_pose(world.identity(1), scene, walk, t, (128, 64), rng)
        for t in range(6)
    ]
    for t, pose in enumerate(poses):
        phase = walk.phase + 2 * math.pi * t / walk.period
        assert pose.stride == pytest.approx(math.sin(phase))
        assert pose.view == walk.view and pose.facing == walk.facing
        assert pose.bg_offset[0] == walk.bg_row
    steps = np.diff([p.bg_offset[1] for p in poses])  # the crop pans
    assert all(0 < abs(step) <= abs(walk.pan) + 1 for step in steps)


def test_frames_of_a_tracklet_differ_and_infrared_is_grey(tmp_path):
    result = make_synthetic(
        'HITSZVCM',
        str(tmp_path),
        img_size=(64, 32),
        num_train_ids=1,
        num_test_ids=1,
        tracklets_per_modality=1,
        frames_per_tracklet=12)
    for d in infos(HITSZVCM(data_root=result['dataset_dir'], split='test')):
        frames = [
            np.asarray(Image.open(p), dtype=np.int16)
            for p in d['img_path'][d['modality']]
        ]
        assert min(np.abs(a - b).mean()
                   for a, b in zip(frames, frames[1:])) > 3
        spread = max(np.abs(f - f[..., :1]).max() for f in frames)
        assert (spread <= 2) == (d['modality'] == 'ir')


@pytest.fixture(scope='module')
def test_split(tmp_path_factory):
    result = make_synthetic(
        'HITSZVCM',
        str(tmp_path_factory.mktemp('vcm')),
        img_size=(64, 32),
        num_train_ids=1,
        num_test_ids=8,
        tracklets_per_modality=2,
        frames_per_tracklet=12)
    return infos(HITSZVCM(data_root=result['dataset_dir'], split='test'))


def test_identity_is_learnable_across_modalities(test_split):
    """Nearest neighbour on a grey band profile matches infrared queries to
    visible tracklets (and back) well above chance (1/8); with shuffled
    identities it does not (seed 0: 31% / 44%)."""
    chance = 1 / 8
    swapped = [
        dict(d, is_query=d['is_gallery'], is_gallery=d['is_query'])
        for d in test_split
    ]
    ir2vis = cross_modality_rank1(test_split, 'ir')
    vis2ir = cross_modality_rank1(swapped, 'vis')
    assert ir2vis > 2 * chance and vis2ir > 2 * chance
    assert (ir2vis + vis2ir) / 2 > 2.5 * chance
    order = np.random.default_rng(0).permutation(len(test_split))
    shuffled = [test_split[i]['pid'] for i in order]
    assert cross_modality_rank1(test_split, 'ir', pids=shuffled) < ir2vis / 2
