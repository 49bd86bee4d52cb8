# Copyright (c) mmreid_text contributors. All rights reserved.
"""NEXT Multi-Grained Features Aggregation (MGFA), Eq. 10-11."""
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import nn

from mmreid_text.registry import MODELS
from ..utils.attention import AttentionFFNBlock
from ..utils.feature_contract import FeatureContract
from ..utils.modality import check_modality_feature


@MODELS.register_module()
class MultiGrainedFeatureAggregation(FeatureContract, BaseModule):
    """Cross-attention of the modality class tokens over every expert.

    ``f^(i) = FFN(LN(CA(f^cls, F^exp(i))))`` for every expert feature
    ``F^exp(i)`` (Eq. 11) with the concatenated class tokens
    ``f^cls = [f_rgb^cls, f_nir^cls, f_tir^cls]`` ``[B, M, D]`` as the
    query, and the identity feature is their average over the experts
    (Eq. 10), ``[B, M, D]`` (``BNNeckHead(fuse='concat')`` flattens it to
    the ``[B, M*D]`` identity feature for ID + triplet, Eq. 12).

    The experts are, in order: the ``N_T`` semantic experts (a
    ``[B, K, L, D]`` entry of ``expert_keys`` is ``K`` experts), the
    structure feature (``[B, L, D]``: one expert) and, for Table IV (b)
    ("MGFA fuses the modality-specific features as a unified expert"),
    ``modality_token_keys`` entries ``[B, M, N, D]`` that become one expert
    of ``M*N`` tokens each.

    Choices the paper leaves open (constructor arguments):

    - ``share_blocks=True`` (default): one CA/LN/FFN block for all experts
      ("through the Cross-Attention mechanism, we obtain the
      multi-modal representation for each expert"); per-expert blocks
      would add more parameters than Table IV's +4.0 M for TMSE allows.
      False gives each expert its own block (``num_experts`` required).
    - ``residual=True`` (default): Transformer residuals around CA and FFN
      (IDEA's aggregation, the base code, is residual); False is the
      literal ``FFN(LN(CA(.)))``.
    - ``num_heads`` (8, DeMo's attention) and ``ffn_ratio`` (4).

    Args:
        embed_dims (int): Width ``D``.
        num_heads (int): Cross-attention heads.
        ffn_ratio (float): FFN hidden width / ``D``.
        num_modalities (int): ``M`` (query tokens).
        query_key (str): Class tokens ``[B, M, D]``.
        expert_keys (Sequence[str]): Expert features (see above).
        modality_token_keys (Sequence[str]): Token features treated as one
            expert each.
        share_blocks (bool): See above.
        num_experts (int, optional): Number of experts, required with
            ``share_blocks=False`` (checked in the forward pass).
        residual (bool): See above.
        act (str): FFN activation.
        dropout (float): Attention / FFN dropout.
        out_key (str): ``[B, M, D]`` identity feature.
    """

    def __init__(self,
                 embed_dims: int = 512,
                 num_heads: int = 8,
                 ffn_ratio: float = 4.0,
                 num_modalities: int = 3,
                 query_key: str = 'proj_cls',
                 expert_keys: Sequence[str] = ('next_semantic',
                                               'next_structure'),
                 modality_token_keys: Sequence[str] = (),
                 share_blocks: bool = True,
                 num_experts: Optional[int] = None,
                 residual: bool = True,
                 act: str = 'GELU',
                 dropout: float = 0.0,
                 out_key: str = 'next_identity',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        self.expert_keys = tuple(expert_keys)
        self.modality_token_keys = tuple(modality_token_keys)
        if not self.expert_keys and not self.modality_token_keys:
            raise ValueError(f'{name}: no experts; set expert_keys and/or '
                             'modality_token_keys.')
        if not share_blocks and not num_experts:
            raise ValueError(f'{name}: share_blocks=False needs num_experts '
                             '(one block per expert).')
        self.embed_dims = embed_dims
        self.num_modalities = num_modalities
        self.query_key = query_key
        self.share_blocks = share_blocks
        self.num_experts = num_experts
        self.out_key = out_key
        ffn_dims = int(round(embed_dims * ffn_ratio))
        num_blocks = 1 if share_blocks else num_experts
        self.blocks = nn.ModuleList([
            AttentionFFNBlock(
                embed_dims,
                num_heads,
                ffn_dims,
                act=act,
                dropout=dropout,
                residual=residual) for _ in range(num_blocks)
        ])

    @property
    def reads(self) -> Tuple[str, ...]:
        return tuple(
            dict.fromkeys((self.query_key, *self.expert_keys,
                           *self.modality_token_keys)))

    @property
    def writes(self) -> Tuple[str, ...]:
        return (self.out_key, )

    def gather_experts(self, feats: dict) -> List[torch.Tensor]:
        """The expert features in order, each ``[B, L, D]``."""
        owner = type(self).__name__
        experts = []
        for key in self.expert_keys:
            if key not in feats:
                raise KeyError(f'{owner} reads feats["{key}"] but the '
                               f'feature dict has only {sorted(feats)}.')
            value = feats[key]
            if not torch.is_tensor(value) or value.dim() not in (3, 4) or \
                    value.shape[-1] != self.embed_dims:
                got = tuple(
                    value.shape) if torch.is_tensor(value) else type(value)
                raise ValueError(
                    f'{owner} expects feats["{key}"] of shape [B, K, L, '
                    f'{self.embed_dims}] (K experts) or [B, L, '
                    f'{self.embed_dims}] (one expert), got {got}.')
            experts.extend(value.unbind(1) if value.dim() == 4 else [value])
        for key in self.modality_token_keys:
            check_modality_feature(
                feats,
                key,
                self.num_modalities,
                self.embed_dims,
                owner,
                ndim=4)
            experts.append(feats[key].flatten(1, 2))
        if not self.share_blocks and len(experts) != self.num_experts:
            raise ValueError(
                f'{owner} has {self.num_experts} blocks (share_blocks=False) '
                f'but got {len(experts)} experts from {self.expert_keys} / '
                f'{self.modality_token_keys}; set num_experts accordingly.')
        return experts

    def expert_features(self, query: torch.Tensor,
                        experts: Sequence[torch.Tensor]) -> torch.Tensor:
        """``f^(i)`` of Eq. 11 for every expert: ``[K, B, M, D]``."""
        if not self.share_blocks:
            return torch.stack([
                block(query, context)
                for block, context in zip(self.blocks, experts)
            ])
        # One block: run the experts of equal length as one batch.
        batch = query.shape[0]
        outputs: List[Optional[torch.Tensor]] = [None] * len(experts)
        lengths = {}
        for index, context in enumerate(experts):
            lengths.setdefault(context.shape[1], []).append(index)
        for indices in lengths.values():
            context = torch.cat([experts[i] for i in indices])
            result = self.blocks[0](query.repeat(len(indices), 1, 1), context)
            for n, i in enumerate(indices):
                outputs[i] = result[n * batch:(n + 1) * batch]
        return torch.stack(outputs)

    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        """Add ``feats[out_key]`` ``[B, M, D]`` (Eq. 10)."""
        check_modality_feature(feats, self.query_key, self.num_modalities,
                               self.embed_dims,
                               type(self).__name__)
        query = feats[self.query_key]
        experts = self.gather_experts(feats)
        out = dict(feats)
        out[self.out_key] = self.expert_features(query, experts).mean(0)
        return out
