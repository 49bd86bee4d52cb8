# Copyright (c) mmreid_text contributors. All rights reserved.
from collections import Counter
from unittest import mock

import numpy as np
import pytest
from mmengine.dataset import Compose

from mmreid_text.datasets.transforms import (BroadcastToModalities,
                                             ChannelAdaptiveGray,
                                             ChannelExchange,
                                             ChannelRandomErasing)
from mmreid_text.utils import register_all_modules

register_all_modules()

T = 5


def _frames(num=T, h=4, w=2):
    """Frame t: R = 10 + t, G = 100 + t, B = 200 + t (constant)."""
    out = []
    for t in range(num):
        img = np.empty((h, w, 3), np.uint8)
        img[..., 0], img[..., 1], img[..., 2] = 10 + t, 100 + t, 200 + t
        out.append(img)
    return out


def _tracklet(modality='vis', num=T):
    return dict(
        img=_frames(num),
        modalities=(modality, ),
        modality=modality,
        num_frames=num,
        sample_idx=0)


def _gray(t):
    return int(
        np.rint(0.2989 * (10 + t) + 0.5870 * (100 + t) + 0.1140 * (200 + t)))


def _decision(imgs):
    """Which choice was applied, checked identical on every frame."""
    kinds = []
    for t, img in enumerate(imgs):
        r, g, b = (int(img[0, 0, c]) for c in range(3))
        assert (img == img[0, 0]).all()
        if (r, g, b) == (10 + t, 100 + t, 200 + t):
            kinds.append('none')
        elif r == g == b == 10 + t:
            kinds.append('R')
        elif r == g == b == 100 + t:
            kinds.append('G')
        elif r == g == b == 200 + t:
            kinds.append('B')
        elif r == g == b == _gray(t):
            kinds.append('gray')
        else:
            raise AssertionError(f'unexpected pixel {(r, g, b)} frame {t}')
    assert len(set(kinds)) == 1, kinds  # one decision per tracklet
    return kinds[0]


def test_gray_value_is_hand_computed():
    # 0.2989 * 10 + 0.5870 * 100 + 0.1140 * 200 = 84.489
    assert _gray(0) == 84
    np.random.seed(0)
    t = ChannelExchange(gray=3, prob=1.0)
    kinds = {_decision(t(_tracklet())['img']) for _ in range(60)}
    assert kinds == {'R', 'G', 'B', 'gray'}


def test_channel_exchange_one_choice_per_tracklet_with_public_odds():
    np.random.seed(1)
    t = ChannelExchange()  # gray=2, prob=0.5, modalities=('vis',)
    counts = Counter(_decision(t(_tracklet())['img']) for _ in range(1200))
    # plain 1/2; R, G, B 1/6 each; gray=2 never greys
    assert set(counts) == {'none', 'R', 'G', 'B'}
    assert abs(counts['none'] / 1200 - 0.5) < 0.05
    for k in 'RGB':
        assert abs(counts[k] / 1200 - 1 / 6) < 0.04


def test_channel_adaptive_gray_odds():
    np.random.seed(2)
    t = ChannelAdaptiveGray()  # gray_prob=0.5, modalities=('ir',)
    counts = Counter(_decision(t(_tracklet('ir'))['img']) for _ in range(1600))
    for k in 'RGB':
        assert abs(counts[k] / 1600 - 0.25) < 0.04
    assert abs(counts['gray'] / 1600 - 0.125) < 0.03
    assert abs(counts['none'] / 1600 - 0.125) < 0.03


def test_gray_prob_is_the_chance_of_grey_at_idx_3():
    np.random.seed(3)
    t = ChannelAdaptiveGray(gray_prob=0.8)
    counts = Counter(_decision(t(_tracklet('ir'))['img']) for _ in range(1600))
    # idx 3 (1/4): grey 0.8 of it, unchanged 0.2 of it
    assert abs(counts['gray'] / 1600 - 0.2) < 0.03
    assert abs(counts['none'] / 1600 - 0.05) < 0.02


