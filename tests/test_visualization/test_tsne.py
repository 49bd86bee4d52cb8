# Copyright (c) mmreid_text contributors. All rights reserved.
"""The exact t-SNE of mmreid_text.visualization.tsne."""
import math

import pytest
import torch

from mmreid_text.visualization.tsne import (conditional_probabilities,
                                            joint_probabilities,
                                            squared_distances, tsne,
                                            tsne_gradient)


def _clusters(n_per=30, dim=16, shift=8.0, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.cat([
        torch.randn(n_per, dim, generator=gen),
        torch.randn(n_per, dim, generator=gen) + shift
    ])
    return x, torch.tensor([0] * n_per + [1] * n_per)


def test_bandwidths_match_the_perplexity():
    x, _ = _clusters()
    probs = conditional_probabilities(
        squared_distances(x.double()), perplexity=10.0)
    entropy = -(probs * torch.log(probs.clamp_min(1e-300))).sum(dim=1)
    torch.testing.assert_close(
        entropy, torch.full_like(entropy, math.log(10.0)), atol=1e-4, rtol=0)
    assert torch.all(probs.diagonal() == 0)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(60).double())


def test_two_points_hand_computed():
    """Three points on a line: perplexity 2 over 2 neighbours is only
    reached by the uniform row (beta -> 0); P is symmetric, sums to 1."""
    x = torch.tensor([[0.0], [1.0], [3.0]], dtype=torch.float64)
    joint = joint_probabilities(x, perplexity=2.0)
    torch.testing.assert_close(joint, joint.T)
    assert abs(float(joint.sum()) - 1.0) < 1e-6
    # perplexity 2 with 2 neighbours = uniform over them: row i is 1/2
    cond = conditional_probabilities(squared_distances(x), 2.0)
    torch.testing.assert_close(
        cond,
        torch.tensor([[0, .5, .5], [.5, 0, .5], [.5, .5, 0]],
                     dtype=torch.float64),
        atol=1e-2,  # entropy is flat at its maximum
        rtol=0)


def test_gradient_is_that_of_the_kl_cost():
    gen = torch.Generator().manual_seed(1)
    p = torch.rand(6, 6, generator=gen, dtype=torch.float64)
    p = p + p.T
    p.fill_diagonal_(0)
    p = p / p.sum()
    y = torch.randn(6, 2, generator=gen, dtype=torch.float64)
    y.requires_grad_(True)
    diff = y[:, None] - y[None]
    kernel = 1.0 / (1.0 + (diff**2).sum(-1))
    off = ~torch.eye(6, dtype=torch.bool)
    q = kernel[off] / kernel[off].sum()
    cost = (p[off] * torch.log(p[off] / q)).sum()
    (expected, ) = torch.autograd.grad(cost, y)
    torch.testing.assert_close(tsne_gradient(p, y.detach()), expected)


def test_separates_two_clusters():
    x, labels = _clusters()
    y = tsne(x, perplexity=10, num_iters=500, seed=0)
    assert y.shape == (60, 2) and torch.isfinite(y).all()
    dist = squared_distances(y.double())
    dist.fill_diagonal_(float('inf'))
    assert bool((labels[dist.argmin(dim=1)] == labels).all())


def test_bad_perplexity_and_input():
    with pytest.raises(ValueError, match='perplexity'):
        conditional_probabilities(torch.rand(5, 5), 10.0)
    with pytest.raises(ValueError, match='N >= 4'):
        tsne(torch.rand(3, 4))
