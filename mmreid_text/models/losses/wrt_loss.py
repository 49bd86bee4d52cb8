# Copyright (c) mmreid_text contributors. All rights reserved.
"""Weighted regularised triplet loss (AGW, Ye et al. TPAMI 2021)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmreid_text.registry import MODELS
from .triplet_loss import pairwise_euclidean


def _masked_softmax(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Row-wise softmax of ``values`` over the entries where ``mask``."""
    values = values.masked_fill(~mask, float('-inf'))
    weights = torch.softmax(values, dim=1)
    # rows without any entry give NaN from softmax(-inf...): zero them
    return torch.where(mask, weights, torch.zeros_like(weights))


@MODELS.register_module()
class WRTLoss(nn.Module):
    """Weighted regularised triplet (WRT) loss, VLD Eq. 4 / 13 (AGW).

    For anchor ``i`` with positive set ``P_i`` and negative set ``N_i`` in
    the batch and Euclidean distances ``d``::

        w_ij^p = exp(d_ij) / sum_{j' in P_i} exp(d_ij')
        w_ik^n = exp(-d_ik) / sum_{k' in N_i} exp(-d_ik')
        L = mean_i log(1 + exp(sum_j w_ij^p d_ij - sum_k w_ik^n d_ik))

    (softmax-weighted far positives and close negatives, soft margin; no
    margin hyper-parameter). The weights are not detached (as AGW).

    Args:
        include_self (bool): The anchor belongs to its own positive set
            (distance 0), as AGW's and the public VLD code's ``is_pos``
            mask does (default). False uses the other samples of the
            identity only.
        normalize_feature (bool): L2-normalise the features first (AGW
            option, off in VLD).

    Anchors with no negative (or, with ``include_self=False``, no other
    positive) in the batch are left out of the mean; a batch with no such
    anchor gives 0 (with a gradient path).
    """

    def __init__(self,
                 include_self: bool = True,
                 normalize_feature: bool = False) -> None:
        super().__init__()
        self.include_self = include_self
        self.normalize_feature = normalize_feature

    def forward(self, feats: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """
        Args:
            feats (Tensor): ``[B, D]`` features; ``[B, M, D]`` (modality
                slots, e.g. a temporally pooled backbone key) is flattened
                to ``[B, M*D]``.
            labels (Tensor): ``[B]`` identity labels.
        """
        if feats.dim() == 3:
            feats = feats.flatten(1)
        if feats.dim() != 2 or labels.shape != feats.shape[:1]:
            raise ValueError(
                f'WRTLoss expects features [B, D] (or [B, M, D]) and labels '
                f'[B], got {tuple(feats.shape)} and {tuple(labels.shape)}.')
        if self.normalize_feature:
            feats = F.normalize(feats, dim=1)
        dist = pairwise_euclidean(feats.float())
        same = labels[:, None] == labels[None, :]
        pos_mask = same
        if not self.include_self:
            eye = torch.eye(len(labels), dtype=torch.bool, device=dist.device)
            pos_mask = same & ~eye
        neg_mask = ~same
        valid = pos_mask.any(1) & neg_mask.any(1)
        if not valid.any():
            return feats.sum() * 0.0
        w_pos = _masked_softmax(dist, pos_mask)
        w_neg = _masked_softmax(-dist, neg_mask)
        far_pos = (w_pos * dist).sum(1)
        close_neg = (w_neg * dist).sum(1)
        return F.softplus((far_pos - close_neg)[valid]).mean()
