# Copyright (c) mmreid_text contributors. All rights reserved.
"""Vectorised CMC / mAP / mINP for ReID retrieval.

For every query the kept gallery (everything the protocol does not ignore)
is ordered by ascending distance; exact ties are broken by the gallery
index (the order of ``numpy.argsort(kind='stable')``).  AP, INP and CMC
only need the 1-based rank of each positive among the kept entries, and
that is ``(position among the positives) + (kept negatives before it)``.

No row is sorted.  Per query chunk:

1. the same-pid gallery entries come from a pid index of the gallery;
   those the protocol does not ignore are the positives;
2. every entry gets a distance bucket: a per-row affine map onto fine bins
   followed by a lookup table that merges them into about
   ``gallery / GALLERY_PER_BUCKET`` buckets (narrow where the distances are
   dense).  The map is monotone, so ``bincount`` of the kept negatives per
   bucket and a cumulative sum give, for each positive, the kept negatives
   in strictly lower buckets;
3. the negatives sharing a bucket with a positive (a few per positive) are
   merged with the positives and sorted by (bucket, distance, gallery
   index), which orders them exactly, ties included.

Every step is a whole-tensor operation, so the same code runs on CPU and
GPU; chunking bounds the temporaries to about ``BYTES_PER_CELL`` bytes per
``[chunk, gallery]`` cell.

Two protocol hooks change what is scored (SYSU-MM01):

- ``cmc_level = 'identity'``: the first-hit rank is 1 + the number of
  distinct gallery identities among the kept negatives ranked before the
  first positive (the ranked pid list with only the first occurrence of
  each pid, as ``eval_sysu`` and the official MATLAB code); mAP and mINP
  stay image-level;
- ``gallery_trials(gallery)`` returning gallery column subsets: every trial
  is scored on its columns only (same chunked code; each query chunk is
  moved to the device once, each trial selects its columns and asks the
  protocol for the ignore mask of its own gallery), and the metrics are
  averaged over the trials.
"""
import contextlib
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from ..protocols.base_protocol import (BaseReIDProtocol, ProtocolLike,
                                       as_meta_tensor, build_protocol)

ArrayLike = Union[np.ndarray, Tensor, list, tuple]

#: Estimated bytes of temporaries per cell of a ``[chunk, gallery]`` block
#: (ignore mask and protocol temporaries, bucket values and ids, candidate
#: mask, a device / dtype copy of the distance block).
BYTES_PER_CELL = 24
#: Average gallery entries per distance bucket (see ``_bucket_ids``).
GALLERY_PER_BUCKET = 4
#: Fine (equal-width) bins of the per-row distance map (``_bucket_ids``).
FINE_BINS = 2**15
#: Cells sampled for the fine-bin histogram of a chunk.
HISTOGRAM_SAMPLES = 2**22


