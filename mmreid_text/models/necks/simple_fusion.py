# Copyright (c) mmreid_text contributors. All rights reserved.
"""Simple spectral fusions compared with SGSF in DEEP Table X."""
from typing import List, Optional

from mmengine.model import BaseModule
from torch import nn

from mmreid_text.registry import MODELS
from ..utils.feature_contract import FeatureContract
from ..utils.modality import check_modality_feature, check_modality_features


@MODELS.register_module()
class LinearWeightFusion(FeatureContract, BaseModule):
    """Table X (b) "Linear Weight": one linear map of all spectra.

    ``f_hat = v + split_M(Linear(Concat_m v_m))`` with ``Linear`` of
    ``(M C) x (M C)`` weights (2.36 M for C=512, M=3; the paper lists
    +2.4 M over no fusion).

    Args:
        embed_dims (int): ``C``.
        num_modalities (int): ``M``.
        in_key (str): Global features ``[B, M, C]``.
        out_key (str): Output ``[B, M, C]``.
        residual (bool): Add ``v`` to the mixed features.
    """

    key_attrs = dict(reads=('in_key', ), writes=('out_key', ))

    def __init__(self,
                 embed_dims: int = 512,
                 num_modalities: int = 3,
                 in_key: str = 'proj_cls',
                 out_key: str = 'fused',
                 residual: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.num_modalities = num_modalities
        self.in_key = in_key
        self.out_key = out_key
        self.residual = residual
        self.mix = nn.Linear(num_modalities * embed_dims,
                             num_modalities * embed_dims)

    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        check_modality_feature(feats, self.in_key, self.num_modalities,
                               self.embed_dims,
                               type(self).__name__)
        x = feats[self.in_key]
        fused = self.mix(x.flatten(1)).view_as(x)
        out = dict(feats)
        out[self.out_key] = fused + x if self.residual else fused
        return out


@MODELS.register_module()
class ConvFusion(FeatureContract, BaseModule):
    """Table X (c)/(d) "Conv 1x1" / "Conv 3x3" fusion of the patch maps.

    The patch tokens of all spectra are stacked as channels of the
    ``h x w`` grid, ``Conv(M C -> C, k)`` fuses them, global average
    pooling gives one fused vector ``g`` and ``f_hat_m = v_m + g``. The conv
    has ``k^2 M C^2 + C`` weights: 0.79 M (k=1) and 7.08 M (k=3) for C=512,
    M=3 (paper: +0.8 M and +7.1 M over no fusion).

    Args:
        embed_dims (int): ``C``.
        kernel_size (int): 1 or 3 (any odd size works).
        num_modalities (int): ``M``.
        global_key (str): ``v`` ``[B, M, C]``.
        tokens_key (str): Patch tokens ``[B, M, N, C]``; ``feats['grid']``
            gives ``(h, w)``.
        out_key (str): Output ``[B, M, C]``.
    """

    key_attrs = dict(
        reads=('global_key', 'tokens_key'),
        optional_reads=('grid_key', ),
        writes=('out_key', ))
    #: ``(h, w)`` of the token grid, written by the backbone.
    grid_key = 'grid'

    def __init__(self,
                 embed_dims: int = 512,
                 kernel_size: int = 1,
                 num_modalities: int = 3,
                 global_key: str = 'proj_cls',
                 tokens_key: str = 'proj_tokens',
                 out_key: str = 'fused',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'kernel_size must be odd, got {kernel_size}.')
        self.embed_dims = embed_dims
        self.num_modalities = num_modalities
        self.global_key = global_key
        self.tokens_key = tokens_key
        self.out_key = out_key
        self.conv = nn.Conv2d(
            num_modalities * embed_dims,
            embed_dims,
            kernel_size,
            padding=kernel_size // 2)

    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        name = type(self).__name__
        check_modality_features(feats, (self.global_key, ), self.tokens_key,
                                self.num_modalities, self.embed_dims, name)
        tokens = feats[self.tokens_key]
        batch, _, num_tokens, channels = tokens.shape
        height, width = feats.get(self.grid_key, (num_tokens, 1))
        if height * width != num_tokens:
            raise ValueError(f'{name}: grid {(height, width)} does not match '
                             f'{num_tokens} patch tokens.')
        grid = tokens.permute(0, 1, 3, 2).reshape(batch, -1, height, width)
        pooled = self.conv(grid).mean(dim=(2, 3))
        out = dict(feats)
        out[self.out_key] = feats[self.global_key] + pooled[:, None]
        return out
