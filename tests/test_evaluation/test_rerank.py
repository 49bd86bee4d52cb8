# Copyright (c) mmreid_text contributors. All rights reserved.
"""k_reciprocal_distance against torchreid's re_ranking (Zhong et al.)."""
import warnings

import numpy as np
import pytest
import torch

from mmreid_text.evaluation import compute_distance_matrix
from mmreid_text.evaluation.functional import k_reciprocal_distance

with warnings.catch_warnings():
    warnings.simplefilter('ignore')  # "Cython evaluation is unavailable"
    from torchreid.reid.utils.rerank import re_ranking


def clustered(num_query, num_gallery, dims, seed, num_ids=12):
    """Features near a few centres, so k-reciprocal sets are non-trivial."""
    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(num_ids, dims, generator=gen)
    query = centres[torch.randint(0, num_ids, (num_query, ), generator=gen)]
    gallery = centres[torch.randint(
        0, num_ids, (num_gallery, ), generator=gen)]
    return (query + 0.5 * torch.randn(query.shape, generator=gen),
            gallery + 0.5 * torch.randn(gallery.shape, generator=gen))


def torchreid_reranked(query, gallery, metric, k1, k2, lambda_value):
    feats = torch.cat([query, gallery])
    dist = compute_distance_matrix(feats, feats, metric).double()
    dist = ((dist + dist.T) / 2).numpy()  # exactly symmetric
    q = len(query)
    return re_ranking(dist[:q, q:], dist[:q, :q], dist[q:, q:], k1, k2,
                      lambda_value)


@pytest.mark.parametrize(
    'num_query,num_gallery,dims,metric,k1,k2,lambda_value',
    [
        (30, 80, 16, 'euclidean', 20, 6, 0.3),  # the paper's setting
        (50, 120, 8, 'cosine', 10, 3, 0.3),
        (20, 40, 4, 'euclidean', 5, 1, 0.5),  # no query expansion
        (40, 100, 32, 'euclidean', 7, 2, 0.1),  # odd k1: round(3.5) = 4
        (25, 25, 6, 'cosine', 3, 4, 0.0),  # pure Jaccard
    ])
def test_equals_torchreid(num_query, num_gallery, dims, metric, k1, k2,
                          lambda_value):
    query, gallery = clustered(num_query, num_gallery, dims, seed=k1 + dims)
    expected = torchreid_reranked(query, gallery, metric, k1, k2, lambda_value)
    # a tiny budget: many chunks in every step
    ours = k_reciprocal_distance(
        query, gallery, metric, k1, k2, lambda_value,
        memory_budget_mb=0.02).numpy()
    assert ours.shape == (num_query, num_gallery)
    np.testing.assert_allclose(ours, expected, atol=2e-6, rtol=0)
    # and it re-ranks: the order differs from the original distances'
    original = compute_distance_matrix(query, gallery, metric).numpy()
    assert (np.argsort(ours, 1) != np.argsort(original, 1)).any()


def test_memory_budget_does_not_change_the_result():
    query, gallery = clustered(60, 90, 8, seed=3)
    small = k_reciprocal_distance(query, gallery, memory_budget_mb=0.01)
    large = k_reciprocal_distance(query, gallery, memory_budget_mb=512)
    torch.testing.assert_close(small, large, atol=1e-6, rtol=0)


def test_lambda_one_is_the_normalised_squared_distance():
    """lambda = 1 leaves d^2 / (row maximum of d^2 over query + gallery)."""
    query, gallery = clustered(10, 15, 4, seed=5)
    feats = torch.cat([query, gallery])
    dist = torch.cdist(feats.double(), feats.double())**2
    expected = (dist / dist.max(dim=1, keepdim=True).values)[:10, 10:]
    ours = k_reciprocal_distance(query, gallery, k1=4, k2=2, lambda_value=1.)
    torch.testing.assert_close(ours.double(), expected, atol=1e-6, rtol=0)


def test_jaccard_by_hand():
    """Two far-apart pairs, k1 = 1, k2 = 1, lambda = 0 (pure Jaccard).

    Samples: query q at 0, gallery g0 at 0.1 (its pair), g1 at 10, g2 at
    10.1.  With k1 = 1 each k-reciprocal set is the sample and its pair
    partner; the expansion adds nothing (round(1/2) = 0: sets of one).
    ``V_q`` puts ``a = 1 / (1 + exp(-0.01 / 10.1^2))`` on q and ``1 - a``
    on g0 (d^2 over the row maximum of d^2); ``V_g0`` puts
    ``b = 1 / (1 + exp(-0.01 / 10^2))`` on g0 and ``1 - b`` on q.  So
    ``m = min(a, 1 - b) + min(1 - a, b) = 2 - a - b`` and the Jaccard
    distance ``1 - m / (2 - m)``; the other pair shares nothing: 1.
    """
    query = torch.tensor([[0.]])
    gallery = torch.tensor([[0.1], [10.], [10.1]])
    a = 1 / (1 + np.exp(-0.01 / 10.1**2))
    b = 1 / (1 + np.exp(-0.01 / 10.**2))
    m = 2 - a - b
    ours = k_reciprocal_distance(query, gallery, k1=1, k2=1, lambda_value=0.)
    np.testing.assert_allclose(
        ours.numpy(), [[1 - m / (2 - m), 1., 1.]], atol=1e-6, rtol=0)
    assert 0 < ours[0, 0] < 1e-3


def test_errors():
    query, gallery = clustered(4, 5, 3, seed=0)
    with pytest.raises(ValueError, match="metric 'dot'"):
        k_reciprocal_distance(query, gallery, 'dot')
    with pytest.raises(ValueError, match='there are 9 samples'):
        k_reciprocal_distance(query, gallery, k1=20)
    with pytest.raises(ValueError, match='lambda_value'):
        k_reciprocal_distance(query, gallery, k1=2, lambda_value=1.5)
