# Copyright (c) mmreid_text contributors. All rights reserved.
"""Depthwise temporal convolution + average (VLD Table IV "Conv1D")."""
from typing import Optional

import torch
from torch import nn

from mmreid_text.registry import MODELS
from ..utils.temporal_fusion import BaseTemporalFusion


@MODELS.register_module()
class TemporalConv1D(BaseTemporalFusion):
    """Fuse per-frame features with a depthwise 1-D convolution over time.

    The "Conv1D" temporal aggregation of VLD's Table IV (Li et al., TIFS
    2025), which follows the ``Conv_1D`` option of the temporal module
    TF-CLIP ships (``model/Visual_Prompt.py``, from ActionCLIP). For every
    tracklet ``x`` ``[T, C]`` (one modality slot of a sample)::

        y_t = x_t + sum_j w[c, j] * x_{t + j - k // 2}     (per channel c,
                                                            zero padded)
        out = (1 / T) sum_t y_t

    i.e. a residual depthwise ``Conv1d(C, C, k, groups=C, bias=False)``
    along the frame axis, then the temporal average.

    ``init='shift'`` (default, as TF-CLIP) starts the kernel as a temporal
    shift: the first ``C // 4`` channels take the previous frame (tap
    ``k // 2 - 1``), the last ``C // 4`` the next frame (tap ``k // 2 + 1``)
    and the others the frame itself (tap ``k // 2``); ``'zeros'`` starts
    from the identity (the output is then exactly the temporal average).

    Differences from the TF-CLIP code (documented in configs/vld/README.md):
    its forward reshapes ``[B, T, C]`` to ``[B, C, T]`` with ``view`` (which
    mixes frames and channels) where this module transposes; its
    ``nn.Embedding(77, 512)`` frame-position table, created but never used
    by ``Conv_1D``, is not built (it is the 0.04 M of Table IV).

    Args:
        embed_dims (int): ``C`` of ``feats[in_key]`` (512, the CLIP
            projection width, for Table IV).
        num_frames (int): ``T``; inputs with another ``T`` are refused.
        in_key (str): Per-frame features ``[B, M, T, C]``.
        out_key (str): Sequence feature ``[B, M, C]``.
        kernel_size (int): Odd temporal kernel ``k`` (3).
        residual (bool): Add the input to the convolution output (True).
        init (str): ``'shift'`` | ``'zeros'``.
    """

    INITS = ('shift', 'zeros')

    def __init__(self,
                 embed_dims: int = 512,
                 num_frames: int = 6,
                 in_key: str = 'proj_cls',
                 out_key: str = 'seq_proj_cls',
                 kernel_size: int = 3,
                 residual: bool = True,
                 init: str = 'shift',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(embed_dims, num_frames, in_key, out_key, init_cfg)
        name = type(self).__name__
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'{name}: kernel_size must be odd and >= 1 (the '
                             f'output keeps T frames), got {kernel_size}.')
        if init not in self.INITS:
            raise ValueError(f'{name}: init must be one of {self.INITS}, '
                             f'got {init!r}.')
        if init == 'shift' and kernel_size < 3:
            raise ValueError(f'{name}: init="shift" needs kernel_size >= 3.')
        self.residual = residual
        self.conv = nn.Conv1d(
            embed_dims,
            embed_dims,
            kernel_size,
            padding=kernel_size // 2,
            groups=embed_dims,
            bias=False)
        self._init_kernel(init)

    def _init_kernel(self, init: str) -> None:
        weight = torch.zeros_like(self.conv.weight)  # [C, 1, k]
        if init == 'shift':
            centre, fold = self.conv.kernel_size[0] // 2, self.embed_dims // 4
            channels = self.embed_dims
            weight[:fold, 0, centre - 1] = 1.0  # previous frame
            weight[fold:channels - fold, 0, centre] = 1.0  # this frame
            weight[channels - fold:, 0, centre + 1] = 1.0  # next frame
        with torch.no_grad():
            self.conv.weight.copy_(weight)

    def fuse(self, frames: torch.Tensor) -> torch.Tensor:
        """``[N, T, C]`` -> ``[N, C]``."""
        mixed = self.conv(frames.transpose(1, 2)).transpose(1, 2)
        if self.residual:
            mixed = mixed + frames
        return mixed.mean(dim=1)
