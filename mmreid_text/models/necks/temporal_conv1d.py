# Copyright (c) mmreid_text contributors. All rights reserved.
"""Depthwise temporal convolution + average (VLD Table IV "Conv1D")."""
from typing import List, Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from mmreid_text.registry import MODELS
from ..utils.feature_contract import FeatureContract


@MODELS.register_module()
class TemporalConv1D(FeatureContract, BaseModule):
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
    key_attrs = dict(reads=('in_key', ), writes=('out_key', ))

    def __init__(self,
                 embed_dims: int = 512,
                 num_frames: int = 6,
                 in_key: str = 'proj_cls',
                 out_key: str = 'seq_proj_cls',
                 kernel_size: int = 3,
                 residual: bool = True,
                 init: str = 'shift',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'{name}: kernel_size must be odd and >= 1 (the '
                             f'output keeps T frames), got {kernel_size}.')
        if init not in self.INITS:
            raise ValueError(f'{name}: init must be one of {self.INITS}, '
                             f'got {init!r}.')
        if init == 'shift' and kernel_size < 3:
            raise ValueError(f'{name}: init="shift" needs kernel_size >= 3.')
        if num_frames < 1 or embed_dims < 1:
            raise ValueError(f'{name}: num_frames and embed_dims must be '
                             '>= 1.')
        self.embed_dims = int(embed_dims)
        self.num_frames = int(num_frames)
        self.in_key = in_key
        self.out_key = out_key
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

    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        """Add ``feats[out_key]`` ``[B, M, C]``."""
        frames = feats[self.in_key]
        shape = (self.num_frames, self.embed_dims)
        if frames.dim() != 4 or tuple(frames.shape[2:]) != shape:
            raise ValueError(
                f'{type(self).__name__}: feats["{self.in_key}"] must be '
                f'[B, M, {shape[0]}, {shape[1]}] per-frame features '
                f'(num_frames={shape[0]}, embed_dims={shape[1]}), got '
                f'{tuple(frames.shape)}.')
        lead = frames.shape[:2]
        out = dict(feats)
        out[self.out_key] = self.fuse(frames.flatten(0, 1)).unflatten(0, lead)
        return out
