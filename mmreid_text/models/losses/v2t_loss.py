# Copyright (c) mmreid_text contributors. All rights reserved.
"""VLD visual-to-text identity classification loss (Eq. 5)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmreid_text.registry import MODELS


@MODELS.register_module()
class VisualToTextLoss(nn.Module):
    """Cross-entropy of visual features against identity text prototypes.

    VLD Eq. 5::

        L_v2t = -1/n_b sum_i log( exp(s(f_i, t_{y_i})) /
                                  sum_j exp(s(f_i, t_j)) )

    with ``f_i`` the sequence-level (projected) visual feature, ``t_j``
    the text feature of identity ``j`` (all ``N_y`` identities,
    :class:`IdentityPrompt`) and ``s`` a similarity the paper does not
    define. ``similarity='dot'`` with ``logit_scale=1`` (default) is the
    public VLD code (``image_proj @ text.T``, no normalisation, no scale,
    as CLIP-ReID); ``'cosine'`` L2-normalises both sides and multiplies by
    ``logit_scale`` (CLIP uses 100 at the end of pre-training).

    Args:
        similarity (str): ``'dot'`` or ``'cosine'``.
        logit_scale (float): Factor on the similarities.
        label_smooth (float): Label smoothing of the cross-entropy (0 =
            plain CE, as the public code).
    """

    SIMILARITIES = ('dot', 'cosine')

    def __init__(self,
                 similarity: str = 'dot',
                 logit_scale: float = 1.0,
                 label_smooth: float = 0.0) -> None:
        super().__init__()
        if similarity not in self.SIMILARITIES:
            raise ValueError(f'VisualToTextLoss: similarity must be one of '
                             f'{self.SIMILARITIES}, got {similarity!r}.')
        if not 0.0 <= label_smooth < 1.0:
            raise ValueError('VisualToTextLoss: label_smooth must be in '
                             f'[0, 1), got {label_smooth}.')
        self.similarity = similarity
        self.logit_scale = float(logit_scale)
        self.label_smooth = float(label_smooth)

    def logits(self, visual: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """``[B, E]`` x ``[N_y, E]`` -> ``[B, N_y]``."""
        if self.similarity == 'cosine':
            visual = F.normalize(visual, dim=-1)
            text = F.normalize(text, dim=-1)
        return self.logit_scale * (visual @ text.t())

    def forward(self, visual: torch.Tensor, text: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """
        Args:
            visual (Tensor): ``[B, E]`` (or ``[B, 1, E]``, one modality
                slot) visual features.
            text (Tensor): ``[N_y, E]`` identity text features.
            labels (Tensor): ``[B]`` identity labels in ``0..N_y-1``.
        """
        if visual.dim() == 3 and visual.shape[1] == 1:
            visual = visual[:, 0]
        if visual.dim() != 2 or text.dim() != 2 or (visual.shape[1]
                                                    != text.shape[1]):
            raise ValueError(
                'VisualToTextLoss expects visual [B, E] (or [B, 1, E]) and '
                f'text [N_y, E], got {tuple(visual.shape)} and '
                f'{tuple(text.shape)}.')
        if labels.numel() and (int(labels.max()) >= text.shape[0]
                               or int(labels.min()) < 0):
            raise ValueError(
                f'VisualToTextLoss: labels {int(labels.min())}..'
                f'{int(labels.max())} do not index the {text.shape[0]} '
                'identity text features; set IdentityPrompt.num_ids to the '
                'number of training identities.')
        logits = self.logits(visual.float(), text.float())
        return F.cross_entropy(
            logits, labels, label_smoothing=self.label_smooth)
