# Copyright (c) mmreid_text contributors. All rights reserved.
"""``temporal_twins`` of the video layouts: twins have the same frames per
tracklet in reverse order, so only frame order separates them; off by
default and then the output is unchanged."""
import dataclasses
import hashlib
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmreid_text.datasets import HITSZVCM, BUPTCampus
from mmreid_text.datasets.transforms import SampleFrames
from mmreid_text.synthetic import (Stream, SyntheticWorld, build_layout,
                                   make_synthetic)
from mmreid_text.synthetic.layouts.base import twin_frame_order
from mmreid_text.synthetic.manifest import GENERATOR_NAME, GENERATOR_VERSION
from mmreid_text.synthetic.person.walk import sample_walk, walk_pose
from .vi_retrieval import band_descriptor

HITSZ = dict(
    num_train_ids=2,
    num_test_ids=2,
    tracklets_per_modality=1,
    frames_per_tracklet=3)
BUPT = dict(
    num_train_ids=2,
    num_auxiliary_ids=1,
    num_test_ids=2,
    frames_per_tracklet=3)
#: sha256 of the relative paths of every file and the bytes of every non-JPEG
#: file (index lists, captions, manifest; generator version masked) of the
#: default outputs below, made with the code before the option existed.
DEFAULT_HASHES = {
    'HITSZVCM':
    '169e298ec0d07f857eb38c68d148613c55f1efeca75ee0d479e19dd8a05ef6a5',
    'BUPTCampus':
    '0ee829e625548bfd97f4dede86e1f1d410f59a408460c58e2188e6a6de36aa79',
}


def tree_hash(root):
    """Paths + non-JPEG bytes, the generator version masked (a version bump
    alone does not fail the test)."""
    generator = f'{GENERATOR_NAME} {GENERATOR_VERSION}'.encode()
    version = f'"{GENERATOR_VERSION}"'.encode()
    h = hashlib.sha256()
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            path = osp.join(folder, name)
            h.update(osp.relpath(path, root).encode())
            if not name.endswith('.jpg'):
                with open(path, 'rb') as f:
                    h.update(f.read().replace(generator,
                                              b'GEN').replace(version, b'VER'))
    return h.hexdigest()


def grey(path):
    with Image.open(path) as img:
        return np.asarray(img.convert('L'), dtype=np.float64)


@pytest.mark.parametrize('dataset, params', [('HITSZVCM', HITSZ),
                                             ('BUPTCampus', BUPT)])
def test_default_output_is_unchanged(tmp_path, dataset, params):
    result = make_synthetic(
        dataset, str(tmp_path), img_size=(32, 16), **params)
    assert 'temporal_twins' not in result['params']
    assert tree_hash(result['dataset_dir']) == DEFAULT_HASHES[dataset]
    assert build_layout(dataset, **params).plan(0) == build_layout(
        dataset, temporal_twins=False, **params).plan(0)


@pytest.mark.parametrize('dataset, params', [('HITSZVCM', HITSZ),
                                             ('BUPTCampus', BUPT)])
def test_bad_options_are_errors(dataset, params):
    with pytest.raises(ValueError, match='even'):
        build_layout(
            dataset, temporal_twins=True, **dict(params, num_test_ids=3))
    with pytest.raises(ValueError, match="'reversed', 'shuffled'"):
        build_layout(dataset, temporal_twins='yes')
    even = {
        k: v + v % 2 if k.endswith('_ids') else v
        for k, v in params.items()
    }
    layout = build_layout(dataset, temporal_twins=True, **even)
    assert layout.params()['temporal_twins'] == 'reversed'


def test_twins_are_their_partners_played_backwards():
    layout = build_layout(
        'HITSZVCM',
        num_train_ids=4,
        num_test_ids=2,
        tracklets_per_modality=2,
        frames_per_tracklet=12,
        min_frames=6,
        temporal_twins=True)
    specs = layout.plan(1)
    tracks = {}
    for s in specs:
        tracks.setdefault((s.pid, s.track), []).append(s)
    for (pid, track), frames in tracks.items():
        first = pid in (1, 3, 5)  # 1..4 train, 5..6 test
        assert all((s.source is None) == first for s in frames)
        assert [s.index for s in frames] == list(range(len(frames)))
        if first:
            continue
        partner = tracks[(pid - 1, track)]
        assert [s.source for s in frames] == partner[::-1]
        for s, p in zip(frames, partner):
            assert (s.folder, s.role, s.cam, s.night) == (p.folder, p.role,
                                                          p.cam, p.night)
    assert {s.pid for s in specs} == set(range(1, 7))


def test_shuffled_twins_are_scrambled_copies():
    kwargs = dict(
        num_train_ids=2,
        num_test_ids=2,
        tracklets_per_modality=2,
        frames_per_tracklet=24,
        temporal_twins='shuffled')
    specs = build_layout('HITSZVCM', **kwargs).plan(0)
    assert specs == build_layout('HITSZVCM', **kwargs).plan(0)  # seeded
    tracks = {}
    for s in specs:
        tracks.setdefault((s.pid, s.track), []).append(s)
    orders = []
    for (pid, track), frames in tracks.items():
        if pid in (1, 3):
            continue
        partner = tracks[(pid - 1, track)]
        order = [partner.index(s.source) for s in frames]
        assert sorted(order) == list(range(24))  # every frame, once
        assert order not in (list(range(24)), list(range(23, -1, -1)))
        orders.append(order)
    assert len({tuple(o) for o in orders}) == len(orders)  # per tracklet


