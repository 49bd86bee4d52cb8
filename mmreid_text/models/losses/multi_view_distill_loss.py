# Copyright (c) mmreid_text contributors. All rights reserved.
"""EEES CVSC multi-view to single-view distillation (Eq. 11)."""
from typing import Optional, Sequence

import torch
import torch.nn as nn

from mmreid_text.registry import MODELS
from .modality_groups import group_items

DISTILL_DETACH = ('multi_view', 'single_view', 'none')
DISTILL_REDUCTIONS = ('mean', 'sum')


@MODELS.register_module()
class MultiViewDistillationLoss(nn.Module):
    """MSE between the multi-view and the single-view features (``L_kd``).

    EEES Eq. 11::

        L_kd = sum_{g in modalities} ( 1/N_g sum_i ||f_{m,i}^g - f_i^g||^2
                                     + 1/N_g sum_i ||t_{m,i}^g - t_i^g||^2 )

    on the image side ``f`` and the text side ``t`` of every modality
    (visible and infrared: four terms), with the multi-view features of
    :class:`CrossViewFusion` (Eq. 6 / 7).

    Open choices (the paper does not give them):

    - ``detach``: which side is the constant target. ``'multi_view'``
      (default) makes the multi-view feature the distillation teacher: the
      gradient only moves the single-view features towards it, which is
      what "propagate multi-view information into the current view"
      describes and what a single-view test feature needs.
      ``'single_view'`` detaches the single view instead, ``'none'`` lets
      both move.
    - ``reduction``: the paper calls ``||.||_2^2`` "Mean Squared Error
      (MSE) loss"; ``'mean'`` (default) averages the squared differences
      over the ``E`` dimensions (PyTorch's ``MSELoss``), ``'sum'`` sums
      them (the squared L2 norm as the formula is typeset; ``E`` times
      larger, so ``lambda_3`` would need rescaling).

    A sample without another sample of its identity and modality has a
    multi-view feature equal to its own (see :class:`CrossViewFusion`) and
    contributes 0 to the mean.

    Inputs (``LossTerm`` ``inputs``, in this order):
    ``(multi_image_key, image_key, multi_text_key, text_key
    [, 'sample_modalities'])``, e.g. ``('proj_cls_mv', 'proj_cls',
    'caption_text_mv', 'caption_text', 'sample_modalities')``. Without
    ``sample_modalities`` the batch is one group (the sum over modalities
    of Eq. 11 becomes a mean over the batch; with equal ``N_v = N_r`` half
    of Eq. 11).

    Args:
        detach (str): ``'multi_view'``, ``'single_view'`` or ``'none'``.
        reduction (str): ``'mean'`` or ``'sum'`` over the feature
            dimensions.
        modalities (Sequence[str], optional): Names of the ``M`` slots of
            ``[B, M, E]`` inputs (no effect otherwise).
    """

    def __init__(self,
                 detach: str = 'multi_view',
                 reduction: str = 'mean',
                 modalities: Optional[Sequence[str]] = None) -> None:
        super().__init__()
        name = type(self).__name__
        if detach not in DISTILL_DETACH:
            raise ValueError(f'{name}: detach must be one of '
                             f'{DISTILL_DETACH}, got {detach!r}.')
        if reduction not in DISTILL_REDUCTIONS:
            raise ValueError(f'{name}: reduction must be one of '
                             f'{DISTILL_REDUCTIONS}, got {reduction!r}.')
        self.detach = detach
        self.reduction = reduction
        self.modalities = tuple(modalities) if modalities else None

    def _squared_error(self, multi: torch.Tensor,
                       single: torch.Tensor) -> torch.Tensor:
        """``[n, E]`` x ``[n, E]`` -> ``[n]``."""
        if self.detach == 'multi_view':
            multi = multi.detach()
        elif self.detach == 'single_view':
            single = single.detach()
        error = (multi.float() - single.float()).pow(2)
        return error.mean(-1) if self.reduction == 'mean' else error.sum(-1)

    def forward(
            self,
            multi_image: torch.Tensor,
            image: torch.Tensor,
            multi_text: torch.Tensor,
            text: torch.Tensor,
            sample_modalities: Optional[Sequence[str]] = None) -> torch.Tensor:
        """
        Args:
            multi_image (Tensor): ``[B, E]`` / ``[B, 1, E]`` / ``[B, M, E]``
                multi-view image features ``f_m``.
            image (Tensor): Same shape, single-view ``f``.
            multi_text (Tensor): Multi-view text features ``t_m`` (same
                layout; the width may differ from the image side).
            text (Tensor): Same shape as ``multi_text``, single-view ``t``.
            sample_modalities (Sequence[str], optional): ``B`` modality
                names (one-modality layout).

        Returns:
            Scalar ``L_kd``.
        """
        name = type(self).__name__
        for multi, single, side in ((multi_image, image, 'image'),
                                    (multi_text, text, 'text')):
            if multi.shape != single.shape:
                raise ValueError(
                    f'{name}: the multi-view and single-view {side} '
                    f'features differ in shape: {tuple(multi.shape)} vs '
                    f'{tuple(single.shape)}.')
        labels = torch.zeros(
            image.shape[0], dtype=torch.long, device=image.device)
        items = group_items(
            (multi_image, image, multi_text, text),
            labels,
            sample_modalities,
            name,
            slot_names=self.modalities,
            what=('multi_image', 'image', 'multi_text', 'text'))
        mv_image, sv_image, mv_text, sv_text = items.features
        image_error = self._squared_error(mv_image, sv_image)
        text_error = self._squared_error(mv_text, sv_text)
        total = image_error.new_zeros(())
        for group in items.names:
            index = items.index(group)
            total = total + image_error[index].mean() + text_error[index].mean(
            )
        return total
