# Copyright (c) mmreid_text contributors. All rights reserved.
"""Exact t-SNE (van der Maaten & Hinton, JMLR 2008) in torch.

Written here so that the t-SNE pictures need no extra dependency
(scikit-learn is not a runtime requirement). The algorithm is the paper's
exact O(N^2) one with the usual optimisation tricks of its reference
implementation: per-point Gaussian bandwidths found by bisection to match
the perplexity, symmetrised joint P, early exaggeration, momentum and
delta-bar-delta gains. It suits the few thousand points a figure shows;
subsample larger sets (``tools/visualizations/vis_tsne.py --max-points``).
"""
import math
from typing import Optional

import torch


def squared_distances(x: torch.Tensor) -> torch.Tensor:
    """``[N, D]`` -> ``[N, N]`` squared Euclidean distances (>= 0)."""
    sq = (x * x).sum(dim=1)
    dist = sq[:, None] + sq[None, :] - 2.0 * x @ x.T
    dist.fill_diagonal_(0.0)
    return dist.clamp_min(0.0)


def conditional_probabilities(dist: torch.Tensor,
                              perplexity: float,
                              tol: float = 1e-5,
                              max_iter: int = 100) -> torch.Tensor:
    """Rows ``p_{j|i}`` with entropy ``log(perplexity)`` (nats).

    Args:
        dist: ``[N, N]`` squared distances.
        perplexity: target perplexity, ``1 <= perplexity < N``.

    Returns:
        ``[N, N]``: row ``i`` is ``exp(-beta_i d_ij) / sum_k`` over
        ``j != i`` (the diagonal is 0), ``beta_i`` found by bisection.
    """
    n = dist.shape[0]
    if not 1.0 <= perplexity < n:
        raise ValueError(f't-SNE: perplexity must be in [1, N={n}), got '
                         f'{perplexity}; lower it or show more points.')
    target = math.log(perplexity)
    beta = torch.ones(n, dtype=dist.dtype, device=dist.device)
    lo = torch.zeros_like(beta)
    hi = torch.full_like(beta, float('inf'))
    off_diag = ~torch.eye(n, dtype=torch.bool, device=dist.device)
    # distances relative to each row's nearest neighbour: exp stays finite
    nearest = dist.masked_fill(~off_diag, float('inf')).min(dim=1).values
    shifted = (dist - nearest[:, None]).clamp_min(0.0)
    probs = None
    for _ in range(max_iter):
        logits = (-beta[:, None] * shifted).masked_fill(~off_diag, -math.inf)
        probs = torch.softmax(logits, dim=1)
        entropy = -(probs * torch.log(probs.clamp_min(1e-300))).sum(dim=1)
        diff = entropy - target
        if bool((diff.abs() < tol).all()):
            break
        too_flat = diff > 0  # entropy too high: sharpen (larger beta)
        lo = torch.where(too_flat, beta, lo)
        hi = torch.where(too_flat, hi, beta)
        beta = torch.where(torch.isinf(hi), beta * 2.0, (lo + hi) / 2.0)
    return probs


def joint_probabilities(x: torch.Tensor, perplexity: float) -> torch.Tensor:
    """Symmetrised ``P = (P_{j|i} + P_{i|j}) / 2N`` of points ``[N, D]``."""
    cond = conditional_probabilities(squared_distances(x), perplexity)
    joint = (cond + cond.T) / (2.0 * x.shape[0])
    return joint.clamp_min(1e-12)


def tsne_gradient(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Gradient of ``KL(P || Q)`` w.r.t. the embedding ``y`` ``[N, 2]``.

    ``dC/dy_i = 4 sum_j (p_ij - q_ij) (y_i - y_j) / (1 + |y_i - y_j|^2)``
    (van der Maaten & Hinton 2008, Eq. 5), ``q`` the Student-t joint.
    """
    kernel = 1.0 / (1.0 + squared_distances(y))  # Student-t, [N, N]
    kernel.fill_diagonal_(0.0)
    q = (kernel / kernel.sum()).clamp_min(1e-12)
    weights = (p - q) * kernel
    return 4.0 * (weights.sum(dim=1, keepdim=True) * y - weights @ y)


def tsne(features: torch.Tensor,
         perplexity: float = 30.0,
         num_iters: int = 1000,
         learning_rate: Optional[float] = None,
         early_exaggeration: float = 12.0,
         exaggeration_iters: int = 250,
         seed: int = 0) -> torch.Tensor:
    """2-D t-SNE embedding of ``features`` ``[N, D]`` -> ``[N, 2]``.

    Args:
        perplexity: effective neighbours per point (clipped to
            ``(N - 1) / 3`` for small sets, as is customary).
        num_iters: gradient steps.
        learning_rate: None = ``max(N / early_exaggeration / 4, 50)``
            (Belkina et al. 2019, scikit-learn's ``'auto'``).
        early_exaggeration: factor on P for the first
            ``exaggeration_iters`` steps.
        seed: seed of the random initialisation (std 1e-4).
    """
    x = torch.as_tensor(features).detach().to('cpu', torch.float64)
    if x.dim() != 2 or x.shape[0] < 4:
        raise ValueError('t-SNE needs [N, D] features with N >= 4, got '
                         f'{tuple(x.shape)}.')
    n = x.shape[0]
    perplexity = min(float(perplexity), max((n - 1) / 3.0, 1.0))
    p = joint_probabilities(x, perplexity)
    if learning_rate is None:
        learning_rate = max(n / early_exaggeration / 4.0, 50.0)
    gen = torch.Generator().manual_seed(seed)
    y = torch.randn(n, 2, generator=gen, dtype=torch.float64) * 1e-4
    update = torch.zeros_like(y)
    gains = torch.ones_like(y)
    for step in range(num_iters):
        exaggeration = early_exaggeration if step < exaggeration_iters else 1.
        momentum = 0.5 if step < exaggeration_iters else 0.8
        grad = tsne_gradient(exaggeration * p, y)
        same_sign = (grad > 0) == (update > 0)
        gains = torch.where(same_sign, gains * 0.8,
                            gains + 0.2).clamp_min(0.01)
        update = momentum * update - learning_rate * gains * grad
        y = y + update
        y = y - y.mean(dim=0)
    return y.float()


def kl_divergence(features: torch.Tensor, embedding: torch.Tensor,
                  perplexity: float) -> float:
    """t-SNE's cost ``KL(P || Q)`` of an embedding (for checks)."""
    x = torch.as_tensor(features).to(torch.float64)
    p = joint_probabilities(x, perplexity)
    kernel = 1.0 / (
        1.0 + squared_distances(torch.as_tensor(embedding).to(torch.float64)))
    kernel.fill_diagonal_(0.0)
    q = (kernel / kernel.sum()).clamp_min(1e-12)
    return float((p * torch.log(p / q)).sum())