def test_bgr_images_weigh_their_channels_in_reverse():
    # channel 0 is B: 0.1140 * 10 + 0.5870 * 100 + 0.2989 * 200 = 119.62
    cases = [(ChannelExchange(prob=1.0, gray=3,
                              channel_order='bgr'), 'vis', 3),
             (ChannelAdaptiveGray(channel_order='bgr'), 'ir', 'gray')]
    for transform, modality, grey in cases:
        with mock.patch.object(type(transform), '_draw', return_value=grey):
            img = transform(_tracklet(modality))['img'][0]
        assert (img == 120).all(), type(transform).__name__


def test_modality_filter():
    np.random.seed(3)
    ir = _tracklet('ir')
    for _ in range(10):
        assert _decision(ChannelExchange(prob=1.0)(dict(ir))['img']) == 'none'
        assert _decision(
            ChannelAdaptiveGray(gray_prob=1.0)(
                _tracklet('vis'))['img']) == 'none'
    # a two-modality list: only the vis frames change, all the same way
    res = dict(
        img=_frames(2) + _frames(2), modalities=('vis', 'ir'), num_frames=2)
    out = ChannelExchange(prob=1.0)(res)['img']
    assert _decision(out[:2]) in ('R', 'G', 'B')
    assert _decision(out[2:]) == 'none'


def test_a_single_image_is_changed_only_for_a_target_modality():
    # inside BroadcastToModalities each call sees one ndarray image
    for modality, expected in (('vis', {'R', 'G', 'B'}), ('ir', {'none'})):
        res = dict(
            img=_frames(1)[0], modalities=(modality, ), modality=modality)
        kinds = {
            _decision([ChannelExchange(prob=1.0)(dict(res))['img']])
            for _ in range(12)
        }
        assert kinds <= expected and kinds, (modality, kinds)
    # modalities=None: every image is a target
    res = dict(img=_frames(1)[0], modalities=('ir', ), modality='ir')
    out = ChannelExchange(prob=1.0, modalities=None)(res)['img']
    assert _decision([out]) in ('R', 'G', 'B')


def test_random_erasing_refuses_images_smaller_than_the_box():
    # the box fits the first image; a later one is shorter or narrower
    t = ChannelRandomErasing(prob=1.0)
    for shape in ((4, 10, 3), (12, 4, 3)):
        imgs = [np.zeros((12, 10, 3), np.uint8), np.zeros(shape, np.uint8)]
        res = dict(img=imgs, modalities=('ir', ), modality='ir')
        with mock.patch.object(type(t), '_draw', return_value=(3, 3, 4, 4)):
            with pytest.raises(ValueError, match='different sizes'):
                t(res)


def test_inside_broadcast_the_decision_is_shared():
    np.random.seed(4)
    pipe = BroadcastToModalities(transforms=[
        dict(type='ChannelExchange', gray=3, prob=1.0),
        dict(type='ChannelRandomErasing', prob=1.0),
    ])
    kinds = set()
    for _ in range(20):
        out = pipe(_tracklet())['img']
        # the erased box is the same on every frame ...
        masks = [(img == (152, 144, 129)).all(-1) for img in out]
        assert all((m == masks[0]).all() for m in masks)
        # ... and so is the channel choice outside it
        keep = ~masks[0]
        if keep.any():
            kinds.add(_decision([img[keep][:, None] for img in out]))
    assert len(kinds) > 1
    # a multi-modality sample: an image's modality is unknown inside
    res = dict(
        img=_frames(2) + _frames(2), modalities=('vis', 'ir'), num_frames=2)
    with pytest.raises(ValueError, match='after BroadcastToModalities'):
        BroadcastToModalities(
            transforms=[dict(type='ChannelExchange', prob=1.0)])(
                res)


