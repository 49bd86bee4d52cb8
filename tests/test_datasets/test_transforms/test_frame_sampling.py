# Copyright (c) mmreid_text contributors. All rights reserved.
import copy

import numpy as np
import pytest
from mmengine.runner import set_random_seed

from mmreid_text.datasets.transforms import SampleFrames

T = 6

# Hand-computed from the public loaders (see the SampleFrames docstring).
CHUNK_FIRST = {
    24: [0, 4, 8, 12, 16, 20],  # c = 4
    13: [0, 3, 6, 9, 12, 12],  # c = 3, padded with frame 12
    6: [0, 1, 2, 3, 4, 5],  # c = 1
    4: [0, 1, 2, 3, 3, 3],  # n < T: pad with the last frame
    1: [0, 0, 0, 0, 0, 0],
}
# chunk s of every tracklet length (the frames chunk_random may pick)
CHUNKS = {
    24: [{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}, {12, 13, 14, 15},
         {16, 17, 18, 19}, {20, 21, 22, 23}],
    13: [{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {9, 10, 11}, {12}, {12}],
    6: [{0}, {1}, {2}, {3}, {4}, {5}],
    4: [{0}, {1}, {2}, {3}, {3}, {3}],
    1: [{0}] * 6,
}
UNIFORM = {
    24: [0, 4, 8, 12, 16, 20],
    13: [0, 2, 4, 6, 8, 10],  # floor(s * 13 / 6)
    6: [0, 1, 2, 3, 4, 5],
    4: [0, 0, 1, 2, 2, 3],  # floor(s * 4 / 6)
    1: [0, 0, 0, 0, 0, 0],
}


def _results(n, modalities=('ir', )):
    return dict(
        img_path={
            m: [f'/d/{m}/{i:03d}.jpg' for i in range(n)]
            for m in modalities
        },
        rel_img_path={
            m: [f'{m}/{i:03d}.jpg' for i in range(n)]
            for m in modalities
        },
        modalities=modalities,
        modality=modalities[0] if len(modalities) == 1 else None,
        sample_idx=5)


@pytest.mark.parametrize('n', sorted(CHUNK_FIRST))
def test_deterministic_modes_match_hand_computed_indices(n):
    for mode, table in (('chunk_first', CHUNK_FIRST), ('uniform', UNIFORM)):
        res = SampleFrames(num_frames=T, mode=mode)(_results(n))
        assert res['frame_inds'] == table[n], mode
        assert res['img_path']['ir'] == [
            f'/d/ir/{i:03d}.jpg' for i in table[n]
        ]
        assert res['num_frames'] == T and res['num_frames_total'] == n


@pytest.mark.parametrize('n', sorted(CHUNKS))
def test_chunk_random_picks_one_frame_per_chunk(n):
    t = SampleFrames(num_frames=T, mode='chunk_random')
    np.random.seed(0)
    seen = [set() for _ in range(T)]
    for _ in range(200):
        inds = t(_results(n))['frame_inds']
        for s, i in enumerate(inds):
            assert i in CHUNKS[n][s]
            seen[s].add(i)
    assert seen == CHUNKS[n]  # every frame of a chunk is reachable


def test_chunk_random_uses_the_public_draw():
    # MITML/VLD: offsets = np.random.choice(c, T); frame = s * c + offset
    np.random.seed(7)
    inds = SampleFrames(T, 'chunk_random')(_results(24))['frame_inds']
    offsets = np.random.RandomState(7).choice(4, T)
    assert inds == [4 * s + int(o) for s, o in enumerate(offsets)]


@pytest.mark.parametrize('n', [24, 13, 6, 4, 1])
def test_random_sorted(n):
    t = SampleFrames(num_frames=T, mode='random_sorted')
    np.random.seed(3)
    inds = t(_results(n))['frame_inds']
    expect = sorted(np.random.RandomState(3).choice(n, T, replace=n < T))
    assert inds == [int(i) for i in expect]
    assert inds == sorted(inds) and len(inds) == T
    assert all(0 <= i < n for i in inds)
    if n >= T:  # without replacement when the tracklet is long enough
        assert len(set(inds)) == T
    if n == 6:
        assert inds == [0, 1, 2, 3, 4, 5]
    if n == 1:
        assert inds == [0] * T


def test_seeding_reproduces_the_draws():
    t = SampleFrames(num_frames=T, mode='chunk_random')
    draws = []
    for _ in range(2):
        set_random_seed(11)
        draws.append([t(_results(24))['frame_inds'] for _ in range(5)])
    assert draws[0] == draws[1]
    assert len({tuple(d) for d in draws[0]}) > 1


def test_aligned_modalities_share_indices_and_input_is_not_mutated():
    res = _results(13, modalities=('vis', 'ir'))
    original = copy.deepcopy(res)
    stored_paths = res['img_path']
    out = SampleFrames(num_frames=4, mode='chunk_first')(res)
    # n = 13, T = 4: c = 4 -> first frames 0, 4, 8, 12
    assert out['frame_inds'] == [0, 4, 8, 12]
    for m in ('vis', 'ir'):
        assert out['img_path'][m] == [
            f'/d/{m}/{i:03d}.jpg' for i in (0, 4, 8, 12)
        ]
    assert out['rel_img_path'] == original['rel_img_path']
    assert stored_paths == original['img_path']  # the dataset's dict


def test_single_path_is_a_one_frame_tracklet_and_total_is_kept():
    res = dict(img_path={'vis': '/d/a.jpg'}, modalities=('vis', ))
    out = SampleFrames(num_frames=3, mode='uniform')(res)
    assert out['img_path']['vis'] == ['/d/a.jpg'] * 3
    assert out['frame_inds'] == [0, 0, 0]
    assert out['num_frames_total'] == 1
    # a total the dataset set is kept, not replaced by the list length
    res = dict(_results(4), num_frames_total=9)
    assert SampleFrames(num_frames=2)(res)['num_frames_total'] == 9


def test_bad_input_is_explained():
    with pytest.raises(ValueError, match='unknown mode'):
        SampleFrames(mode='evenly')
    with pytest.raises(ValueError, match='positive'):
        SampleFrames(num_frames=0)
    with pytest.raises(ValueError, match='no frame'):
        SampleFrames()(_results(0))
    res = _results(5, modalities=('vis', 'ir'))
    res['img_path']['ir'] = res['img_path']['ir'][:4]
    with pytest.raises(ValueError, match='different frame counts'):
        SampleFrames()(res)
    with pytest.raises(KeyError, match='SampleFrames first'):
        SampleFrames()(dict(img_path='/d/a.jpg'))
    assert "mode='uniform'" in repr(SampleFrames(4, 'uniform'))


def test_only_the_sample_modalities_are_sampled_and_all_must_exist():
    # paths of two modalities, the sample names one: the other is kept
    res = _results(6, modalities=('vis', 'ir'))
    res['modalities'] = ('ir', )
    out = SampleFrames(num_frames=2, mode='chunk_first')(res)
    assert out['img_path']['ir'] == ['/d/ir/000.jpg', '/d/ir/003.jpg']
    assert len(out['img_path']['vis']) == 6
    res = _results(6)
    res['modalities'] = ('ir', 'vis')
    with pytest.raises(
            KeyError, match=r"no frame list for modalities \['vis'"):
        SampleFrames(num_frames=2)(res)


def test_one_frame_per_tracklet():
    for mode in SampleFrames.MODES:
        out = SampleFrames(num_frames=1, mode=mode)(_results(5))
        assert len(out['img_path']['ir']) == 1 and out['num_frames'] == 1
