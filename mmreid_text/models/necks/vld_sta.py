# Copyright (c) mmreid_text contributors. All rights reserved.
"""VLD spatial-temporal aggregation (STA, Li et al., TIFS 2025, Eq. 10)."""
from typing import List, Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from mmreid_text.registry import MODELS
from ..utils.feature_contract import FeatureContract


@MODELS.register_module()
class SpatialTemporalAggregation(FeatureContract, BaseModule):
    """STA: each frame's CLS attends to the tracklet's whole hub (Eq. 10).

    For every tracklet (one modality slot of a sample)::

        f_H^t = LN(MHA_sta(f_cls^t, H_hat, H_hat)),   t = 1..T

    with ``f_cls^t`` the CLS of frame ``t`` after the last ViT block
    (before ``ln_post``, ``feats[cls_key]``) as the query and ``H_hat``
    ``[T*T, C]`` the flattened hub tokens of the tracklet after the last
    block (``feats[hub_key]``, written by ``CLIPVisionBackbone(hub=...)``)
    as key and value. The temporal average of Eq. 11 is a separate neck
    (:class:`TemporalPooling`).

    ``norm`` selects the ``LN`` of Eq. 10, which the paper does not
    specify further:

    - ``'backbone'`` (default): the backbone's own ``ln_post`` (shared
      weights), as the public VLD code does (its ``ln_post2`` copy is
      unused); needs ``set_backbone`` (called by ``ReIDModel``) and a
      backbone with ``share_weights=True``.
    - ``'own'``: a separate ``nn.LayerNorm(embed_dims)`` (default init).
    - ``'none'``: no normalisation.

    ``residual=True`` adds the query to the attention output before the
    norm (not in Eq. 10 nor the public code; off by default).
    ``proj_out_key`` also writes ``f_H^t @ proj`` (the backbone's CLIP
    projection, ``[B, M, T, E]``); the public code computes it but no loss
    uses it, so it is off by default.

    Args:
        embed_dims (int): ``C`` (768 for ViT-B/16).
        num_heads (int): Heads of ``MHA_sta`` (12, as the public code).
        num_frames (int): ``T``; inputs with another ``T`` are refused.
        cls_key (str): Per-frame CLS ``[B, M, T, C]``.
        hub_key (str): Hub tokens ``[B, M, T, T, C]``.
        out_key (str): Output ``f_H`` ``[B, M, T, C]``.
        proj_out_key (str, optional): Projected output ``[B, M, T, E]``.
        norm (str): ``'backbone'`` | ``'own'`` | ``'none'``.
        residual (bool): Add the query before the norm.
        dropout (float): Attention-weight dropout.
    """

    NORMS = ('backbone', 'own', 'none')
    key_attrs = dict(
        reads=('cls_key', 'hub_key'), writes=('out_key', 'proj_out_key'))

    def __init__(self,
                 embed_dims: int = 768,
                 num_heads: int = 12,
                 num_frames: int = 6,
                 cls_key: str = 'cls_pre_ln',
                 hub_key: str = 'hub_tokens',
                 out_key: str = 'sta',
                 proj_out_key: Optional[str] = None,
                 norm: str = 'backbone',
                 residual: bool = False,
                 dropout: float = 0.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        if norm not in self.NORMS:
            raise ValueError(f'{name}: norm must be one of {self.NORMS}, '
                             f'got {norm!r}.')
        if embed_dims % num_heads:
            raise ValueError(f'{name}: embed_dims ({embed_dims}) must be '
                             f'divisible by num_heads ({num_heads}).')
        if num_frames < 1:
            raise ValueError(f'{name}: num_frames must be >= 1.')
        self.embed_dims = embed_dims
        self.num_frames = int(num_frames)
        self.cls_key = cls_key
        self.hub_key = hub_key
        self.out_key = out_key
        self.proj_out_key = proj_out_key
        self.norm_mode = norm
        self.residual = residual
        self.attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=dropout, batch_first=True)
        self.norm = nn.LayerNorm(embed_dims) if norm == 'own' else None
        self._backbone_parts = None

    # --------------------------------------------------------------- backbone
    def set_backbone(self, backbone: nn.Module) -> None:
        """Keep references (not submodules) to the backbone's ``ln_post``
        and ``proj`` where ``norm='backbone'`` / ``proj_out_key`` need
        them."""
        if self.norm_mode != 'backbone' and self.proj_out_key is None:
            return
        name = type(self).__name__
        if not getattr(backbone, 'share_weights', True):
            raise ValueError(
                f'{name}: norm="backbone" / proj_out_key use the backbone\'s '
                'ln_post / proj, but the backbone has one encoder per '
                'modality (share_weights=False); use norm="own".')
        encoder = backbone.get_encoder()
        if getattr(encoder, 'ln_post', None) is None or getattr(
                encoder, 'proj', None) is None:
            raise ValueError(f'{name}: the backbone encoder has no ln_post / '
                             'proj (a ViT CLIP tower is needed).')
        if encoder.ln_post.normalized_shape != (self.embed_dims, ):
            raise ValueError(
                f'{name}: embed_dims={self.embed_dims} but the backbone '
                f'width is {encoder.ln_post.normalized_shape[0]}.')
        self._backbone_parts = [encoder]

    def _encoder(self) -> nn.Module:
        if self._backbone_parts is None:
            raise RuntimeError(
                f'{type(self).__name__} uses the backbone\'s ln_post / proj '
                '(norm="backbone" or proj_out_key) but has no backbone; '
                'build it inside ReIDModel or call set_backbone().')
        return self._backbone_parts[0]

    # ---------------------------------------------------------------- forward
    def aggregate(self, cls_tokens: torch.Tensor,
                  hub: torch.Tensor) -> torch.Tensor:
        """``[N, T, C]`` queries, ``[N, T*T, C]`` hub -> ``[N, T, C]``."""
        out = self.attn(cls_tokens, hub, hub, need_weights=False)[0]
        if self.residual:
            out = out + cls_tokens
        if self.norm_mode == 'backbone':
            out = self._encoder().ln_post(out)
        elif self.norm is not None:
            out = self.norm(out)
        return out

    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        """Add ``feats[out_key]`` ``[B, M, T, C]`` (and the projection)."""
        name = type(self).__name__
        cls_tokens, hub = feats[self.cls_key], feats[self.hub_key]
        num_frames, width = self.num_frames, self.embed_dims
        if cls_tokens.dim() != 4 or tuple(
                cls_tokens.shape[2:]) != (num_frames, width):
            raise ValueError(
                f'{name}: feats["{self.cls_key}"] must be [B, M, '
                f'{num_frames}, {width}], got {tuple(cls_tokens.shape)}.')
        if tuple(hub.shape) != (*cls_tokens.shape[:3], num_frames, width):
            raise ValueError(
                f'{name}: feats["{self.hub_key}"] must be [B, M, '
                f'{num_frames}, {num_frames}, {width}] (the backbone\'s hub '
                f'with num_frames={num_frames}), got {tuple(hub.shape)}.')
        lead = cls_tokens.shape[:2]
        out = self.aggregate(
            cls_tokens.flatten(0, 1),
            hub.flatten(0, 1).flatten(1, 2)).unflatten(0, lead)
        feats = dict(feats)
        feats[self.out_key] = out
        if self.proj_out_key is not None:
            feats[self.proj_out_key] = out @ self._encoder().proj
        return feats