def test_twin_frame_order():
    assert twin_frame_order('reversed', 4) == [3, 2, 1, 0]
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 5):
        perm = twin_frame_order('shuffled', n, rng)
        assert sorted(perm) == list(range(n))
        if n >= 3:
            assert perm not in (list(range(n)), list(range(n))[::-1])
    with pytest.raises(ValueError, match='needs an rng'):
        twin_frame_order('shuffled', 4)
    with pytest.raises(ValueError, match='must be one of'):
        twin_frame_order('sorted', 4)


@pytest.fixture(scope='module')
def twin_vcm(tmp_path_factory):
    return make_synthetic(
        'HITSZVCM',
        str(tmp_path_factory.mktemp('twins')),
        img_size=(64, 32),
        num_train_ids=2,
        num_test_ids=2,
        tracklets_per_modality=1,
        frames_per_tracklet=12,
        temporal_twins=True)


def test_only_frame_order_separates_twins(twin_vcm):
    root = twin_vcm['dataset_dir']
    assert twin_vcm['params']['temporal_twins'] == 'reversed'
    test = HITSZVCM(data_root=root, split='test')
    infos = [test.get_data_info(i) for i in range(len(test))]
    by_key = {(d['pid'], d['modality']): d for d in infos}
    assert len(by_key) == len(infos) == 4
    for mod in ('vis', 'ir'):
        a = by_key[(3, mod)]['img_path'][mod]
        b = by_key[(4, mod)]['img_path'][mod]
        assert by_key[(3, mod)]['camid'] == by_key[(4, mod)]['camid']
        frames_a = np.stack([grey(p) for p in a])
        frames_b = np.stack([grey(p) for p in b])
        # the same frames: a per-frame model + temporal average cannot tell
        np.testing.assert_array_equal(frames_b, frames_a[::-1])
        np.testing.assert_array_equal(frames_a.mean(0), frames_b.mean(0))
        np.testing.assert_allclose(
            band_descriptor(a), band_descriptor(b), atol=1e-12)
        # in order they differ: the walk runs the other way
        motion_a = frames_a[-1] - frames_a[0]
        motion_b = frames_b[-1] - frames_b[0]
        assert np.abs(motion_a).mean() > 2  # grey levels: the walk moves
        np.testing.assert_array_equal(motion_b, -motion_a)
        # ... and the video pipeline keeps that order (test sampling)
        sample_a = SampleFrames(
            4,
            mode='chunk_first')(dict(img_path={mod: list(a)}))['img_path'][mod]
        sample_b = SampleFrames(
            4,
            mode='chunk_first')(dict(img_path={mod: list(b)}))['img_path'][mod]
        assert [a.index(p) for p in sample_a] == [0, 3, 6, 9]
        np.testing.assert_array_equal(
            np.stack([grey(p) for p in sample_b]), frames_a[[11, 8, 5, 2]])
        for _ in range(5):  # training sampling keeps the order too
            picked = SampleFrames(
                4, mode='chunk_random')(
                    dict(img_path={mod: list(b)}))['img_path'][mod]
            index = [b.index(p) for p in picked]
            assert index == sorted(index) and len(set(index)) == 4


def test_bupt_twins_keep_aligned_pairs(tmp_path):
    root = make_synthetic(
        'BUPTCampus',
        str(tmp_path),
        img_size=(64, 32),
        num_train_ids=2,
        num_auxiliary_ids=0,
        num_test_ids=2,
        cameras_per_id=2,
        frames_per_tracklet=6,
        temporal_twins=True)['dataset_dir']
    train = BUPTCampus(data_root=root, split='train')
    infos = [train.get_data_info(i) for i in range(len(train))]
    by_key = {(d['pid'], d['camid'], d['modality']): d for d in infos}
    pids = sorted({d['pid'] for d in infos})
    assert len(pids) == 2 and len(by_key) == len(infos) == 8
    for (pid, cam, mod), d in by_key.items():
        if pid != pids[1]:
            continue
        twin = [grey(p) for p in d['img_path'][mod]]
        partner = [
            grey(p) for p in by_key[(pids[0], cam, mod)]['img_path'][mod]
        ]
        np.testing.assert_array_equal(np.stack(twin), np.stack(partner[::-1]))
        assert not np.array_equal(twin[0], partner[0])


def _two_walks(world, track, first=(), second=()):
    """The walk of ``track`` (identity 1, camera 1) sampled twice from the
    same track-stream state, with ``sample_walk`` arguments ``first`` and
    ``second`` after ``(scene, img_size, rng)``."""
    rng = world.rng(Stream.TRACK, 1, 1, track)
    state = rng.bit_generator.state
    a = sample_walk(world.scene(1), (64, 32), rng, *first)
    rng.bit_generator.state = state
    return a, sample_walk(world.scene(1), (64, 32), rng, *second)