def test_random_erasing_draw_is_the_public_one():
    """H=12, W=10. Attempt 1: area 0.4 * 120 = 48, aspect 3.3 -> h =
    round(sqrt(158.4)) = 13 >= 12, redrawn. Attempt 2: area 0.2 * 120 = 24,
    aspect 2 -> h = round(sqrt(48)) = 7, w = round(sqrt(12)) = 3; top from
    U{0..12-7}, left from U{0..10-3}."""
    frames = [np.full((12, 10, 3), 7 * (t + 1), np.uint8) for t in range(3)]
    res = dict(img=frames, modalities=('ir', ), modality='ir', num_frames=3)
    with mock.patch.object(np.random, 'rand', return_value=0.1), \
            mock.patch.object(np.random, 'uniform',
                              side_effect=[0.4, 3.3, 0.2, 2.0]), \
            mock.patch.object(np.random, 'randint',
                              side_effect=[4, 6]) as randint:
        out = ChannelRandomErasing()(res)['img']
    assert [c.args for c in randint.call_args_list] == [(0, 6), (0, 8)]
    box = np.zeros((12, 10), bool)
    box[4:11, 6:9] = True
    for t, img in enumerate(out):
        np.testing.assert_array_equal(img[box],
                                      np.tile([152, 144, 129], (21, 1)))
        assert (img[~box] == 7 * (t + 1)).all()


def test_random_erasing_aspect_is_uniform_not_log_uniform():
    # uniform aspect in [0.3, 1/0.3]: P(h > w) = (1/0.3 - 1) / (1/0.3 - 0.3)
    # = 0.77; mmpretrain's log-uniform draw would give 0.5.
    np.random.seed(5)
    t = ChannelRandomErasing(prob=1.0)
    tall = wide = 0
    for _ in range(600):
        top, left, h, w = t._draw((400, 400))
        assert h < 400 and w < 400
        tall += h > w
        wide += w > h
    assert abs(tall / (tall + wide) - 0.77) < 0.05


def test_arguments_are_checked():
    with pytest.raises(ValueError, match='gray'):
        ChannelExchange(gray=1)
    with pytest.raises(ValueError, match='prob'):
        ChannelExchange(prob=1.5)
    for gray_prob in (-0.1, 1.01):
        with pytest.raises(ValueError, match='gray_prob'):
            ChannelAdaptiveGray(gray_prob=gray_prob)
    with pytest.raises(ValueError, match='sl <= sh'):
        ChannelRandomErasing(sl=0.5, sh=0.1)
    for bad in (dict(prob=1.01), dict(sl=0.0), dict(sl=0.5, sh=0.4),
                dict(sh=1.01), dict(r1=0.0), dict(r1=1.01)):
        with pytest.raises(ValueError, match='^ChannelRandomErasing'):
            ChannelRandomErasing(**bad)
    # the closed ends of every range are valid
    ChannelRandomErasing(prob=0.0, sl=0.4, sh=0.4, r1=1.0)
    ChannelRandomErasing(prob=1.0, sl=0.1, sh=1.0)
    ChannelExchange(prob=0.0)
    ChannelAdaptiveGray(gray_prob=0.0)
    assert 'modalities=' in repr(ChannelExchange())
    res = _tracklet()
    res.pop('modality')
    res.pop('modalities')
    with pytest.raises(KeyError, match='modality'):
        ChannelExchange(prob=1.0)(res)
    # a pipeline built from config dicts
    pipe = Compose([dict(type='ChannelAdaptiveGray', modalities='ir')])
    assert _decision(pipe(_tracklet('vis'))['img']) == 'none'


def test_random_erasing_modality_filter():
    # modalities=('vis', ): an infrared tracklet is never erased
    np.random.seed(6)
    t = ChannelRandomErasing(prob=1.0, modalities=('vis', ))
    for _ in range(5):
        assert _decision(t(_tracklet('ir'))['img']) == 'none'
    erased = t(_tracklet('vis'))['img'][0]
    assert (erased == (152, 144, 129)).all(-1).any()
