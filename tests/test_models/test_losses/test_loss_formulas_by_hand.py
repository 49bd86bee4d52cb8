# Copyright (c) mmreid_text contributors. All rights reserved.
"""Loss formulas on asymmetric random cases, against explicit loops.

Added after mutation testing (docs/benchmarks.md): the symmetric cases of
test_supcon_loss.py give the same value when the positive mask is
inverted (``!=`` for ``==``) and the normalisation axis was untested.
"""
import math

import pytest
import torch
import torch.nn.functional as F

from mmreid_text.models.losses.supcon_loss import (SupConLoss,
                                                   supervised_contrastive)
from mmreid_text.models.losses.triplet_loss import TripletLoss

LABELS = torch.tensor([3, 3, 8, 3, 9, 8])


def _case(seed=0, shape=(6, 5)):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape,
                        generator=gen), torch.randn(*shape, generator=gen))


def _supcon_loop(anchors, contrasts, labels, temperature):
    """``-mean_i mean_{j: y_j = y_i} log softmax_k(a_i . c_k / T)_j``."""
    total = 0.0
    for i in range(len(labels)):
        row = [
            float(anchors[i] @ contrasts[k]) / temperature
            for k in range(len(labels))
        ]
        lse = math.log(sum(math.exp(v) for v in row))
        positives = [j for j in range(len(labels)) if labels[j] == labels[i]]
        total -= sum(row[j] - lse for j in positives) / len(positives)
    return total / len(labels)


@pytest.mark.parametrize('temperature', [1.0, 0.3])
def test_supervised_contrastive_by_loops(temperature):
    """Catches an inverted positive mask, a column-wise log-softmax
    (``keepdim`` dropped) or the temperature applied the wrong way."""
    feats, text = _case()
    value = supervised_contrastive(feats, text, LABELS, temperature)
    assert value.item() == pytest.approx(
        _supcon_loop(feats, text, LABELS, temperature), rel=1e-5)


def test_supcon_loss_normalises_the_feature_axis():
    """``normalize=True`` is cosine similarity: each ``[D]`` vector of the
    ``[B, M, D]`` inputs has unit norm (M != D, so another axis fails);
    the loss is the mean over spectra of f2t + t2f."""
    feats, text = _case(shape=(6, 2, 5))
    loss = SupConLoss(normalize=True, temperature=0.5)(feats, text, LABELS)
    expected = 0.0
    for m in range(2):
        f = feats[:, m] / feats[:, m].norm(dim=1, keepdim=True)
        t = text[:, m] / text[:, m].norm(dim=1, keepdim=True)
        expected += (
            _supcon_loop(f, t, LABELS, 0.5) + _supcon_loop(t, f, LABELS, 0.5))
    assert loss.item() == pytest.approx(expected / 2, rel=1e-5)


def _triplet_loop(feats, labels, margin):
    dist = torch.cdist(feats, feats)
    terms = []
    for i in range(len(labels)):
        pos = [
            dist[i, j] for j in range(len(labels))
            if j != i and labels[j] == labels[i]
        ]
        neg = [
            dist[i, j] for j in range(len(labels)) if labels[j] != labels[i]
        ]
        if pos and neg:
            terms.append(F.relu(max(pos) - min(neg) + margin))
    return torch.stack(terms).mean()


def test_triplet_normalize_feature_by_loops():
    """``normalize_feature=True`` L2-normalises each row ``[D]`` first
    (catches the flag ignored or another axis); the default margin is
    0.3 (BoT / CLIP-ReID)."""
    feats, _ = _case(seed=1)
    assert TripletLoss().margin == 0.3
    value = TripletLoss(normalize_feature=True)(feats, LABELS)
    expected = _triplet_loop(F.normalize(feats, dim=1), LABELS, 0.3)
    torch.testing.assert_close(value, expected, rtol=1e-4, atol=1e-5)
    plain = TripletLoss(margin=0.5)(feats * 3, LABELS)
    torch.testing.assert_close(
        plain, _triplet_loop(feats * 3, LABELS, 0.5), rtol=1e-4, atol=1e-5)
