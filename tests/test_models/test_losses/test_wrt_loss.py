# Copyright (c) mmreid_text contributors. All rights reserved.
"""WRT loss (AGW; VLD Eq. 4 / 13) on hand-computed values."""
import math

import pytest
import torch

from mmreid_text.models.losses import WRTLoss

# 1-D features 0, 1, 3, 7; ids 0, 0, 1, 1 -> d01=1 d02=3 d03=7 d12=2 d13=6
# d23=4
FEATS = torch.tensor([[0.], [1.], [3.], [7.]])
LABELS = torch.tensor([0, 0, 1, 1])
DIST = [[0, 1, 3, 7], [1, 0, 2, 6], [3, 2, 0, 4], [7, 6, 4, 0]]


def _softplus(x):
    return math.log1p(math.exp(x))


def _weighted(values, sign):
    weights = [math.exp(sign * v) for v in values]
    return sum(w * v for w, v in zip(weights, values)) / sum(weights)


def _hand(include_self):
    total = 0.
    for i in range(4):
        pos = [
            DIST[i][j] for j in range(4)
            if LABELS[j] == LABELS[i] and (include_self or j != i)
        ]
        neg = [DIST[i][k] for k in range(4) if LABELS[k] != LABELS[i]]
        total += _softplus(_weighted(pos, 1) - _weighted(neg, -1))
    return total / 4


def test_wrt_by_hand_with_self_as_positive():
    # anchor 0: positives {0, 1}: w = (1, e) / (1 + e) -> e / (1 + e)
    e = math.e
    far = e / (1 + e)
    close = (3 * e**-3 + 7 * e**-7) / (e**-3 + e**-7)
    assert abs(far - _weighted([0, 1], 1)) < 1e-12
    assert abs(close - _weighted([3, 7], -1)) < 1e-12
    loss = WRTLoss()(FEATS, LABELS)
    torch.testing.assert_close(
        loss, torch.tensor(_hand(True)), atol=1e-5, rtol=1e-5)


def test_wrt_by_hand_without_self():
    # one other positive per anchor: its distance with weight 1
    expected = (_softplus(1 - _weighted([3, 7], -1)) +
                _softplus(1 - _weighted([2, 6], -1)) +
                _softplus(4 - _weighted([3, 2], -1)) +
                _softplus(4 - _weighted([7, 6], -1))) / 4
    assert abs(expected - _hand(False)) < 1e-12
    loss = WRTLoss(include_self=False)(FEATS, LABELS)
    torch.testing.assert_close(
        loss, torch.tensor(expected), atol=1e-5, rtol=1e-5)


def test_wrt_gradient_and_edge_cases():
    feats = FEATS.clone().requires_grad_()
    WRTLoss()(feats, LABELS).backward()
    assert torch.isfinite(feats.grad).all() and feats.grad.abs().sum() > 0
    # one identity only: no negative -> 0 with a gradient path
    single = WRTLoss()(feats, torch.zeros(4, dtype=torch.long))
    assert float(single.detach()) == 0 and single.requires_grad
    # normalised features: all on the unit sphere
    loss = WRTLoss(normalize_feature=True)(torch.tensor([[1., 0.], [2., 0.],
                                                         [0., 1.], [0., 3.]]),
                                           LABELS)
    # d(p) = 0 within ids, d(n) = sqrt(2) everywhere -> softplus(-sqrt 2)
    torch.testing.assert_close(
        loss, torch.tensor(_softplus(-math.sqrt(2))), atol=1e-5, rtol=1e-5)
    # one modality slot [B, 1, D] is the same as [B, D]
    torch.testing.assert_close(WRTLoss()(FEATS[:, None], LABELS),
                               WRTLoss()(FEATS, LABELS))
    with pytest.raises(ValueError, match=r'\[B, D\]'):
        WRTLoss()(torch.zeros(4, 1, 2, 2), LABELS)


def test_anchors_without_another_positive_are_left_out():
    # ids 0, 0, 1, 2: without self, anchors 2 and 3 have no positive and
    # are left out of the mean; with self every anchor counts
    labels = torch.tensor([0, 0, 1, 2])
    expected = (_softplus(1 - _weighted([3, 7], -1)) +
                _softplus(1 - _weighted([2, 6], -1))) / 2
    loss = WRTLoss(include_self=False)(FEATS, labels)
    torch.testing.assert_close(
        loss, torch.tensor(expected), atol=1e-5, rtol=1e-5)
    # no anchor with another positive at all: 0 with a gradient path
    feats = FEATS.clone().requires_grad_()
    none = WRTLoss(include_self=False)(feats, torch.arange(4))
    assert float(none.detach()) == 0 and none.requires_grad


def test_modality_slots_are_concatenated_not_averaged():
    # [B, 2, 1]: slot 2 doubles slot 1, so the concatenation [x, 2x] has
    # distances sqrt(5) times those of x; an average (1.5 x) would not
    feats = torch.cat([FEATS, 2 * FEATS], dim=1)[:, :, None]
    torch.testing.assert_close(
        WRTLoss()(feats, LABELS),
        WRTLoss()(math.sqrt(5) * FEATS, LABELS),
        atol=1e-5,
        rtol=1e-5)