def chunk_rows_for_budget(num_gallery: int,
                          memory_budget_mb: float,
                          bytes_per_cell: int = BYTES_PER_CELL) -> int:
    """Number of query rows per chunk that fits ``memory_budget_mb``."""
    budget = float(memory_budget_mb) * 2**20
    return max(1, int(budget // (bytes_per_cell * max(1, num_gallery))))


def _to_tensor(array: ArrayLike) -> Tensor:
    if isinstance(array, Tensor):
        return array
    return torch.as_tensor(np.asarray(array))


def _meta_dict(pids: ArrayLike, camids: Optional[ArrayLike],
               extra: Optional[Dict[str, ArrayLike]], side: str, length: int,
               device: torch.device) -> Dict[str, Tensor]:
    meta = {'pid': pids}
    if camids is not None:
        meta['camid'] = camids
    for key, values in (extra or {}).items():
        if key in meta:
            raise ValueError(f'{side}_meta[{key!r}] duplicates a positional '
                             'argument of evaluate_rank; pass it once.')
        meta[key] = values
    tensors = {}
    for key, values in meta.items():
        tensor = as_meta_tensor(values, device, f'{side} {key}')
        if tensor.numel() != length:
            raise ValueError(
                f'{side} {key} has {tensor.numel()} entries but the distance '
                f'matrix has {length} {side} entries.')
        tensors[key] = tensor
    return tensors


def expand_segments(starts: Tensor, counts: Tensor) -> Tuple[Tensor, Tensor]:
    """Owner and position of every element of concatenated segments.

    Segment ``s`` covers positions ``starts[s] .. starts[s] + counts[s] - 1``
    (CSR-style runs, e.g. the gallery entries of a pid).

    Returns:
        tuple[Tensor, Tensor]: ``owner`` (``[sum(counts)]``, the segment of
        each element, in segment order) and ``pos`` (its position).
    """
    owner = torch.repeat_interleave(
        torch.arange(counts.numel(), device=counts.device), counts)
    offset = torch.arange(
        owner.numel(),
        device=counts.device) - (torch.cumsum(counts, 0) - counts)[owner]
    return owner, starts[owner] + offset


class _PidIndex:
    """Gallery indices grouped by pid, to list same-pid pairs sparsely.

    Args:
        g_pid (Tensor): ``[g]`` gallery identities.
    """

    def __init__(self, g_pid: Tensor) -> None:
        sorted_pid, self.order = torch.sort(g_pid, stable=True)
        self.values, self.counts = torch.unique_consecutive(
            sorted_pid, return_counts=True)
        self.starts = torch.cumsum(self.counts, 0) - self.counts

    def pairs(self, q_pid: Tensor) -> Tuple[Tensor, Tensor]:
        """``(row, col)`` of every same-pid pair, row-major, cols ascending.

        Args:
            q_pid (Tensor): ``[q]`` query identities.
        """
        where = torch.searchsorted(self.values, q_pid)
        where = where.clamp(max=self.values.numel() - 1)
        found = self.values[where] == q_pid
        count = torch.where(found, self.counts[where], torch.zeros_like(where))
        row, pos = expand_segments(self.starts[where], count)
        return row, self.order[pos]


@contextlib.contextmanager
def _torch_threads(num_threads: Optional[int]):
    """Temporarily set torch's intra-op CPU threads (None: unchanged)."""
    if num_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, int(num_threads)))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _workspace(workspace: Dict[str, Tensor], name: str, shape: Tuple[int, int],
               dtype: torch.dtype, device: torch.device) -> Tensor:
    """A reusable buffer (avoids fresh page faults on every chunk)."""
    numel = shape[0] * shape[1]
    buf = workspace.get(name)
    if (buf is None or buf.numel() < numel or buf.dtype != dtype
            or buf.device != device):
        buf = torch.empty(numel, dtype=dtype, device=device)
        workspace[name] = buf
    return buf[:numel].view(shape)


