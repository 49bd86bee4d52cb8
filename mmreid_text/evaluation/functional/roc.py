# Copyright (c) mmreid_text contributors. All rights reserved.
"""Verification ROC of a query x gallery distance matrix: TPR at FPR.

Every (query, gallery) pair the protocol keeps is a verification trial:
*positive* if the identities agree, *negative* otherwise; a pair is
accepted when its distance is below a threshold.  TPR is the share of
positive pairs accepted, FPR the share of negative pairs accepted.  For a
target FPR ``f`` the reported TPR is the largest one of any threshold with
``FPR <= f`` (the ROC point just left of ``f``, as
``max(tpr[fpr <= f])`` of ``sklearn.metrics.roc_curve`` with
``drop_intermediate=False`` and ``-distance`` as score): with ``m`` the
largest count with ``m / num_negatives <= f``, the threshold is the
``(m + 1)``-th smallest negative distance and the positives strictly
below it are accepted.

Exact and in bounded memory: one pass counts the pairs and keeps the
positive distances, a second keeps only the ``m + 1`` smallest negative
distances (``topk`` per query chunk, merged).
"""
import math
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from ..protocols.base_protocol import ProtocolLike, build_protocol
from .rank import ArrayLike, _to_tensor, chunk_rows_for_budget, protocol_inputs

#: FPR targets reported by default (fast-reid's TEST.ROC).
DEFAULT_FPRS = (1e-4, 1e-3, 1e-2)


def fpr_key(fpr: float) -> str:
    """Metric name of a target FPR: ``'TPR@FPR=1e-04'`` (fast-reid's)."""
    return f'TPR@FPR={fpr:.0e}'


def _allowed_false(fpr: float, num_negative: int) -> int:
    """Largest ``m`` with ``m / num_negative <= fpr`` (float comparison)."""
    m = min(num_negative, int(math.floor(fpr * num_negative)))
    while m < num_negative and (m + 1) / num_negative <= fpr:
        m += 1
    while m > 0 and m / num_negative > fpr:
        m -= 1
    return m


def _roc_one_gallery(dist: Tensor, query: Dict[str, Tensor],
                     gallery: Dict[str, Tensor], cols: Optional[Tensor], proto,
                     fprs: Sequence[float], chunk: int) -> dict:
    """TPR at each FPR of one gallery (or trial, ``cols``)."""
    if cols is not None:
        gallery = {k: v[cols] for k, v in gallery.items()}
    num_query = dist.shape[0]

    def blocks():
        for start in range(0, num_query, chunk):
            block = dist[start:start + chunk]
            if cols is not None:
                block = block.index_select(1, cols)
            q_chunk = {k: v[start:start + chunk] for k, v in query.items()}
            kept = ~proto.ignore_mask(q_chunk, gallery)
            same = q_chunk['pid'][:, None] == gallery['pid'][None]
            yield block, kept & same, kept & ~same

    positives: List[Tensor] = []
    num_negative = 0
    for block, pos, neg in blocks():
        positives.append(block[pos])
        num_negative += int(neg.sum())
    positive = torch.cat(positives)
    if positive.numel() == 0 or num_negative == 0:
        raise ValueError(
            f'ROC: {positive.numel()} positive and {num_negative} negative '
            f'pairs are left after the {proto!r} protocol; both kinds are '
            'needed (query identities must appear in the gallery, from '
            'cameras the protocol keeps, and other identities too).')
    allowed = [_allowed_false(f, num_negative) for f in fprs]
    keep = min(max(allowed) + 1, num_negative)
    smallest = dist.new_empty(0)
    for block, _, neg in blocks():
        values = torch.where(neg, block, torch.full_like(block, math.inf))
        values = values.flatten()
        values = values.topk(min(keep, values.numel()), largest=False).values
        smallest = torch.cat([smallest, values])
        smallest = smallest.topk(
            min(keep, smallest.numel()), largest=False).values
    smallest, _ = smallest.sort()
    tprs, thresholds = [], []
    for m in allowed:
        threshold = smallest[m] if m < num_negative else math.inf
        thresholds.append(float(threshold))
        tprs.append(float((positive < threshold).double().mean()))
    return dict(
        tpr=np.asarray(tprs),
        threshold=np.asarray(thresholds),
        num_positive=int(positive.numel()),
        num_negative=num_negative)


def evaluate_roc(distmat: ArrayLike,
                 q_pids: ArrayLike,
                 g_pids: ArrayLike,
                 q_camids: Optional[ArrayLike] = None,
                 g_camids: Optional[ArrayLike] = None,
                 *,
                 fprs: Sequence[float] = DEFAULT_FPRS,
                 protocol: ProtocolLike = 'market',
                 query_meta: Optional[Dict[str, ArrayLike]] = None,
                 gallery_meta: Optional[Dict[str, ArrayLike]] = None,
                 device: Union[None, str, torch.device] = None,
                 memory_budget_mb: float = 256.) -> dict:
    """TPR at the target FPRs over the protocol's kept pairs.

    The protocol's ignored pairs (Market: same pid and camera) are neither
    positive nor negative.  A protocol with gallery trials (``sysu``) is
    evaluated per trial and averaged.

    Args:
        distmat (ndarray | Tensor): ``[q, g]`` distances.
        q_pids, g_pids, q_camids, g_camids, protocol, query_meta,
            gallery_meta, device, memory_budget_mb: as
            :func:`~mmreid_text.evaluation.functional.evaluate_rank`.
        fprs (Sequence[float]): target false positive rates in ``(0, 1]``.

    Returns:
        dict: ``'fpr'`` (the targets), ``'tpr'`` (``float64`` ndarray, one
        per target, in [0, 1]), ``'threshold'`` (the distance below which a
        pair is accepted), ``'num_positive'``, ``'num_negative'`` (pairs);
        with trials the means over trials and ``'tpr_std'`` (population
        std), and ``'num_trials'``.
    """
    fprs = tuple(float(f) for f in fprs)
    if not fprs or any(not 0. < f <= 1. for f in fprs):
        raise ValueError(f'ROC: target FPRs must lie in (0, 1], got {fprs}.')
    dist = _to_tensor(distmat)
    if dist.dim() != 2 or 0 in dist.shape:
        raise ValueError('ROC: distmat must be a non-empty 2-D [q, g] '
                         f'matrix, got shape {tuple(dist.shape)}.')
    device = torch.device(device) if device is not None else dist.device
    dist = dist.to(device)
    if not dist.dtype.is_floating_point:
        dist = dist.double()
    if bool(torch.isnan(dist).any()):
        raise ValueError('ROC: distmat contains NaN; check the features.')
    proto = build_protocol(protocol)
    query, gallery, trials = protocol_inputs(proto, q_pids, g_pids, q_camids,
                                             g_camids, query_meta,
                                             gallery_meta, dist.shape, device)
    chunk = chunk_rows_for_budget(dist.shape[1], memory_budget_mb, 16)
    results = [
        _roc_one_gallery(dist, query, gallery, cols, proto, fprs, chunk)
        for cols in (trials if trials is not None else [None])
    ]
    if trials is None:
        return dict(fpr=np.asarray(fprs), **results[0])
    tpr = np.stack([r['tpr'] for r in results])
    return dict(
        fpr=np.asarray(fprs),
        tpr=tpr.mean(0),
        tpr_std=tpr.std(0),
        threshold=np.stack([r['threshold'] for r in results]).mean(0),
        num_positive=int(round(np.mean([r['num_positive'] for r in results]))),
        num_negative=int(round(np.mean([r['num_negative'] for r in results]))),
        num_trials=len(results))
