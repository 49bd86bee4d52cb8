# Copyright (c) mmreid_text contributors. All rights reserved.
"""Query x gallery distance matrices computed in bounded-memory chunks."""
from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor

DISTANCE_METRICS = ('euclidean', 'cosine', 'dot')


def compute_distance_matrix(query_feats: Tensor,
                            gallery_feats: Tensor,
                            metric: str = 'euclidean',
                            device: Union[None, str, torch.device] = None,
                            chunk_size: Optional[int] = None,
                            memory_budget_mb: float = 256.) -> Tensor:
    """Pairwise distances between query and gallery features.

    - ``'euclidean'``: ``sqrt(max(|q|^2 + |g|^2 - 2 q.g, 0))`` (the true
      Euclidean distance; torchreid returns its square, which ranks the
      same).
    - ``'cosine'``: ``1 - cos(q, g)`` (features are L2-normalised here).
    - ``'dot'``: ``-q.g``, the negative inner product of the features as
      given (the public VLD code ranks unnormalised features this way; use
      it with ``feat_norm=False``, else it ranks as ``'cosine'``).

    Args:
        query_feats (Tensor): ``[num_query, F]``.
        gallery_feats (Tensor): ``[num_gallery, F]``.
        metric (str): ``'euclidean'``, ``'cosine'`` or ``'dot'``.
        device (str | torch.device, optional): where the products are
            computed (default: the query features' device).  The result is
            returned on the query features' device.
        chunk_size (int, optional): query rows per chunk; by default from
            ``memory_budget_mb``.
        memory_budget_mb (float): working memory of one chunk (MiB).

    Returns:
        Tensor: ``[num_query, num_gallery]`` float32 distances.
    """
    if metric not in DISTANCE_METRICS:
        raise ValueError(f'Unknown distance metric {metric!r}; choose one '
                         f'of {DISTANCE_METRICS}.')
    if query_feats.dim() != 2 or gallery_feats.dim() != 2:
        raise ValueError('features must be 2-D [N, F], got query '
                         f'{tuple(query_feats.shape)} and gallery '
                         f'{tuple(gallery_feats.shape)}')
    if query_feats.shape[1] != gallery_feats.shape[1]:
        raise ValueError('query and gallery feature sizes differ: '
                         f'{query_feats.shape[1]} vs {gallery_feats.shape[1]}')
    out_device = query_feats.device
    device = torch.device(device) if device is not None else out_device
    num_query, num_gallery = query_feats.shape[0], gallery_feats.shape[0]
    gallery = gallery_feats.to(device=device, dtype=torch.float32)
    if metric == 'cosine':
        gallery = F.normalize(gallery, dim=1)
    elif metric == 'euclidean':
        gallery_sq = gallery.pow(2).sum(dim=1)
    if chunk_size is None:
        # product + squared terms + result copy: ~3 float32 per cell
        per_row = 12 * max(1, num_gallery)
        chunk_size = max(1, int(memory_budget_mb * 2**20 // per_row))
    distmat = torch.empty((num_query, num_gallery),
                          dtype=torch.float32,
                          device=out_device)
    for start in range(0, num_query, chunk_size):
        query = query_feats[start:start + chunk_size].to(
            device=device, dtype=torch.float32)
        if metric == 'cosine':
            block = 1 - F.normalize(query, dim=1) @ gallery.t()
        elif metric == 'dot':
            block = -(query @ gallery.t())
        else:
            block = torch.addmm(
                query.pow(2).sum(dim=1, keepdim=True) + gallery_sq[None, :],
                query,
                gallery.t(),
                alpha=-2)
            block.clamp_(min=0).sqrt_()
        distmat[start:start + block.shape[0]] = block.to(out_device)
    return distmat
