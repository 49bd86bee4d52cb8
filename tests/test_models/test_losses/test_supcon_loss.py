# Copyright (c) mmreid_text contributors. All rights reserved.
import math

import pytest
import torch

from mmreid_text.models.losses.supcon_loss import (SupConLoss,
                                                   supervised_contrastive)
from mmreid_text.registry import MODELS

FEATS = torch.tensor([[1.0], [2.0]])  # f_1, f_2 (D = 1)
TEXT = torch.tensor([[1.0], [1.0]])  # p_1, p_2
LABELS = torch.tensor([0, 1])


def test_two_samples_by_hand():
    # f2t: logits f_i p_k = [[1, 1], [2, 2]] -> each row log-softmax = -log 2
    f2t = math.log(2)
    # t2f: logits p_i f_k = [[1, 2], [1, 2]]; positives on the diagonal
    lse = math.log(math.e + math.e**2)
    t2f = -((1 - lse) + (2 - lse)) / 2
    loss = MODELS.build(dict(type='SupConLoss'))
    value = loss(FEATS, TEXT, LABELS)
    assert value.item() == pytest.approx(f2t + t2f, rel=1e-6)
    only_f2t = SupConLoss(directions=('f2t', ))(FEATS, TEXT, LABELS)
    assert only_f2t.item() == pytest.approx(f2t, rel=1e-6)


def test_positives_are_same_identity_and_temperature():
    feats = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    text = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, -1.0]])
    labels = torch.tensor([5, 5, 7])
    temperature = 0.5
    logits = feats @ text.t() / temperature
    expected = 0.0
    for i in range(3):
        row = logits[i]
        log_prob = row - torch.logsumexp(row, 0)
        positives = [j for j in range(3) if labels[j] == labels[i]]
        expected -= sum(log_prob[j].item() for j in positives) / len(positives)
    expected /= 3
    value = supervised_contrastive(feats, text, labels, temperature)
    assert value.item() == pytest.approx(expected, rel=1e-6)


def test_mean_over_spectra_normalisation_and_gradients():
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(4, 3, 8, generator=gen, requires_grad=True)
    text = torch.randn(4, 3, 8, generator=gen, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 1])
    loss = SupConLoss()
    per_spectrum = [loss(feats[:, m], text[:, m], labels) for m in range(3)]
    value = loss(feats, text, labels)
    assert value.item() == pytest.approx(
        sum(v.item() for v in per_spectrum) / 3, rel=1e-6)
    value.backward()
    assert feats.grad.abs().sum() > 0 and text.grad.abs().sum() > 0
    # cosine similarity: invariant to the feature scale
    cosine = SupConLoss(normalize=True, temperature=0.05)
    a = cosine(feats, text, labels)
    b = cosine(feats * 7.0, text * 0.1, labels)
    assert a.item() == pytest.approx(b.item(), rel=1e-5)


def test_bad_inputs():
    with pytest.raises(ValueError, match='temperature'):
        SupConLoss(temperature=0)
    with pytest.raises(ValueError, match='directions'):
        SupConLoss(directions=('i2t', ))
    with pytest.raises(ValueError, match='same shape'):
        SupConLoss()(torch.randn(2, 3, 4), torch.randn(2, 2, 4),
                     torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='labels'):
        SupConLoss()(torch.randn(2, 4), torch.randn(2, 4), torch.tensor([0]))
