# Copyright (c) mmreid_text contributors. All rights reserved.
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmreid_text.registry import MODELS

SUPCON_DIRECTIONS = ('f2t', 't2f')


def supervised_contrastive(anchors: torch.Tensor, contrasts: torch.Tensor,
                           labels: torch.Tensor,
                           temperature: float) -> torch.Tensor:
    """One direction of the supervised contrastive loss.

    For anchor ``i``: ``-mean_{j: y_j = y_i} log softmax_k(<a_i, c_k> / T)_j``
    over the batch (``k`` runs over all contrasts), averaged over anchors.
    Every anchor has at least its own pair (``j = i``) as positive.

    Args:
        anchors: ``[B, D]``.
        contrasts: ``[B, D]``, row ``i`` pairs with ``anchors[i]``.
        labels: ``[B]`` identity labels.
        temperature: ``T``.
    """
    logits = anchors @ contrasts.t() / temperature
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    positives = (labels[:, None] == labels[None, :]).to(log_prob.dtype)
    mean_log_prob = (positives * log_prob).sum(1) / positives.sum(1)
    return -mean_log_prob.mean()


@MODELS.register_module()
class SupConLoss(nn.Module):
    """Symmetric feature-text supervised contrastive loss (DEEP Eq. 5-7).

    ``L = 1/M sum_m (L_f2t(f_m, p_m) + L_t2f(p_m, f_m))``: for every
    spectrum ``m`` each feature is contrasted with all prompts of the batch
    (and vice versa); positives are the pairs of the same identity.

    DEEP writes ``<., .> / gamma`` without giving ``gamma`` or saying
    whether features are normalised; the defaults follow CLIP-ReID and the
    authors' ICPL code: ``T = 1`` on unnormalised features.

    Args:
        temperature (float): ``gamma``.
        normalize (bool): L2-normalise both sides first (cosine).
        directions (Sequence[str]): Any of ``'f2t'``, ``'t2f'``.
    """

    def __init__(self,
                 temperature: float = 1.0,
                 normalize: bool = False,
                 directions: Sequence[str] = SUPCON_DIRECTIONS) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}.')
        directions = tuple(directions)
        if not directions or set(directions) - set(SUPCON_DIRECTIONS):
            raise ValueError(f'directions must be a non-empty subset of '
                             f'{SUPCON_DIRECTIONS}, got {directions}.')
        self.temperature = temperature
        self.normalize = normalize
        self.directions = directions

    def forward(self, feats: torch.Tensor, text: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """
        Args:
            feats: ``[B, M, D]`` (or ``[B, D]``) visual features.
            text: Same shape, the paired prompts.
            labels: ``[B]`` identity labels.
        """
        if feats.dim() == 2:
            feats, text = feats[:, None], text[:, None]
        if feats.dim() != 3 or feats.shape != text.shape:
            raise ValueError(
                'SupConLoss expects features and text of the same shape '
                f'[B, M, D] or [B, D], got {tuple(feats.shape)} and '
                f'{tuple(text.shape)}.')
        if labels.shape != feats.shape[:1]:
            raise ValueError(f'labels {tuple(labels.shape)} do not match '
                             f'the batch of {feats.shape[0]}.')
        feats, text = feats.float(), text.float()
        if self.normalize:
            feats = F.normalize(feats, dim=-1)
            text = F.normalize(text, dim=-1)
        total = feats.new_zeros(())
        for index in range(feats.shape[1]):
            feat, prompt = feats[:, index], text[:, index]
            if 'f2t' in self.directions:
                total = total + supervised_contrastive(feat, prompt, labels,
                                                       self.temperature)
            if 't2f' in self.directions:
                total = total + supervised_contrastive(prompt, feat, labels,
                                                       self.temperature)
        return total / feats.shape[1]
