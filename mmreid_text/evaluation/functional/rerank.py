# Copyright (c) mmreid_text contributors. All rights reserved.
"""k-reciprocal re-ranking (Zhong et al., CVPR 2017), vectorised.

The same distance as ``torchreid.utils.re_ranking`` (the original authors'
code with a distance matrix as input), computed without a Python loop over
samples and without any ``N x N`` matrix (``N`` = queries + gallery):

1. ``d_ij`` = the metric's distance over all ``N`` samples, squared and
   divided by its row maximum (the original code's
   ``original_dist``); only the ``k1 + 1`` nearest neighbours of each row
   are kept (``topk`` over row chunks).
2. ``R(i, k)``: the neighbours ``j`` among the ``k + 1`` nearest of ``i``
   that have ``i`` among their ``k + 1`` nearest (k-reciprocal), for
   ``k = k1`` and ``k = round(k1 / 2)``.
3. The expansion set of ``i``: ``R(i, k1)`` plus ``R(c, round(k1 / 2))``
   of every ``c`` in ``R(i, k1)`` that shares more than 2/3 of its members
   with ``R(i, k1)``.  ``V_i`` puts ``exp(-d_ij)`` (normalised to sum 1)
   on it: a sparse row.
4. Local query expansion: ``V_i`` <- mean of ``V_j`` over the ``k2``
   nearest ``j`` of ``i`` (skipped for ``k2 = 1``).
5. Jaccard distance ``1 - m / (2 - m)``, ``m = sum_k min(V_ik, V_jk)``
   (sparse: only pairs that share a column), and the result
   ``(1 - lambda) * jaccard + lambda * d`` for query rows and gallery
   columns.

Memory is bounded by the sparse ``V`` (about ``N * k1 * k1 / 2`` entries
before and ``k2`` times that after the query expansion, usually far less)
and by ``memory_budget_mb`` per chunk.
"""
from typing import Tuple, Union

import torch
from torch import Tensor

from .distance import compute_distance_matrix
from .rank import expand_segments

#: distances with which re-ranking is defined (non-negative, 0 = same).
RERANK_METRICS = ('euclidean', 'cosine')


def _sq_distance_rows(feats: Tensor, rows: slice, others: Tensor, metric: str,
                      memory_budget_mb: float) -> Tensor:
    """``[rows, len(others)]`` squared distances (the original's ``d^2``)."""
    return compute_distance_matrix(
        feats[rows], others, metric, memory_budget_mb=memory_budget_mb).pow_(2)


def _sq_distance_pairs(feats: Tensor, first: Tensor, second: Tensor,
                       metric: str, pairs_per_chunk: int) -> Tensor:
    """Squared distances of the pairs ``(first[p], second[p])``.

    The same formulas as :func:`compute_distance_matrix` (``|a|^2 + |b|^2
    - 2 a.b`` clamped at 0; ``1 - cos``), pair by pair: far cheaper than
    whole rows when there are few pairs per row.
    """
    out = torch.empty(first.numel(), dtype=feats.dtype, device=feats.device)
    if metric == 'cosine':
        feats = torch.nn.functional.normalize(feats, dim=1)
    else:
        norms = feats.pow(2).sum(dim=1)
    for start in range(0, first.numel(), pairs_per_chunk):
        a = first[start:start + pairs_per_chunk]
        b = second[start:start + pairs_per_chunk]
        dot = (feats[a] * feats[b]).sum(dim=1)
        if metric == 'cosine':
            out[start:start + len(a)] = (1 - dot).pow(2)
        else:
            out[start:start + len(a)] = (norms[a] + norms[b] -
                                         2 * dot).clamp(min=0)
    return out


def _reciprocal(rank: Tensor, rows: Tensor, k: int) -> Tensor:
    """``[len(rows), k + 1]`` bool: is ``rank[i, a]`` k-reciprocal to i."""
    forward = rank[rows, :k + 1]
    backward = rank[forward, :k + 1]
    return (backward == rows[:, None, None]).any(dim=-1)


