# Copyright (c) mmreid_text contributors. All rights reserved.
"""DEEP Semantic-Guided Spectral Fusion (SGSF), Eq. 3-4."""
from typing import List, Optional

from mmengine.model import BaseModule
from torch import nn

from mmreid_text.registry import MODELS
from ..utils.attention import AttentionFFNBlock
from ..utils.feature_contract import FeatureContract
from ..utils.modality import check_modality_features


@MODELS.register_module()
class SemanticGuidedSpectralFusion(FeatureContract, BaseModule):
    """Progressive cross-attention of the spectral identity set (SGSF).

    DEEP Eq. 3-4: the global features of all spectra, stacked as ``M``
    query tokens, ``f_1 = Concat(v_rgb, v_nir, v_tir)``, attend to one
    spectrum's patch tokens after another::

        f_m = FFN(LN(CA(f_{m-1}, v_{p,m})))        m = 1..M (input order)

    The output ``f_hat = f_M`` keeps one token per spectrum: ``f_hat[:, m]``
    is the fused feature aligned with spectrum ``m``'s prompt (Eq. 6-7) and
    fed to SSE (Eq. 12). Each spectrum has its own block (``M`` blocks of
    ``4C^2 + 2 C F`` weights: 9.45 M for C=512, F=2048, M=3).

    Args:
        embed_dims (int): Token width ``C`` (512: CLIP's projected tokens).
        num_heads (int): Cross-attention heads.
        ffn_dims (int): FFN hidden width.
        num_modalities (int): ``M``.
        query_key (str): Global features ``[B, M, C]`` (``'proj_cls'``).
        context_key (str): Patch tokens ``[B, M, N, C]``
            (``'proj_tokens'``).
        out_key (str): Output key, ``[B, M, C]``.
        residual (bool): Transformer residuals around CA and FFN (see
            :class:`AttentionFFNBlock`); False is the literal Eq. 4.
        act (str): FFN activation.
        dropout (float): Attention / FFN dropout.
    """

    key_attrs = dict(reads=('query_key', 'context_key'), writes=('out_key', ))

    def __init__(self,
                 embed_dims: int = 512,
                 num_heads: int = 8,
                 ffn_dims: int = 2048,
                 num_modalities: int = 3,
                 query_key: str = 'proj_cls',
                 context_key: str = 'proj_tokens',
                 out_key: str = 'fused',
                 residual: bool = True,
                 act: str = 'GELU',
                 dropout: float = 0.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.num_modalities = num_modalities
        self.query_key = query_key
        self.context_key = context_key
        self.out_key = out_key
        self.blocks = nn.ModuleList([
            AttentionFFNBlock(
                embed_dims,
                num_heads,
                ffn_dims,
                act=act,
                dropout=dropout,
                residual=residual) for _ in range(num_modalities)
        ])

    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        """Add ``feats[out_key]`` ``[B, M, C]`` (the fused ``f_hat``)."""
        check_modality_features(feats, (self.query_key, ), self.context_key,
                                self.num_modalities, self.embed_dims,
                                type(self).__name__)
        query = feats[self.query_key]
        context = feats[self.context_key]
        for index, block in enumerate(self.blocks):
            query = block(query, context[:, index])
        out = dict(feats)
        out[self.out_key] = query
        return out
