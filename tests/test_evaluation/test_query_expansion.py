# Copyright (c) mmreid_text contributors. All rights reserved.
"""alpha_query_expansion: by hand and against a per-sample loop."""
import numpy as np
import pytest
import torch

from mmreid_text.evaluation.functional import alpha_query_expansion


def loop_reference(query, gallery, qe_times, qe_k, alpha):
    """fast-reid's aqe written as a loop over samples (numpy)."""
    feats = np.concatenate([query, gallery]).astype(np.float64)
    for _ in range(qe_times):
        unit = feats / np.linalg.norm(feats, axis=1, keepdims=True)
        sims = unit @ unit.T
        new = []
        for sim in sims:
            nearest = np.argsort(-sim, kind='stable')[:qe_k]
            weights = np.power(sim[nearest], alpha)[:, None]
            new.append((feats[nearest] * weights).mean(0))
        feats = np.stack(new)
    return feats[:len(query)], feats[len(query):]


def test_by_hand():
    """2-D: q = (1, 0); gallery (0.6, 0.8) and (0, 1); qe_k = 2, alpha 1.

    q's nearest are itself (sim 1) and g0 (sim 0.6):
    q' = (1 * (1, 0) + 0.6 * (0.6, 0.8)) / 2 = (0.68, 0.24).
    """
    query = torch.tensor([[1., 0.]])
    gallery = torch.tensor([[0.6, 0.8], [0., 1.]])
    new_q, new_g = alpha_query_expansion(
        query, gallery, qe_times=1, qe_k=2, alpha=1.)
    torch.testing.assert_close(new_q, torch.tensor([[0.68, 0.24]]))
    # g1's nearest: itself and g0 (sim 0.8): ((0, 1) + 0.8 (0.6, 0.8)) / 2
    torch.testing.assert_close(new_g[1], torch.tensor([0.24, 0.82]))


@pytest.mark.parametrize('qe_times,qe_k,alpha', [(1, 5, 3.), (2, 3, 1.),
                                                 (1, 1, 3.), (3, 10, 5.)])
def test_equals_loop(qe_times, qe_k, alpha):
    gen = torch.Generator().manual_seed(qe_k)
    query = torch.randn(13, 6, generator=gen)
    gallery = torch.randn(40, 6, generator=gen)
    expected = loop_reference(query.numpy(), gallery.numpy(), qe_times, qe_k,
                              alpha)
    ours = alpha_query_expansion(
        query, gallery, qe_times, qe_k, alpha, memory_budget_mb=0.001)
    for got, want in zip(ours, expected):
        np.testing.assert_allclose(got.numpy(), want, atol=1e-5)
    if qe_k == 1:  # only itself, weight 1: unchanged
        torch.testing.assert_close(ours[0], query)


def test_errors():
    query, gallery = torch.randn(2, 3), torch.randn(3, 3)
    with pytest.raises(ValueError, match=r'qe_k <= 5'):
        alpha_query_expansion(query, gallery, qe_k=6)
    with pytest.raises(ValueError, match='qe_times'):
        alpha_query_expansion(query, gallery, qe_times=0)