def _expansion_sets(rank: Tensor, half_recip: Tensor, rows: Tensor, k1: int,
                    k_half: int) -> Tuple[Tensor, Tensor]:
    """Expansion set of each row (step 3), padded, sorted, deduplicated.

    Returns:
        tuple[Tensor, Tensor]: ``index`` ``[r, L]`` (sample indices) and
        ``valid`` ``[r, L]`` bool (False on padding and repeats).
    """
    num = rank.shape[0]
    forward = rank[rows, :k1 + 1]  # [r, K]
    recip = _reciprocal(rank, rows, k1)  # [r, K]
    members = rank[forward, :k_half + 1]  # [r, K, Kh]
    member_ok = half_recip[forward]  # [r, K, Kh]
    in_set = ((members[..., None] == forward[:, None, None, :])
              & recip[:, None, None, :]).any(dim=-1)
    shared = (in_set & member_ok).sum(dim=-1).double()
    size = member_ok.sum(dim=-1).double()
    accept = recip & (shared > 2. / 3 * size)  # the original's test
    index = torch.cat([forward, members.flatten(1)], dim=1)
    valid = torch.cat([recip, (member_ok & accept[..., None]).flatten(1)],
                      dim=1)
    index = torch.where(valid, index, torch.full_like(index, num))
    index, _ = index.sort(dim=1)
    valid = index < num
    valid[:, 1:] &= index[:, 1:] != index[:, :-1]
    return index.clamp_(max=num - 1), valid


def _to_csr(rows: Tensor, cols: Tensor, vals: Tensor,
            num_rows: int) -> Tuple[Tensor, Tensor, Tensor]:
    """Row pointers, columns and values of COO entries (rows sorted)."""
    order = torch.argsort(rows, stable=True)
    rows, cols, vals = rows[order], cols[order], vals[order]
    counts = torch.bincount(rows, minlength=num_rows)
    ptr = torch.zeros(num_rows + 1, dtype=torch.long, device=rows.device)
    ptr[1:] = torch.cumsum(counts, 0)
    return ptr, cols, vals


def _local_query_expansion(ptr: Tensor, cols: Tensor, vals: Tensor,
                           rank: Tensor,
                           k2: int) -> Tuple[Tensor, Tensor, Tensor]:
    """CSR of ``V_qe[i] = mean(V[rank[i, :k2]])`` (step 4)."""
    num = rank.shape[0]
    neighbours = rank[:, :k2].reshape(-1)  # [N * k2], row-major
    owner_row = torch.arange(num, device=rank.device).repeat_interleave(k2)
    counts = ptr[neighbours + 1] - ptr[neighbours]
    seg, pos = expand_segments(ptr[neighbours], counts)
    new = torch.sparse_coo_tensor(
        torch.stack([owner_row[seg], cols[pos]]),
        vals[pos] / k2, (num, num),
        check_invariants=False).coalesce()
    new_rows, new_cols = new.indices()
    return _to_csr(new_rows, new_cols, new.values(), num)


