# Copyright (c) mmreid_text contributors. All rights reserved.
"""evaluate_roc: TPR at FPR against sklearn's roc_curve, and by hand."""
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_curve

from mmreid_text.evaluation.functional import evaluate_roc, fpr_key
from mmreid_text.evaluation.protocols import MarketProtocol


def sklearn_tpr(distmat, q_pids, g_pids, keep, fprs):
    labels = (q_pids[:, None] == g_pids[None])[keep]
    fpr, tpr, _ = roc_curve(labels, -distmat[keep], drop_intermediate=False)
    return np.asarray([tpr[fpr <= f].max() for f in fprs])


def check_against_sklearn(distmat, q_pids, g_pids, q_cams, g_cams, keep, fprs,
                          **kwargs):
    """evaluate_roc equals sklearn on the pairs ``keep`` marks, and counts
    exactly those pairs."""
    result = evaluate_roc(
        distmat, q_pids, g_pids, q_cams, g_cams, fprs=fprs, **kwargs)
    np.testing.assert_allclose(
        result['tpr'], sklearn_tpr(distmat, q_pids, g_pids, keep, fprs))
    same = q_pids[:, None] == g_pids[None]
    assert result['num_positive'] == int((same & keep).sum())
    assert result['num_negative'] == int((~same & keep).sum())


@pytest.mark.parametrize('seed', range(6))
def test_equals_sklearn_with_ties_and_ignored_pairs(seed):
    rng = np.random.default_rng(seed)
    num_query, num_gallery = rng.integers(5, 40), rng.integers(20, 200)
    q_pids, g_pids = rng.integers(0, 8,
                                  num_query), rng.integers(0, 8, num_gallery)
    q_cams, g_cams = rng.integers(0, 3,
                                  num_query), rng.integers(0, 3, num_gallery)
    same = q_pids[:, None] == g_pids[None]
    # rounded: many exact ties, also between positives and negatives
    distmat = rng.random((num_query, num_gallery)).round(seed % 3 + 1)
    distmat -= 0.3 * same
    keep = ~(same & (q_cams[:, None] == g_cams[None]))  # market's ignore
    check_against_sklearn(
        distmat,
        q_pids,
        g_pids,
        q_cams,
        g_cams,
        keep,
        fprs=(1e-3, 1e-2, 0.05, 0.1, 0.5, 1.),
        memory_budget_mb=0.001)  # many query chunks


def test_by_hand():
    """One query; positives at 0.1 and 0.5, negatives at 0.2, 0.3, 0.4, 0.6.

    FPR 0.25 allows one of the four negatives: the threshold is the second
    smallest negative (0.3), the positive 0.1 is below it: TPR 1/2.  FPR
    0.2 allows none: threshold 0.2, TPR 1/2.  FPR 0.75 allows three:
    threshold 0.6, both positives: TPR 1.  The positive of the same camera
    (0.0) is ignored by the market protocol.
    """
    distmat = torch.tensor([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.0]])
    g_pids = [1, 2, 3, 4, 1, 5, 1]
    g_cams = [1, 1, 1, 1, 1, 1, 0]
    result = evaluate_roc(
        distmat, [1], g_pids, [0], g_cams, fprs=(0.2, 0.25, 0.75))
    np.testing.assert_allclose(result['tpr'], [0.5, 0.5, 1.])
    np.testing.assert_allclose(result['threshold'], [0.2, 0.3, 0.6])
    assert (result['num_positive'], result['num_negative']) == (2, 4)
    assert fpr_key(1e-4) == 'TPR@FPR=1e-04'


class TwoTrials(MarketProtocol):
    """The first and the second half of the gallery as two trials."""

    def gallery_trials(self, gallery):
        num = gallery['pid'].numel()
        return [torch.arange(num // 2), torch.arange(num // 2, num)]


def test_gallery_trials_are_averaged():
    rng = np.random.default_rng(7)
    distmat = rng.random((10, 40))
    q_pids, g_pids = rng.integers(0, 4, 10), rng.integers(0, 4, 40)
    q_cams, g_cams = np.zeros(10, int), np.ones(40, int)
    fprs = (0.1, 0.3)
    both = evaluate_roc(
        distmat,
        q_pids,
        g_pids,
        q_cams,
        g_cams,
        fprs=fprs,
        protocol=TwoTrials())
    halves = [
        evaluate_roc(
            distmat[:, cols],
            q_pids,
            g_pids[cols],
            q_cams,
            g_cams[cols],
            fprs=fprs)['tpr'] for cols in (slice(0, 20), slice(20, 40))
    ]
    np.testing.assert_allclose(both['tpr'], np.mean(halves, 0))
    np.testing.assert_allclose(both['tpr_std'], np.std(halves, 0))
    assert both['num_trials'] == 2


def test_errors():
    with pytest.raises(ValueError, match=r'\(0, 1\]'):
        evaluate_roc(np.ones((1, 2)), [0], [0, 1], [0], [1, 1], fprs=(0., ))
    with pytest.raises(ValueError, match='0 positive'):
        evaluate_roc(np.ones((1, 2)), [0], [1, 2], [0], [1, 1])
    with pytest.raises(ValueError, match='NaN'):
        evaluate_roc(np.full((1, 2), np.nan), [0], [0, 1], [0], [1, 1])


class IgnoreCameraTwo(MarketProtocol):
    """Ignores every gallery entry of camera 2, whatever its identity (as
    SYSU-MM01 drops camera 2 for camera-3 queries)."""

    def ignore_mask(self, query, gallery):
        return (gallery['camid'] == 2)[None].expand(len(query['pid']), -1)


def test_ignored_negative_pairs_are_not_counted():
    rng = np.random.default_rng(3)
    distmat = rng.random((12, 60))
    q_pids, g_pids = rng.integers(0, 5, 12), rng.integers(0, 5, 60)
    q_cams, g_cams = rng.integers(0, 3, 12), rng.integers(0, 3, 60)
    distmat[:, g_cams == 2] = 0.  # would be accepted first if counted
    keep = np.broadcast_to(g_cams[None] != 2, distmat.shape)
    check_against_sklearn(
        distmat,
        q_pids,
        g_pids,
        q_cams,
        g_cams,
        keep,
        fprs=(0.05, 0.2),
        protocol=IgnoreCameraTwo())
