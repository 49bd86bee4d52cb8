# Copyright (c) mmreid_text contributors. All rights reserved.
"""Protocol registry, the msvr310 rule and the plug-in interface."""
import numpy as np
import pytest
import torch

from mmreid_text.evaluation import (BaseReIDProtocol, MarketProtocol,
                                    MSVR310Protocol, build_protocol,
                                    evaluate_rank)
from mmreid_text.registry import REID_PROTOCOLS


def test_registry_and_build():
    assert {'market', 'msvr310'} <= set(REID_PROTOCOLS.module_dict)
    assert isinstance(build_protocol('market'), MarketProtocol)
    assert isinstance(build_protocol(dict(type='msvr310')), MSVR310Protocol)
    same = MarketProtocol()
    assert build_protocol(same) is same
    keyed = build_protocol(dict(type='same_pid_same_key', key='scene_id'))
    assert keyed.required_keys == ('scene_id', )
    with pytest.raises(KeyError, match="Registered protocols: .*'market'"):
        build_protocol('sysu_not_here')
    with pytest.raises(TypeError, match='registered name'):
        build_protocol(3)


def test_ignore_masks():
    query = dict(
        pid=torch.tensor([1, 2]),
        camid=torch.tensor([0, 1]),
        scene_id=torch.tensor([5, 6]))
    gallery = dict(
        pid=torch.tensor([1, 1, 2, 3]),
        camid=torch.tensor([0, 1, 1, 1]),
        scene_id=torch.tensor([6, 5, 6, 6]))
    market = MarketProtocol().ignore_mask(query, gallery)
    msvr = MSVR310Protocol().ignore_mask(query, gallery)
    assert market.dtype == torch.bool and market.shape == (2, 4)
    assert market.tolist() == [[True, False, False, False],
                               [False, False, True, False]]
    assert msvr.tolist() == [[False, True, False, False],
                             [False, False, True, False]]


def test_msvr310_hand_made_case():
    # query: pid 7, scene 1, camera 0
    # gallery      pid  scene camera   distance   market   msvr310
    #  0            7     1     3        0.1      pos      ignored
    #  1            9     1     0        0.2      neg      neg
    #  2            7     2     0        0.3      ignored  pos
    #  3            8     2     2        0.4      neg      neg
    #  4            7     3     1        0.5      pos      pos
    g_pids = np.array([7, 9, 7, 8, 7])
    g_scenes = np.array([1, 1, 2, 2, 3])
    g_camids = np.array([3, 0, 0, 2, 1])
    distmat = np.array([[0.1, 0.2, 0.3, 0.4, 0.5]])
    msvr = evaluate_rank(
        distmat, [7],
        g_pids,
        max_rank=4,
        protocol='msvr310',
        query_meta=dict(scene_id=[1]),
        gallery_meta=dict(scene_id=g_scenes))
    # kept: g1- g2+ g3- g4+  -> positives at ranks 2 and 4
    assert msvr['mAP'] == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert msvr['mINP'] == pytest.approx(2 / 4)
    np.testing.assert_allclose(msvr['cmc'], [0, 1, 1, 1])
    market = evaluate_rank(distmat, [7], g_pids, [0], g_camids, 4)
    # kept: g0+ g1- g3- g4+  -> positives at ranks 1 and 4
    assert market['mAP'] == pytest.approx((1 + 2 / 4) / 2)
    np.testing.assert_allclose(market['cmc'], [1, 1, 1, 1])
    # camera ids may be given but are not used by msvr310
    with_cams = evaluate_rank(
        distmat, [7],
        g_pids, [0],
        g_camids,
        4,
        protocol=dict(type='msvr310'),
        query_meta=dict(scene_id=[1]),
        gallery_meta=dict(scene_id=g_scenes))
    assert with_cams['mAP'] == pytest.approx(msvr['mAP'])


def test_msvr310_needs_scene_ids():
    with pytest.raises(KeyError, match=r"\['scene_id'\]"):
        evaluate_rank(
            np.ones((1, 2)), [1], [1, 2], [0], [1, 1], protocol='msvr310')


class _KeepEverything(BaseReIDProtocol):
    """Test plug-in: nothing is ignored (BUPTCampus-like)."""

    def ignore_mask(self, query, gallery):
        return torch.zeros(
            len(query['pid']),
            len(gallery['pid']),
            dtype=torch.bool,
            device=query['pid'].device)


def test_plugin_protocol_through_the_registry():
    REID_PROTOCOLS.register_module(
        name='_test_keep_everything', module=_KeepEverything, force=True)
    distmat = np.array([[0.1, 0.2, 0.3]])
    out = evaluate_rank(
        distmat, [1], [1, 2, 1], max_rank=3, protocol='_test_keep_everything')
    assert out['mAP'] == pytest.approx((1 + 2 / 3) / 2)
    assert out['mINP'] == pytest.approx(2 / 3)


def test_identity_level_and_trial_hooks_are_scored():
    """The two SYSU hooks of BaseReIDProtocol (cmc_level='identity',
    gallery_trials) are implemented by the core; the full checks are in
    test_sysu_protocol.py."""

    class IdentityLevel(_KeepEverything):
        cmc_level = 'identity'

    class Trials(_KeepEverything):

        def gallery_trials(self, gallery):
            return [torch.tensor([0, 2]), torch.tensor([1, 2])]

    class WrongMask(_KeepEverything):

        def ignore_mask(self, query, gallery):
            return torch.zeros(1, dtype=torch.bool)

    # ranking: pid 2, pid 2, pid 1 -> image-level first hit at rank 3,
    # identity-level at rank 2 (pid 2 counted once)
    distmat = np.array([[0.3, 0.1, 0.2]])
    image = evaluate_rank(
        distmat, [1], [1, 2, 2], max_rank=3, protocol=_KeepEverything())
    identity = evaluate_rank(
        distmat, [1], [1, 2, 2], max_rank=3, protocol=IdentityLevel())
    np.testing.assert_allclose(image['cmc'], [0, 0, 1])
    np.testing.assert_allclose(identity['cmc'], [0, 1, 1])
    assert identity['mAP'] == pytest.approx(image['mAP'])
    # trial 0 = columns (0, 2): pid 2, pid 1 -> AP 1/2; trial 1 = (1, 2):
    # no positive -> no valid query in trial 1: an error naming the trial
    with pytest.raises(ValueError, match='gallery trial 1'):
        evaluate_rank(distmat, [1], [1, 2, 2], protocol=Trials())
    trials = evaluate_rank(
        distmat, [1], [1, 2, 1], max_rank=2, protocol=Trials())
    # trial 0: [0.3 (pid 1), 0.2 (pid 1)] -> AP 1; trial 1: [0.1 (pid 2),
    # 0.2 (pid 1)] -> AP 1/2
    assert trials['mAP'] == pytest.approx(0.75)
    assert trials['mAP_std'] == pytest.approx(0.25)
    np.testing.assert_allclose(trials['cmc'], [0.5, 1])
    assert [t['num_gallery'] for t in trials['trials']] == [2, 2]
    with pytest.raises(ValueError, match='ignore_mask returned'):
        evaluate_rank(distmat, [1], [1, 2, 1], protocol=WrongMask())