def _bucket_ids(dist: Tensor, lowest: Tensor, highest: Tensor,
                buckets_per_row: int, workspace: Dict[str, Tensor]) -> Tensor:
    """Flat ``[q, g]`` int32 bucket ids, non-decreasing in distance per row.

    Row ``r`` owns ids ``r * W .. r * W + W - 1`` with
    ``W = buckets_per_row + 3``.  Two monotone steps:

    1. a per-row affine map sends the positives' distance range
       ``[lowest[r], highest[r]]`` onto fine bins ``2 .. FINE_BINS - 2``
       (entries below / above it go to bins 0-1 / ``FINE_BINS - 1``);
    2. a lookup table merges fine bins into buckets.  Half of the bucket
       boundaries follow the fine-bin histogram (equal population, so dense
       parts of the distance distribution get narrow buckets), half are
       equally spaced (so a heavy fine bin never shares a bucket with its
       light neighbours), and the out-of-range bins get buckets of their
       own.

    Correctness needs monotonicity only (a composition of monotone maps);
    rounding merely moves entries into a neighbouring bucket.
    """
    num_rows = dist.shape[0]
    device = dist.device
    # A single positive (or equal positive distances) gives no range: use
    # the median range of the other rows below the (hardest) positive.
    span = highest - lowest
    has_span = torch.isfinite(span) & (span > 0)
    typical = span[has_span].median() if bool(has_span.any()) else 1.
    lowest = torch.where(has_span, lowest, highest - typical)
    scale = (FINE_BINS - 4) / (highest - lowest)
    offset = 2 - lowest * scale
    scale = scale.to(dist.dtype)
    offset = offset.to(dist.dtype)
    # Rows without a usable range (no positive, infinite distances,
    # overflow) use a shifted identity map: monotone and NaN-free.
    usable = torch.isfinite(scale) & torch.isfinite(offset) & (scale > 0)
    scale = torch.where(usable, scale, torch.ones_like(scale))
    offset = torch.where(usable, offset,
                         torch.full_like(offset, FINE_BINS // 2))
    scaled = _workspace(workspace, 'scaled', dist.shape, dist.dtype, device)
    torch.addcmul(offset[:, None], dist, scale[:, None], out=scaled)
    scaled.clamp_(0, FINE_BINS - 1)
    fine = _workspace(workspace, 'fine', dist.shape, torch.int32, device)
    fine.copy_(scaled)  # truncation == floor for these non-negative values

    # lookup table fine bin -> bucket, histogram from a subsample of rows
    step = max(1, num_rows * dist.shape[1] // HISTOGRAM_SAMPLES)
    hist = torch.bincount(fine[::step].reshape(-1), minlength=FINE_BINS)
    below = torch.cumsum(hist, 0) - hist
    by_population = buckets_per_row // 2
    by_width = buckets_per_row - by_population
    bins = torch.arange(FINE_BINS, device=device)
    table = (below * by_population // max(1, int(hist.sum())) +
             bins * by_width // FINE_BINS + (bins >= 2).long() +
             (bins >= FINE_BINS - 1).long()).to(torch.int32)
    flat = _workspace(workspace, 'flat', dist.shape, torch.int32, device)
    torch.index_select(table, 0, fine.view(-1), out=flat.view(-1))
    flat += (torch.arange(num_rows, dtype=torch.int32, device=device) *
             (buckets_per_row + 3))[:, None]
    return flat


def _distinct_before(dist: Tensor, ignore: Tensor, first_row: Tensor,
                     first_col: Tensor, g_pid_id: Tensor,
                     num_pids: int) -> Tensor:
    """Distinct gallery identities ranked before each row's first positive.

    Args:
        dist (Tensor): ``[q, g]`` distances.
        ignore (Tensor): ``[q, g]`` bool, entries dropped by the protocol.
        first_row, first_col (Tensor): ``[v]`` coordinates of the first
            positive (lowest distance, then lowest column) of each valid
            row, rows ascending.
        g_pid_id (Tensor): ``[g]`` compact gallery identity ids
            ``0 .. num_pids - 1``.
        num_pids (int): number of distinct gallery identities.

    Returns:
        Tensor: ``[v]`` long, for each valid row the number of distinct
        identities among the kept entries ordered before its first positive
        (smaller distance, or equal distance and smaller column).  Those
        entries are all negatives: every positive is ordered after the
        first one.
    """
    num_rows, num_gallery = dist.shape
    device = dist.device
    threshold = torch.full((num_rows, ),
                           -math.inf,
                           dtype=dist.dtype,
                           device=device)
    threshold[first_row] = dist[first_row, first_col]
    tie_col = torch.full((num_rows, ), -1, dtype=torch.long, device=device)
    tie_col[first_row] = first_col
    cols = torch.arange(num_gallery, device=device)
    before = dist < threshold[:, None]
    before |= (dist == threshold[:, None]) & (cols[None, :] < tie_col[:, None])
    before &= ~ignore
    seen = torch.zeros(num_rows, num_pids, dtype=torch.uint8, device=device)
    seen.scatter_reduce_(1, g_pid_id[None, :].expand(num_rows, -1),
                         before.to(torch.uint8), 'amax')
    return seen.sum(1, dtype=torch.long)[first_row]


def _chunk_stats(
        dist: Tensor,
        ignore: Tensor,
        same_row: Tensor,
        same_col: Tensor,
        max_rank: int,
        buckets_per_row: int,
        workspace: Dict[str, Tensor],
        identity: Optional[Tuple[Tensor, int]] = None) -> Dict[str, Tensor]:
    """AP / INP sums and first-hit histogram of one query chunk.

    Args:
        dist (Tensor): ``[q, g]`` distances (floating point, no NaN).
        ignore (Tensor): ``[q, g]`` bool, entries dropped by the protocol.
        same_row, same_col (Tensor): ``[n]`` coordinates of the same-pid
            entries, row-major with ascending columns.
        max_rank (int): CMC length.
        buckets_per_row (int): distance buckets per query row.
        workspace (dict): reusable buffers.
        identity (tuple, optional): ``(g_pid_id [g], num_pids)``, compact
            gallery identity ids: the first hit is then counted at identity
            level (see :func:`_distinct_before`); None: image level.

    Returns:
        dict: ``num_valid``, ``ap_sum``, ``inp_sum`` (0-dim tensors) and
        ``first_hist`` (``[max_rank + 2]`` counts of first-hit ranks,
        ranks above ``max_rank`` in the last bin).
    """
    num_rows, num_gallery = dist.shape
    device = dist.device
    kept = ~ignore[same_row, same_col]
    pos_row, pos_col = same_row[kept], same_col[kept]  # the positives
    num_pos = torch.bincount(pos_row, minlength=num_rows)  # [q]
    valid = num_pos > 0
    first_hist = torch.zeros(max_rank + 2, dtype=torch.long, device=device)
    if pos_row.numel() == 0:
        zero = torch.zeros((), dtype=torch.float64, device=device)
        return dict(
            num_valid=valid.sum(),
            ap_sum=zero,
            inp_sum=zero,
            first_hist=first_hist)
    pos_dist = dist[pos_row, pos_col]
    lowest = torch.full((num_rows, ), math.inf, device=device).double()
    lowest.scatter_reduce_(0, pos_row, pos_dist.double(), 'amin')
    highest = torch.full_like(lowest, -math.inf)
    highest.scatter_reduce_(0, pos_row, pos_dist.double(), 'amax')

    # 1. bucket ids; count the kept negatives of every bucket.
    width = buckets_per_row + 3
    num_slots = num_rows * width
    flat = _bucket_ids(dist, lowest, highest, buckets_per_row, workspace)
    pos_bucket = flat[pos_row, pos_col].long()
    flat.masked_fill_(ignore, num_slots)  # dump slot for non-negatives
    flat[same_row, same_col] = num_slots
    flat_1d = flat.view(-1)
    neg_count = torch.bincount(flat_1d, minlength=num_slots + 1)
    neg_cum = torch.cumsum(neg_count, 0)
    row_first = pos_row * width
    # kept negatives of the same row in strictly lower buckets
    neg_lower = (neg_cum[pos_bucket] - neg_count[pos_bucket]) - (
        neg_cum[row_first] - neg_count[row_first])

    # 2. negatives sharing a bucket with a positive: exact order.  Merge
    # them with the positives and sort by (bucket, distance, column); the
    # first sort by position puts columns in ascending order.
    occupied = torch.zeros(num_slots + 1, dtype=torch.bool, device=device)
    occupied[pos_bucket] = True
    candidate = _workspace(workspace, 'candidate', (1, flat_1d.numel()),
                           torch.bool, device).view(-1)
    torch.index_select(occupied, 0, flat_1d, out=candidate)
    cand = candidate.nonzero().squeeze(1)  # row * g + col
    num_cand = cand.numel()
    cand_row = torch.div(cand, num_gallery, rounding_mode='floor')
    position = torch.cat([cand, pos_row * num_gallery + pos_col])
    value = torch.cat(
        [dist[cand_row, cand - cand_row * num_gallery], pos_dist])
    bucket = torch.cat([flat_1d[cand].long(), pos_bucket])
    order = torch.sort(position, stable=True)[1]
    order = order[torch.sort(value[order], stable=True)[1]]
    order = order[torch.sort(bucket[order], stable=True)[1]]
    is_neg = order < num_cand
    neg_seen = torch.cumsum(is_neg, 0) - is_neg.long()  # negatives before
    sorted_bucket = bucket[order]
    new_bucket = torch.ones_like(is_neg)
    new_bucket[1:] = sorted_bucket[1:] != sorted_bucket[:-1]
    arange = torch.arange(order.numel(), device=device)
    bucket_start = torch.cummax(arange * new_bucket, 0)[0]
    same_bucket_before = neg_seen - neg_seen[bucket_start]
    # positives in merged order = per row in (distance, column) order
    pos_order = order[~is_neg] - num_cand
    rows = pos_row[pos_order]
    row_start = torch.cumsum(num_pos, 0) - num_pos
    # 1-based position of each positive among its row's positives
    among_pos = torch.arange(1, rows.numel() + 1, device=device)
    among_pos -= row_start[rows]
    rank = (among_pos + neg_lower[pos_order] +
            same_bucket_before[~is_neg]).double()  # among kept entries

    # 3. AP, INP and first hits.
    precision = among_pos.double() / rank
    ap_sum_rows = torch.zeros_like(lowest).index_add_(0, rows, precision)
    ap = ap_sum_rows[valid] / num_pos[valid]
    hardest = among_pos == num_pos[rows]
    inp = among_pos[hardest].double() / rank[hardest]
    first = among_pos == 1
    if identity is None:
        first_hit = rank[first].long()
    else:
        first_col = pos_col[pos_order][first]
        first_hit = 1 + _distinct_before(dist, ignore, rows[first], first_col,
                                         identity[0], identity[1])
    first_hit = first_hit.clamp(max=max_rank + 1)
    first_hist += torch.bincount(first_hit, minlength=max_rank + 2)
    return dict(
        num_valid=valid.sum(),
        ap_sum=ap.sum(),
        inp_sum=inp.sum(),
        first_hist=first_hist)


def _check_trials(trials: Sequence, num_gallery: int, proto: object,
                  device: torch.device) -> List[Tensor]:
    """Validate ``gallery_trials`` output: non-empty 1-D index tensors."""
    if isinstance(trials, Tensor) or not len(trials):
        raise ValueError(
            f'{type(proto).__name__}.gallery_trials must return None or a '
            'non-empty list of 1-D gallery index tensors, got '
            f'{type(trials).__name__} of length {len(trials)}.')
    checked = []
    for t, cols in enumerate(trials):
        cols = torch.as_tensor(cols).to(device=device, dtype=torch.long)
        if cols.dim() != 1 or cols.numel() == 0:
            raise ValueError(
                f'{type(proto).__name__}.gallery_trials: trial {t} must be a '
                f'non-empty 1-D index tensor, got shape {tuple(cols.shape)}.')
        if int(cols.min()) < 0 or int(cols.max()) >= num_gallery:
            raise ValueError(
                f'{type(proto).__name__}.gallery_trials: trial {t} indexes '
                f'outside the gallery (0..{num_gallery - 1}).')
        if torch.unique(cols).numel() != cols.numel():
            raise ValueError(
                f'{type(proto).__name__}.gallery_trials: trial {t} lists a '
                'gallery entry twice.')
        checked.append(cols)
    return checked


def protocol_inputs(
    proto: BaseReIDProtocol, q_pids: ArrayLike, g_pids: ArrayLike,
    q_camids: Optional[ArrayLike], g_camids: Optional[ArrayLike],
    query_meta: Optional[Dict[str, ArrayLike]],
    gallery_meta: Optional[Dict[str, ArrayLike]], shape: Tuple[int, int],
    device: torch.device
) -> Tuple[Dict[str, Tensor], Dict[str, Tensor], Optional[List[Tensor]]]:
    """Checked query / gallery meta tensors and the protocol's gallery
    trials (None: one evaluation on the whole gallery) of a
    ``[num_query, num_gallery]`` distance matrix; shared by
    :func:`evaluate_rank` and ``evaluate_roc``."""
    num_query, num_gallery = shape
    query = _meta_dict(q_pids, q_camids, query_meta, 'query', num_query,
                       device)
    gallery = _meta_dict(g_pids, g_camids, gallery_meta, 'gallery',
                         num_gallery, device)
    proto.check_meta(query, 'query')
    proto.check_meta(gallery, 'gallery')
    trials = proto.gallery_trials(gallery)
    if trials is not None:
        trials = _check_trials(trials, num_gallery, proto, device)
    return query, gallery, trials


class _TrialScorer:
    """Per-trial state (gallery columns, pid index) and score sums.

    Args:
        cols (Tensor, optional): ``[g_t]`` gallery columns of the trial;
            None = the whole gallery.
        gallery (dict): meta of the whole gallery.
        identity_cmc (bool): count first hits at identity level.
    """

    def __init__(self, cols: Optional[Tensor], gallery: Dict[str, Tensor],
                 identity_cmc: bool, max_rank: int) -> None:
        self.cols = cols
        self.gallery = gallery if cols is None else {
            k: v[cols]
            for k, v in gallery.items()
        }
        g_pid = self.gallery['pid']
        self.g_pid = g_pid
        self.num_gallery = g_pid.numel()
        self.pid_index = _PidIndex(g_pid)
        self.buckets_per_row = max(1, self.num_gallery // GALLERY_PER_BUCKET)
        self.identity = None
        if identity_cmc:
            g_pid_id = torch.searchsorted(self.pid_index.values, g_pid)
            self.identity = (g_pid_id, self.pid_index.values.numel())
        self.num_valid = 0
        self.num_absent = 0
        self.ap_sum = 0.
        self.inp_sum = 0.
        self.first_hist = torch.zeros(
            max_rank + 2, dtype=torch.long, device=g_pid.device)

    def add(self, block: Tensor, query_chunk: Dict[str, Tensor],
            proto: BaseReIDProtocol, max_rank: int,
            workspace: Dict[str, Tensor]) -> None:
        """Score one query chunk (``block``: ``[q, g]`` whole gallery)."""
        if self.cols is not None:
            block = block.index_select(1, self.cols)
        ignore = proto.ignore_mask(query_chunk, self.gallery)
        if ignore.shape != block.shape or ignore.dtype != torch.bool:
            raise ValueError(
                f'{type(proto).__name__}.ignore_mask returned '
                f'{ignore.dtype} {tuple(ignore.shape)}, expected bool '
                f'{tuple(block.shape)}.')
        q_pid = query_chunk['pid']
        same_row, same_col = self.pid_index.pairs(q_pid)
        stats = _chunk_stats(block, ignore, same_row, same_col, max_rank,
                             self.buckets_per_row, workspace, self.identity)
        self.num_valid += int(stats['num_valid'])
        self.num_absent += int((~torch.isin(q_pid, self.g_pid)).sum())
        self.ap_sum += float(stats['ap_sum'])
        self.inp_sum += float(stats['inp_sum'])
        self.first_hist += stats['first_hist']

    def scores(self, max_rank: int) -> dict:
        hist = self.first_hist.cpu().double().numpy()
        num_valid = max(1, self.num_valid)
        return dict(
            mAP=self.ap_sum / num_valid,
            mINP=self.inp_sum / num_valid,
            cmc=np.cumsum(hist[1:max_rank + 1]) / num_valid,
            num_valid_queries=self.num_valid,
            num_absent_queries=self.num_absent,
            num_gallery=self.num_gallery)


def evaluate_rank(distmat: ArrayLike,
                  q_pids: ArrayLike,
                  g_pids: ArrayLike,
                  q_camids: Optional[ArrayLike] = None,
                  g_camids: Optional[ArrayLike] = None,
                  max_rank: int = 50,
                  *,
                  protocol: ProtocolLike = 'market',
                  query_meta: Optional[Dict[str, ArrayLike]] = None,
                  gallery_meta: Optional[Dict[str, ArrayLike]] = None,
                  device: Union[None, str, torch.device] = None,
                  chunk_size: Optional[int] = None,
                  memory_budget_mb: float = 256.,
                  num_threads: Optional[int] = None) -> dict:
    """CMC, mAP and mINP of a query x gallery distance matrix.

    For each query the protocol removes some gallery entries (Market: same
    pid and same camera); the remaining same-pid entries are its positives.
    Queries without any positive left are skipped.  Kept entries are ranked
    by ascending distance; exact ties are broken by gallery index (lower
    first).

    A protocol with ``cmc_level = 'identity'`` counts CMC hits on the ranked
    identity list (first occurrence of each gallery pid; SYSU-MM01).  A
    protocol whose ``gallery_trials(gallery)`` returns column subsets is
    scored once per subset ("trial") and the metrics are averaged (SYSU's
    10 random galleries); the query chunks are shared by all trials.

    Args:
        distmat (ndarray | Tensor): ``[num_query, num_gallery]`` distances
            (smaller = more similar).  NaN is rejected.
        q_pids, g_pids (array-like): ``[num_query]`` / ``[num_gallery]``
            integer identities.
        q_camids, g_camids (array-like, optional): camera ids; required by
            the ``'market'`` protocol.
        max_rank (int): length of the returned CMC curve.  Entries past the
            end of a short kept gallery keep the last value (1 for every
            valid query).
        protocol (str | dict | BaseReIDProtocol): entry of
            ``REID_PROTOCOLS`` (``'market'``, ``'msvr310'``, ...) or an
            object.
        query_meta, gallery_meta (dict, optional): extra per-sample integer
            meta read by the protocol, e.g. ``dict(scene_id=...)``.
        device (str | torch.device, optional): where to compute; defaults to
            ``distmat``'s device (CPU for numpy).  Chunks are moved there
            one at a time.
        chunk_size (int, optional): query rows per chunk; by default chosen
            so that temporaries stay within ``memory_budget_mb``.
        memory_budget_mb (float): working memory per chunk (MiB), used when
            ``chunk_size`` is None.
        num_threads (int, optional): torch CPU threads to use during the
            call (restored afterwards); None keeps the current setting.
            On a CPU shared with other busy processes ``1`` is often
            faster, since OpenMP regions wait for descheduled threads.

    Returns:
        dict: ``'mAP'`` and ``'mINP'`` (floats in [0, 1]), ``'cmc'``
        (``float64`` ndarray ``[max_rank]``, ``cmc[k-1]`` = rank-k),
        ``'num_valid_queries'`` and ``'num_queries'`` (ints).  With gallery
        trials ``'mAP'``, ``'mINP'`` and ``'cmc'`` are the means over the
        trials (each trial averages its own valid queries), and the dict
        also holds ``'mAP_std'``, ``'mINP_std'``, ``'cmc_std'`` (population
        standard deviation over the trials, ``ddof=0``), ``'num_trials'``,
        ``'trials'`` (one dict per trial: ``mAP``, ``mINP``, ``cmc``,
        ``num_valid_queries``, ``num_absent_queries`` = queries whose pid is
        not in the trial's gallery, ``num_gallery``), and
        ``'num_valid_queries'`` is the smallest count of any trial.

    Raises:
        ValueError: bad shapes, NaN distances, bad trials or no query with
            a positive (in any trial).
    """
    if int(max_rank) < 1:
        raise ValueError(f'max_rank must be >= 1, got {max_rank}')
    max_rank = int(max_rank)
    dist = _to_tensor(distmat)
    if dist.dim() != 2:
        raise ValueError('distmat must be 2-D [num_query, num_gallery], got '
                         f'shape {tuple(dist.shape)}')
    if not dist.dtype.is_floating_point:
        dist = dist.double()
    num_query, num_gallery = dist.shape
    if num_query == 0 or num_gallery == 0:
        raise ValueError(f'distmat is empty (shape {tuple(dist.shape)}): '
                         'need at least one query and one gallery sample.')
    device = torch.device(device) if device is not None else dist.device
    proto = build_protocol(protocol)
    if proto.cmc_level not in ('image', 'identity'):
        raise ValueError(
            f'{type(proto).__name__}.cmc_level={proto.cmc_level!r}: use '
            "'image' or 'identity'.")
    query, gallery, trials = protocol_inputs(proto, q_pids, g_pids, q_camids,
                                             g_camids, query_meta,
                                             gallery_meta, dist.shape, device)
    scorers = [
        _TrialScorer(cols, gallery, proto.cmc_level == 'identity', max_rank)
        for cols in (trials if trials is not None else [None])
    ]

    compute_dtype = dist.dtype
    if compute_dtype in (torch.float16, torch.bfloat16):
        compute_dtype = torch.float32  # exact widening
    if chunk_size is None:
        # a trial's temporaries, plus the whole-gallery block and mask
        largest = max(s.num_gallery for s in scorers)
        per_row = BYTES_PER_CELL * largest
        if trials is not None:
            element = torch.empty((), dtype=compute_dtype).element_size()
            per_row += element * num_gallery
        chunk_size = chunk_rows_for_budget(1, memory_budget_mb, per_row)
    # flat bucket ids are int32
    widest = max(s.buckets_per_row for s in scorers)
    chunk_size = max(1, min(int(chunk_size), (2**31 - 1) // (widest + 3)))
    workspace: Dict[str, Tensor] = {}

    with _torch_threads(num_threads if device.type == 'cpu' else None):
        for start in range(0, num_query, chunk_size):
            stop = min(start + chunk_size, num_query)
            block = dist[start:stop].to(device=device, dtype=compute_dtype)
            has_nan = bool(torch.isnan(block.sum()))  # cheap; or inf - inf
            if has_nan and bool(torch.isnan(block).any()):
                raise ValueError('distmat contains NaN (query rows '
                                 f'{start}..{stop - 1}); check the features.')
            query_chunk = {k: v[start:stop] for k, v in query.items()}
            for scorer in scorers:
                scorer.add(block, query_chunk, proto, max_rank, workspace)

    for t, scorer in enumerate(scorers):
        if scorer.num_valid:
            continue
        where = '' if trials is None else (
            f' in gallery trial {t} ({scorer.num_gallery} entries)')
        raise ValueError(
            f'No valid query{where}: none of the {num_query} queries has a '
            f'positive gallery sample left after the {proto!r} protocol '
            'removed the ignored entries (market: same pid and same camera; '
            'msvr310: same pid and same scene; sysu: camera-2 gallery for '
            'camera-3 queries). Likely causes: single-camera '
            '(or single-scene) data, query identities absent from the '
            'gallery, a wrong query/gallery split, or camera/scene ids that '
            'were not parsed (all equal).')
    per_trial = [scorer.scores(max_rank) for scorer in scorers]
    if trials is None:
        result = per_trial[0]
        return dict(
            mAP=result['mAP'],
            mINP=result['mINP'],
            cmc=result['cmc'],
            num_valid_queries=result['num_valid_queries'],
            num_queries=num_query)
    result = dict(num_queries=num_query, num_trials=len(per_trial))
    for key in ('mAP', 'mINP', 'cmc'):
        values = np.stack([np.asarray(r[key], np.float64) for r in per_trial])
        result[key] = values.mean(0) if key == 'cmc' else float(values.mean())
        std = values.std(0)
        result[key + '_std'] = std if key == 'cmc' else float(std)
    result['num_valid_queries'] = min(r['num_valid_queries']
                                      for r in per_trial)
    result['trials'] = per_trial
    return result
