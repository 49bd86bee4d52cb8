# Copyright (c) mmreid_text contributors. All rights reserved.
"""alpha-weighted query expansion (AQE; Radenovic et al., TPAMI 2019)."""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def alpha_query_expansion(
        query_feats: Tensor,
        gallery_feats: Tensor,
        qe_times: int = 1,
        qe_k: int = 5,
        alpha: float = 3.0,
        memory_budget_mb: float = 256.) -> Tuple[Tensor, Tensor]:
    """Replace every feature by the weighted mean of its nearest neighbours.

    As fast-reid's ``aqe`` (``TEST.AQE``: ``QE_TIME=1, QE_K=5,
    ALPHA=3.0``): the neighbours of each sample are its ``qe_k`` most
    cosine-similar samples among the queries *and* the gallery (itself
    included, similarity 1), and ``x_i <- mean_j(sim_ij ** alpha * x_j)``,
    repeated ``qe_times`` times with the similarities of the new features.
    The means are not normalised (the metric's ``feat_norm`` does that).
    An odd integer ``alpha`` keeps the sign of a negative similarity; a
    non-integer ``alpha`` gives NaN there (as ``numpy.power``).

    Args:
        query_feats (Tensor): ``[q, F]``.
        gallery_feats (Tensor): ``[g, F]``.
        qe_times (int): expansion rounds (>= 1).
        qe_k (int): neighbours averaged (>= 1, at most ``q + g``).
        alpha (float): similarity exponent.
        memory_budget_mb (float): working memory of one chunk (MiB).

    Returns:
        tuple[Tensor, Tensor]: the expanded ``[q, F]`` and ``[g, F]``
        features (float32, on the query features' device).
    """
    num_query = query_feats.shape[0]
    feats = torch.cat([query_feats, gallery_feats]).to(torch.float32)
    num, dims = feats.shape
    qe_times, qe_k = int(qe_times), int(qe_k)
    if qe_times < 1 or not 1 <= qe_k <= num:
        raise ValueError(
            f'AQE: qe_times must be >= 1 and 1 <= qe_k <= {num} (query + '
            f'gallery samples), got qe_times={qe_times}, qe_k={qe_k}.')
    rows_per_chunk = max(
        1, int(memory_budget_mb * 2**20 // (4 * (num + qe_k * (dims + 2)))))
    for _ in range(qe_times):
        unit = F.normalize(feats, dim=1)
        expanded = torch.empty_like(feats)
        for start in range(0, num, rows_per_chunk):
            sims = unit[start:start + rows_per_chunk] @ unit.t()
            top, index = sims.topk(qe_k, dim=1)
            weights = top.pow(alpha)[..., None]  # [r, k, 1]
            expanded[start:start + rows_per_chunk] = (weights *
                                                      feats[index]).mean(1)
        feats = expanded
    return feats[:num_query], feats[num_query:]
