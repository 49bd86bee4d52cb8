# Copyright (c) mmreid_text contributors. All rights reserved.
"""Generalised-mean (GeM) pooling of a spatial feature map."""
from typing import List, Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from mmreid_text.registry import MODELS
from ..utils.feature_contract import FeatureContract


@MODELS.register_module()
class GeMPooling(FeatureContract, BaseModule):
    """Generalised-mean pooling over the spatial axes (Radenovic et al.).

    For every channel of a map ``x`` with ``h * w`` positions::

        gem(x) = (1 / (h * w) * sum_ij clamp(x_ij, min=eps) ** p) ** (1 / p)

    ``p = 1`` is average pooling, ``p -> inf`` tends to max pooling. As in
    AGW and CSDN (the code EEES follows), ``p`` is one learnable scalar
    shared by all channels, initialised to 3, and the map is clamped at
    ``eps = 1e-6`` (the power of a non-positive value is undefined for
    non-integer ``p``). The power is computed in float32 (a cube of fp16
    activations overflows easily); the result has the input's dtype.

    Reads ``feats[in_key]`` ``[B, M, C, h, w]`` (``[B, M, T, C, h, w]`` for
    tracklets), writes ``feats[out_key]`` ``[B, M, C]`` (``[B, M, T, C]``).

    Args:
        in_key (str): The spatial map. Defaults to ``'feature_map'`` (the
            ModifiedResNet layer4 map of ``CLIPVisionBackbone``).
        out_key (str): The pooled feature. Defaults to ``'gem'``.
        p (float): Initial exponent (> 0). Defaults to 3.
        eps (float): Clamp minimum (> 0). Defaults to 1e-6.
        learnable_p (bool): Train ``p`` (a parameter) or keep it fixed (a
            buffer). Defaults to True.
    """

    key_attrs = dict(reads=('in_key', ), writes=('out_key', ))

    def __init__(self,
                 in_key: str = 'feature_map',
                 out_key: str = 'gem',
                 p: float = 3.0,
                 eps: float = 1e-6,
                 learnable_p: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        if p <= 0:
            raise ValueError(f'{name}: p must be > 0, got {p}.')
        if eps <= 0:
            raise ValueError(f'{name}: eps must be > 0, got {eps}.')
        self.in_key = in_key
        self.out_key = out_key
        self.eps = float(eps)
        self.learnable_p = bool(learnable_p)
        init = torch.full((1, ), float(p))
        if self.learnable_p:
            self.p = nn.Parameter(init)
        else:
            self.register_buffer('p', init)

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """``[..., C, h, w]`` -> ``[..., C]``."""
        p = self.p.float()
        pooled = x.float().clamp(min=self.eps).pow(p).mean(dim=(-2, -1))
        return pooled.pow(1.0 / p).to(x.dtype)

    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        """Add ``feats[out_key]``, the GeM of ``feats[in_key]``."""
        x = feats[self.in_key]
        if not isinstance(x, torch.Tensor) or x.dim() not in (5, 6):
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else x
            raise ValueError(
                f'{type(self).__name__}: feats["{self.in_key}"] must be a '
                f'spatial map [B, M, C, h, w] (or [B, M, T, C, h, w]), got '
                f'{shape}. With CLIPVisionBackbone use a ModifiedResNet '
                "(RN) arch and in_key='feature_map'.")
        out = dict(feats)
        out[self.out_key] = self.pool(x)
        return out

    def extra_repr(self) -> str:
        return (f'in_key={self.in_key!r}, out_key={self.out_key!r}, '
                f'p={self.p.item():.4f}, eps={self.eps}, '
                f'learnable_p={self.learnable_p}')