def test_walk_speed_scales_the_motion_only():
    """walk_speed multiplies drift, pan and growth of every walk and
    nothing else; 1.0 renders byte-identical frames and no manifest key."""
    plain = build_layout('HITSZVCM', **HITSZ)
    fast = build_layout('HITSZVCM', walk_speed=2.5, **HITSZ)
    assert 'walk_speed' not in plain.params()
    assert fast.params()['walk_speed'] == 2.5
    assert build_layout('HITSZVCM', walk_speed=1, **HITSZ).params() == \
        plain.params()
    world = SyntheticWorld(plain, 0, (64, 32))
    slow_walk, fast_walk = _two_walks(world, 1, second=(2.5, ))
    for field in dataclasses.fields(slow_walk):
        a, b = (getattr(w, field.name) for w in (slow_walk, fast_walk))
        if field.name in ('drift', 'pan', 'growth'):
            assert b == pytest.approx(2.5 * a)
        else:
            assert a == b, field.name
    fast_world = SyntheticWorld(fast, 0, (64, 32))
    assert fast_world.subject.walk_speed == 2.5
    spec = plain.plan(0)[-1]
    same = SyntheticWorld(
        build_layout('HITSZVCM', walk_speed=1.0, **HITSZ), 0, (64, 32))
    assert np.array_equal(
        world.render(spec)[0]['rgb'],
        same.render(spec)[0]['rgb'])
    with pytest.raises(ValueError, match='walk_speed'):
        build_layout('BUPTCampus', walk_speed=0, **BUPT)
    assert build_layout('BUPTCampus', walk_speed=3, **BUPT).subject_options \
        == dict(walk_speed=3.0)


def test_walk_view_and_facing_replace_the_drawn_ones():
    """walk_view / walk_facing fix every walk's view and facing (the pan
    follows the facing, growth the view); every other draw is kept."""
    layout = build_layout(
        'HITSZVCM', walk_view='side', walk_facing=-1, **HITSZ)
    assert layout.params()['walk_view'] == 'side'
    assert layout.params()['walk_facing'] == -1
    world = SyntheticWorld(layout, 0, (64, 32))
    assert (world.subject.walk_view, world.subject.walk_facing) == ('side', -1)
    plain = SyntheticWorld(build_layout('HITSZVCM', **HITSZ), 0, (64, 32))
    for track in range(1, 9):
        drawn, fixed = _two_walks(plain, track, second=(1.0, 'side', -1))
        assert (fixed.view, fixed.facing, fixed.growth) == ('side', -1, 0.)
        assert fixed.pan < 0 and fixed.drift < 0  # moving left
        assert abs(fixed.pan) == pytest.approx(abs(drawn.pan))
        assert (fixed.phase, fixed.bg_col,
                fixed.gain) == (drawn.phase, drawn.bg_col, drawn.gain)
    with pytest.raises(ValueError, match='walk_view'):
        build_layout('HITSZVCM', walk_view='top', **HITSZ)
    with pytest.raises(ValueError, match='walk_facing'):
        build_layout('BUPTCampus', walk_facing=2, **BUPT)


def test_walk_drift_moves_the_body_across_the_crop():
    """walk_drift replaces the drawn drift: the body starts at the band's
    entry edge and moves ``walk_drift * w`` per frame in the facing
    direction until the far edge; every other draw is kept."""
    layout = build_layout('HITSZVCM', walk_drift=0.05, **HITSZ)
    assert layout.params()['walk_drift'] == 0.05
    world = SyntheticWorld(layout, 0, (64, 32))
    assert world.subject.walk_drift == 0.05
    plain = SyntheticWorld(build_layout('HITSZVCM', **HITSZ), 0, (64, 32))
    identity = plain.identity(1)
    for facing, start in ((1, 0.3 * 32), (-1, 0.7 * 32)):
        drawn, walk = _two_walks(plain, 1, (1.0, 'side', facing),
                                 (2.0, 'side', facing, 0.05))
        assert walk.centre_x == pytest.approx(start)
        assert walk.drift == pytest.approx(facing * 0.05 * 32)  # no speed
        assert walk.pan == pytest.approx(2.0 * drawn.pan)
        assert (walk.phase, walk.bg_col,
                walk.scale) == (drawn.phase, drawn.bg_col, drawn.scale)
        xs = [
            walk_pose(identity, plain.scene(1), walk, f, (64, 32),
                      np.random.default_rng(f)).centre_x for f in range(12)
        ]
        steps = np.diff(xs[:6]) * facing  # 1.6 px per frame +- jitter
        assert np.all(steps > 0.6) and np.all(steps < 2.6)
        assert xs[-1] == pytest.approx(32 - start)  # stops at the far edge
    with pytest.raises(ValueError, match='walk_drift'):
        build_layout('BUPTCampus', walk_drift=0.5, **BUPT)
    with pytest.raises(ValueError, match='walk_drift'):
        build_layout('HITSZVCM', walk_drift=0, **HITSZ)
