# Copyright (c) mmreid_text contributors. All rights reserved.
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmreid_text.registry import MODELS


def pairwise_euclidean(x: torch.Tensor) -> torch.Tensor:
    """Euclidean distances of the rows of ``x`` ``[B, D]`` -> ``[B, B]``."""
    sq = x.pow(2).sum(1, keepdim=True)
    dist = sq + sq.t() - 2.0 * (x @ x.t())
    return dist.clamp(min=1e-12).sqrt()


@MODELS.register_module()
class TripletLoss(nn.Module):
    """Batch-hard triplet loss (Hermans et al. 2017).

    For each anchor the farthest positive and the closest negative of the
    batch are used: ``max(0, d(a, p) - d(a, n) + margin)``, or the
    soft-margin form ``log(1 + exp(d(a, p) - d(a, n)))`` when
    ``soft_margin=True`` (DeMo / IDEA ``NO_MARGIN``). Anchors without a
    positive or a negative in the batch are skipped.

    Args:
        margin (float): Margin of the hinge. Defaults to 0.3.
        soft_margin (bool): Use the soft-margin form instead.
        normalize_feature (bool): L2-normalise features first.
    """

    def __init__(self,
                 margin: float = 0.3,
                 soft_margin: bool = False,
                 normalize_feature: bool = False) -> None:
        super().__init__()
        self.margin = margin
        self.soft_margin = soft_margin
        self.normalize_feature = normalize_feature

    def forward(self, feats: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """
        Args:
            feats (Tensor): ``[B, D]`` features.
            labels (Tensor): ``[B]`` identity labels.
        """
        if self.normalize_feature:
            feats = F.normalize(feats, dim=1)
        dist = pairwise_euclidean(feats.float())
        same = labels[:, None] == labels[None, :]
        eye = torch.eye(len(labels), dtype=torch.bool, device=feats.device)
        pos_mask = same & ~eye
        neg_mask = ~same
        valid = pos_mask.any(1) & neg_mask.any(1)
        if not valid.any():
            return feats.sum() * 0.0
        hardest_pos = dist.masked_fill(~pos_mask, float('-inf')).amax(1)
        hardest_neg = dist.masked_fill(~neg_mask, float('inf')).amin(1)
        diff = (hardest_pos - hardest_neg)[valid]
        if self.soft_margin:
            return F.softplus(diff).mean()
        return F.relu(diff + self.margin).mean()