def k_reciprocal_distance(
        query_feats: Tensor,
        gallery_feats: Tensor,
        metric: str = 'euclidean',
        k1: int = 20,
        k2: int = 6,
        lambda_value: float = 0.3,
        memory_budget_mb: float = 256.,
        device: Union[None, str, torch.device] = None) -> Tensor:
    """Re-ranked query x gallery distances (k-reciprocal encoding).

    Equal (to float32 rounding) to ``torchreid.utils.re_ranking(q_g, q_q,
    g_g, k1, k2, lambda_value)`` on the distance matrices of
    :func:`compute_distance_matrix` with the same ``metric`` (the true
    Euclidean distance, or ``1 - cos``); the original code squares them.

    Args:
        query_feats (Tensor): ``[q, F]``.
        gallery_feats (Tensor): ``[g, F]``.
        metric (str): ``'euclidean'`` or ``'cosine'``.
        k1 (int): k of the k-reciprocal sets (paper: 20).
        k2 (int): neighbours of the local query expansion (paper: 6; 1 =
            none).
        lambda_value (float): weight of the original distance (paper: 0.3).
        memory_budget_mb (float): working memory of one chunk (MiB).
        device (str | torch.device, optional): where to compute (default:
            the query features' device); the result is returned there.

    Returns:
        Tensor: ``[q, g]`` float32.
    """
    if metric not in RERANK_METRICS:
        raise ValueError(f're-ranking needs a distance (0 = identical): '
                         f'metric {metric!r} is not one of {RERANK_METRICS}.')
    k1, k2 = int(k1), int(k2)
    if k1 < 1 or k2 < 1:
        raise ValueError(f're-ranking: k1 and k2 must be >= 1, got k1={k1}, '
                         f'k2={k2}.')
    if not 0. <= float(lambda_value) <= 1.:
        raise ValueError('re-ranking: lambda_value must lie in [0, 1], got '
                         f'{lambda_value}.')
    num_query = query_feats.shape[0]
    device = torch.device(device) if device is not None else \
        query_feats.device
    feats = torch.cat([query_feats, gallery_feats]).to(device, torch.float32)
    num = feats.shape[0]
    if k1 + 1 > num or k2 > k1 + 1:
        raise ValueError(
            f're-ranking: k1 + 1 = {k1 + 1} neighbours (and k2 = {k2} <= '
            f'k1 + 1) are needed, but there are {num} samples (query + '
            'gallery); lower k1 / k2.')
    k_half = int(round(k1 / 2.))
    rows_per_chunk = max(1, int(memory_budget_mb * 2**20 // (16 * num)))

    # 1. the k1 + 1 nearest neighbours of every sample, d^2 row maxima
    rank = torch.empty((num, k1 + 1), dtype=torch.long, device=device)
    row_max = torch.empty(num, dtype=torch.float32, device=device)
    for start in range(0, num, rows_per_chunk):
        rows = slice(start, min(start + rows_per_chunk, num))
        block = _sq_distance_rows(feats, rows, feats, metric, memory_budget_mb)
        row_max[rows] = block.max(dim=1).values
        rank[rows] = block.topk(k1 + 1, dim=1, largest=False).indices
    del block

    # 2.-3. expansion sets and their weights exp(-d^2 / max): sparse V
    everything = torch.arange(num, device=device)
    half_recip = _reciprocal(rank, everything, k_half)
    width = (k1 + 1) * (k_half + 2)
    per_set = 8 * (k1 + 1)**2 * (k_half + 1) + 64 * width
    sets_per_chunk = max(1, int(memory_budget_mb * 2**20 // per_set))
    pairs_per_chunk = max(
        1, int(memory_budget_mb * 2**20 // (8 * feats.shape[1] + 64)))
    v_rows, v_cols = [], []
    for start in range(0, num, sets_per_chunk):
        rows = everything[start:start + sets_per_chunk]
        index, valid = _expansion_sets(rank, half_recip, rows, k1, k_half)
        keep = valid.nonzero(as_tuple=True)
        v_rows.append(rows[keep[0]])
        v_cols.append(index[keep])
    v_rows, v_cols = torch.cat(v_rows), torch.cat(v_cols)
    weight = torch.exp(
        -_sq_distance_pairs(feats, v_rows, v_cols, metric, pairs_per_chunk) /
        row_max[v_rows])
    total = torch.zeros(num, dtype=weight.dtype, device=device)
    total.index_add_(0, v_rows, weight)
    ptr, cols, vals = _to_csr(v_rows, v_cols, weight / total[v_rows], num)

    # 4. local query expansion
    if k2 != 1:
        ptr, cols, vals = _local_query_expansion(ptr, cols, vals, rank, k2)
    del rank

    # 5. Jaccard over the columns each query shares with a gallery row
    entry_row = torch.repeat_interleave(everything, ptr[1:] - ptr[:-1])
    in_gallery = entry_row >= num_query
    g_cols, order = cols[in_gallery].sort(stable=True)
    g_rows = entry_row[in_gallery][order] - num_query
    g_vals = vals[in_gallery][order]
    col_ptr = torch.zeros(num + 1, dtype=torch.long, device=device)
    col_ptr[1:] = torch.cumsum(torch.bincount(g_cols, minlength=num), 0)
    col_count = col_ptr[1:] - col_ptr[:-1]

    num_gallery = num - num_query
    out = torch.empty((num_query, num_gallery),
                      dtype=torch.float32,
                      device=device)
    pairs = col_count[cols[:ptr[num_query]]]  # pairs per query entry
    pairs_per_query = torch.zeros(num_query, dtype=torch.long, device=device)
    pairs_per_query.index_add_(0, entry_row[:ptr[num_query]], pairs)
    pair_budget = max(1, int(memory_budget_mb * 2**20 // 40))
    start = 0
    cumulative = torch.cumsum(pairs_per_query, 0)
    while start < num_query:
        done = cumulative[start - 1] if start else 0
        stop = int(
            torch.searchsorted(cumulative, done + pair_budget, right=True))
        stop = max(stop, start + 1)
        stop = min(stop, num_query, start + rows_per_chunk)
        first, last = ptr[start], ptr[stop]
        q_cols, q_vals = cols[first:last], vals[first:last]
        q_rows = entry_row[first:last] - start
        seg, pos = expand_segments(col_ptr[q_cols], col_count[q_cols])
        shared = torch.minimum(q_vals[seg], g_vals[pos])
        overlap = torch.zeros(
            (stop - start) * num_gallery, dtype=torch.float32, device=device)
        overlap.index_add_(0, q_rows[seg] * num_gallery + g_rows[pos], shared)
        overlap = overlap.view(stop - start, num_gallery)
        jaccard = 1 - overlap / (2 - overlap)
        original = _sq_distance_rows(feats, slice(start,
                                                  stop), feats[num_query:],
                                     metric, memory_budget_mb)
        original /= row_max[start:stop, None]
        out[start:stop] = (
            jaccard * (1 - lambda_value) + original * lambda_value)
        start = stop
    return out.to(query_feats.device)
