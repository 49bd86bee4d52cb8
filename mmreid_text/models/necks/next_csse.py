# Copyright (c) mmreid_text contributors. All rights reserved.
"""NEXT Context-Shared Structure Experts (CSSE), Eq. 8-9."""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from mmreid_text.registry import MODELS
from ..utils.expert_stats import ExpertStats, expert_modality_names
from ..utils.feature_contract import FeatureContract
from ..utils.modality import check_modality_feature
from ..utils.next_expert import ExpertBlock

ROUTING_LEVELS = ('token', 'sample')
ROUTER_SHARING = ('shared', 'modality')


@MODELS.register_module()
class ContextSharedStructureExperts(FeatureContract, BaseModule):
    """``N_C`` structure experts softly mixed by one shared router (CSSE).

    The patch tokens of all modalities are concatenated,
    ``F^tok = [F_rgb^tok, F_nir^tok, F_tir^tok]`` ``[B, M*N, D]``, and

    - ``omega = Softmax(FC(F^tok))`` over the ``N_C`` experts (Eq. 8),
    - ``F_tilde = sum_i omega_i * E_c^(i)(F^tok)`` (Eq. 9),

    with :class:`ExpertBlock` experts (Eq. 1) that see every token.

    Choices the paper leaves open (constructor arguments):

    - ``routing``: Eq. 8 gives ``omega in R^{N_C}`` but calls it the "soft
      routing matrix", and Fig. 9 shows a spatial activation map per
      structure expert, so ``'token'`` (default) computes ``omega`` for
      every token (``[B, M*N, N_C]``); ``'sample'`` computes one ``omega``
      per sample from the mean token (``FC`` is linear, so this is the
      softmax of the mean token logits).
    - ``router_sharing``: ``'shared'`` (default, the paper's; Table VII
      (d)) or ``'modality'`` (every modality's tokens have their own FC,
      Table VII (a) / (b)).

    Statistics: the mean routing weight of every expert per modality
    (``e{i}_{modality}_weight``, load balance) in :attr:`expert_stats`.

    Args:
        embed_dims (int): Token width ``D``.
        num_experts (int): ``N_C`` (3 in the paper, Fig. 8).
        modalities (Sequence[str]): Modality names in slot order.
        mlp_ratio (float): Expert MLP width (as the semantic experts).
        dropout (float): Expert dropout (0.1).
        act (str): Expert activation.
        routing (str): ``'token'`` or ``'sample'``.
        router_sharing (str): ``'shared'`` or ``'modality'``.
        tokens_key (str): Patch tokens ``[B, M, N, D]``.
        out_key (str): ``[B, M*N, D]`` structure feature ``F_tilde``.
        collect_stats (bool): Accumulate :attr:`expert_stats`.
        stats_name (str): Prefix of the logged statistics.
    """

    key_attrs = dict(reads=('tokens_key', ), writes=('out_key', ))

    def __init__(self,
                 embed_dims: int = 512,
                 num_experts: int = 3,
                 modalities: Sequence[str] = ('rgb', 'nir', 'tir'),
                 mlp_ratio: float = 1.0,
                 dropout: float = 0.1,
                 act: str = 'GELU',
                 routing: str = 'token',
                 router_sharing: str = 'shared',
                 tokens_key: str = 'proj_tokens',
                 out_key: str = 'next_structure',
                 collect_stats: bool = True,
                 stats_name: str = 'csse',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        if routing not in ROUTING_LEVELS:
            raise ValueError(f'{name}: routing must be one of '
                             f'{ROUTING_LEVELS}, got {routing!r}.')
        if router_sharing not in ROUTER_SHARING:
            raise ValueError(f'{name}: router_sharing must be one of '
                             f'{ROUTER_SHARING}, got {router_sharing!r}.')
        if num_experts < 1:
            raise ValueError(f'{name}: num_experts must be >= 1.')
        self.embed_dims = embed_dims
        self.num_experts = num_experts
        self.modalities = tuple(modalities)
        self.num_modalities = len(self.modalities)
        self.routing = routing
        self.router_sharing = router_sharing
        self.tokens_key = tokens_key
        self.out_key = out_key
        self.collect_stats = collect_stats
        self.stats_name = stats_name
        self.expert_stats = ExpertStats()
        self.experts = nn.ModuleList([
            ExpertBlock(embed_dims, mlp_ratio, dropout, act)
            for _ in range(num_experts)
        ])
        num_routers = 1 if router_sharing == 'shared' else self.num_modalities
        self.routers = nn.ModuleList(
            [nn.Linear(embed_dims, num_experts) for _ in range(num_routers)])

    def routing_weights(self, tokens: torch.Tensor) -> torch.Tensor:
        """``omega`` of Eq. 8: tokens ``[B, M, N, D]`` -> ``[B, M, N, N_C]``
        (with ``routing='sample'`` constant over ``N`` within a router's
        tokens)."""
        batch, num_mod, num_tokens, _ = tokens.shape
        if self.router_sharing == 'shared':
            groups = [tokens.reshape(batch, 1, num_mod * num_tokens, -1)]
        else:
            groups = list(tokens.split(1, dim=1))
        weights = []
        for router, group in zip(self.routers, groups):
            if self.routing == 'token':
                logits = router(group)
            else:
                logits = router(group.mean(dim=2, keepdim=True)).expand(
                    -1, -1, group.shape[2], -1)
            weights.append(logits.softmax(dim=-1))
        return torch.cat(
            weights, dim=1).reshape(batch, num_mod, num_tokens,
                                    self.num_experts)

    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        """Add ``feats[out_key]`` ``[B, M*N, D]``."""
        check_modality_feature(
            feats,
            self.tokens_key,
            self.num_modalities,
            self.embed_dims,
            type(self).__name__,
            ndim=4)
        tokens = feats[self.tokens_key]
        batch, num_mod, num_tokens, dims = tokens.shape
        weights = self.routing_weights(tokens)  # [B, M, N, N_C]
        flat = tokens.reshape(batch, num_mod * num_tokens, dims)
        flat_weights = weights.reshape(batch, num_mod * num_tokens, -1)
        fused = 0.
        for index, expert in enumerate(self.experts):
            fused = fused + flat_weights[..., index:index + 1] * expert(flat)
        out = dict(feats)
        out[self.out_key] = fused
        if self.collect_stats:
            self.expert_stats.add('weight', weights.mean(2).sum(0).t(), batch)
        return out

    def expert_stats_scalars(self,
                             all_reduce: bool = False) -> Dict[str, float]:
        """``e{i}_{modality}_weight``: mean routing weight of expert ``i``
        on the tokens of a modality since the last reset."""
        means = self.expert_stats.means(all_reduce)
        names = expert_modality_names(self.num_experts, self.modalities)
        return {
            f'{prefix}_{stat}': float(value[e, m])
            for stat, value in means.items()
            for (e, m), prefix in names.items()
        }
