# Copyright (c) mmreid_text contributors. All rights reserved.
"""NEXT Text-Modulated Semantic Experts (TMSE), Eq. 1-7."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import nn

from mmreid_text.registry import MODELS
from ..utils.expert_stats import ExpertStats, expert_modality_names
from ..utils.feature_contract import FeatureContract
from ..utils.modality import (check_modality_feature, check_modality_features,
                              modality_presence_mask)
from ..utils.next_expert import ExpertBlock
from ..utils.next_routing import (MASK_GRAD_MODES, NO_TEXT_MODES,
                                  THRESHOLD_MODES, SamplingRouter,
                                  cosine_similarity_map, selection_mask,
                                  topk_selection)

ROUTER_SHARING = ('modality', 'shared')


@MODELS.register_module()
class TextModulatedSemanticExperts(FeatureContract, BaseModule):
    """``N_T`` semantic experts that sample tokens per modality (TMSE).

    For every expert ``i`` and modality ``m`` (NEXT Sec. III-B):

    - ``alpha_m = FC2(GELU(FC1(F_m^tok)))`` and the dynamic threshold
      ``sigma_m = FC2(GELU(FC1(f_m^cls)))`` (Eq. 2, see
      :class:`~mmreid_text.models.utils.next_routing.SamplingRouter`);
    - ``beta_m = cos(f_{T,m}^(i), F_m^tok)`` with the text feature of the
      sentences sampled for this expert and modality (Eq. 4-5, written by
      ``SampledCaptionEncoder``), and
      ``gamma_m = FC4(GELU(FC3([alpha_m, beta_m]))) + alpha_m`` (Eq. 6);
    - mask ``M_m = 1[gamma_m > sigma_m]`` (Eq. 3 with gamma) and
      ``F_hat^(i) = Concat_m(M_m * E_t^(i)(F_m^tok))`` (Eq. 7).

    The experts (Eq. 1, :class:`ExpertBlock`) see every modality; the
    routers are per expert and modality (``router_sharing='modality'``,
    Table VII (d)) or per expert shared by the modalities (``'shared'``).

    Choices the paper leaves open (constructor arguments):

    - ``tokens_key``: the tokens are CLIP's projected 512-d patch tokens
      (``'proj_tokens'``), the space of the text features, so beta is a
      cosine in CLIP's joint space (DeMo / IDEA use projected tokens);
      ``similarity_tokens_key`` may name other tokens for beta only.
    - ``grad_mode``: how gradients pass the hard mask. ``'ste'``
      (default): the forward is exactly Eq. 3, the backward that of
      ``sigmoid((gamma - sigma) / temperature)``; ``'sigmoid'``: the soft
      mask while training, the hard one at test (``hard_mask_at_eval``).
    - ``threshold_mode`` (Table VI): ``'dynamic'`` (sigma from the class
      token, the paper's), ``'fixed'`` (``sigma = fixed_threshold``),
      ``'topk'`` (the ``topk_ratio`` = 50 % highest-gamma tokens),
      ``'all'`` (every token; no routers are built or run).
    - Without text (``text_key=None``: no modulation network; or a sample
      / modality / expert whose ``text_valid_key`` entry is False, e.g. a
      missing caption or the "w/o Text" test) ``no_text_mode='alpha'``
      (default) uses ``gamma = alpha`` (Eq. 3 unmodulated);
      ``'zero_beta'`` runs the modulation with ``beta = 0``.
    - Missing modalities (``missing_mode='masked'`` of the data
      preprocessor, ``metainfo['missing_modalities']``): with
      ``mask_missing_modalities`` no token of a missing modality is
      selected. In the default ``'input'`` protocol the blanked images are
      routed like any other.

    Statistics: every forward adds the hard-selected tokens per expert
    and modality (NEXT Fig. 6) and, with text, the share of pairs that had
    a text feature to :attr:`expert_stats`; :meth:`expert_stats_scalars`
    returns ``{'e{i}_{modality}_tokens': mean per sample, ...}``
    (``ExpertStatsHook`` logs them).

    Args:
        embed_dims (int): Token width ``D``.
        num_experts (int): ``N_T`` (3 in the paper, Fig. 8).
        modalities (Sequence[str]): Modality names in slot order.
        mlp_ratio (float): Expert MLP width (see :class:`ExpertBlock`).
        dropout (float): Expert dropout (0.1).
        act (str): Activation of experts and routers.
        tokens_key (str): Patch tokens ``[B, M, N, D]``.
        cls_key (str): Class tokens ``[B, M, D]`` (sigma's input).
        text_key (str, optional): Text features ``[B, N_T, M, D]``; None
            builds the model without text modulation.
        text_valid_key (str): ``[B, N_T, M]`` bool, read with text_key.
        similarity_tokens_key (str, optional): Tokens ``[B, M, N, D_T]``
            for beta (default: ``tokens_key``).
        router_sharing (str): ``'modality'`` or ``'shared'``.
        threshold_mode (str): One of ``THRESHOLD_MODES``.
        fixed_threshold (float): sigma of ``'fixed'``.
        topk_ratio (float): Kept share of ``'topk'``.
        share_threshold_mlp (bool): sigma uses the routing MLP (see
            :class:`SamplingRouter`).
        grad_mode (str): ``'ste'`` or ``'sigmoid'``.
        temperature (float): Surrogate temperature.
        hard_mask_at_eval (bool): ``'sigmoid'`` mode only.
        no_text_mode (str): ``'alpha'`` or ``'zero_beta'``.
        modulation_dims (int, optional): FC3 width (``D // 2``).
        mask_missing_modalities (bool): See above.
        out_key (str): ``[B, N_T, M*N, D]`` expert outputs ``F_hat^(i)``.
        mask_key (str): ``[B, N_T, M, N]`` the masks ``M_m`` (forward
            values: 0/1 except in the training-time sigmoid relaxation).
        collect_stats (bool): Accumulate :attr:`expert_stats`.
        stats_name (str): Prefix of the logged statistics.
    """

    def __init__(self,
                 embed_dims: int = 512,
                 num_experts: int = 3,
                 modalities: Sequence[str] = ('rgb', 'nir', 'tir'),
                 mlp_ratio: float = 1.0,
                 dropout: float = 0.1,
                 act: str = 'GELU',
                 tokens_key: str = 'proj_tokens',
                 cls_key: str = 'proj_cls',
                 text_key: Optional[str] = 'next_text',
                 text_valid_key: str = 'next_text_valid',
                 similarity_tokens_key: Optional[str] = None,
                 router_sharing: str = 'modality',
                 threshold_mode: str = 'dynamic',
                 fixed_threshold: float = 0.0,
                 topk_ratio: float = 0.5,
                 share_threshold_mlp: bool = True,
                 grad_mode: str = 'ste',
                 temperature: float = 1.0,
                 hard_mask_at_eval: bool = True,
                 no_text_mode: str = 'alpha',
                 modulation_dims: Optional[int] = None,
                 mask_missing_modalities: bool = True,
                 out_key: str = 'next_semantic',
                 mask_key: str = 'next_semantic_mask',
                 collect_stats: bool = True,
                 stats_name: str = 'tmse',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        for value, allowed, arg in (
            (router_sharing, ROUTER_SHARING, 'router_sharing'),
            (threshold_mode, THRESHOLD_MODES, 'threshold_mode'),
            (grad_mode, MASK_GRAD_MODES, 'grad_mode'),
            (no_text_mode, NO_TEXT_MODES, 'no_text_mode'),
        ):
            if value not in allowed:
                raise ValueError(f'{name}: {arg} must be one of {allowed}, '
                                 f'got {value!r}.')
        if num_experts < 1:
            raise ValueError(f'{name}: num_experts must be >= 1.')
        if not 0.0 < topk_ratio <= 1.0:
            raise ValueError(f'{name}: topk_ratio must be in (0, 1], got '
                             f'{topk_ratio}.')
        if temperature <= 0:
            raise ValueError(f'{name}: temperature must be > 0.')
        self.embed_dims = embed_dims
        self.num_experts = num_experts
        self.modalities = tuple(modalities)
        self.num_modalities = len(self.modalities)
        self.tokens_key = tokens_key
        self.cls_key = cls_key
        self.text_key = text_key
        self.text_valid_key = text_valid_key if text_key else None
        self.similarity_tokens_key = (
            similarity_tokens_key if text_key else None)
        self.router_sharing = router_sharing
        self.threshold_mode = threshold_mode
        self.fixed_threshold = float(fixed_threshold)
        self.topk_ratio = float(topk_ratio)
        self.grad_mode = grad_mode
        self.temperature = float(temperature)
        self.hard_mask_at_eval = hard_mask_at_eval
        self.no_text_mode = no_text_mode
        self.mask_missing_modalities = mask_missing_modalities
        self.out_key = out_key
        self.mask_key = mask_key
        self.collect_stats = collect_stats
        self.stats_name = stats_name
        self.expert_stats = ExpertStats()

        self.experts = nn.ModuleList([
            ExpertBlock(embed_dims, mlp_ratio, dropout, act)
            for _ in range(num_experts)
        ])
        if threshold_mode == 'all':
            self.routers = None
        else:
            per_expert = (
                self.num_modalities if router_sharing == 'modality' else 1)
            self.routers = nn.ModuleList([
                nn.ModuleList([
                    SamplingRouter(
                        embed_dims,
                        use_text=text_key is not None,
                        share_threshold_mlp=share_threshold_mlp,
                        with_threshold=threshold_mode == 'dynamic',
                        modulation_dims=modulation_dims,
                        act=act) for _ in range(per_expert)
                ]) for _ in range(num_experts)
            ])

    # ------------------------------------------------------------ contract
    @property
    def reads(self) -> Tuple[str, ...]:
        if self.threshold_mode == 'all':
            return (self.tokens_key, )
        keys = [self.tokens_key, self.cls_key]
        if self.text_key is not None:
            keys += [self.text_key, self.text_valid_key]
            if self.similarity_tokens_key is not None:
                keys.append(self.similarity_tokens_key)
        return tuple(dict.fromkeys(keys))

    @property
    def writes(self) -> Tuple[str, ...]:
        return (self.out_key, self.mask_key)

    # ------------------------------------------------------------- routing
    def router(self, expert: int, modality: int) -> SamplingRouter:
        """The router of ``expert`` for ``modality`` (slot index)."""
        index = modality if self.router_sharing == 'modality' else 0
        return self.routers[expert][index]

    def _text_inputs(
            self, feats: dict,
            tokens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``beta`` ``[B, N_T, M, N]`` and valid ``[B, N_T, M]``."""
        owner = type(self).__name__
        text = feats[self.text_key]
        valid = feats[self.text_valid_key]
        shape = (tokens.shape[0], self.num_experts, self.num_modalities)
        if not torch.is_tensor(text) or text.dim() != 4 or tuple(
                text.shape[:3]) != shape:
            got = tuple(text.shape) if torch.is_tensor(text) else type(text)
            raise ValueError(
                f'{owner} expects feats["{self.text_key}"] of shape '
                f'[B, N_T, M, D] = {shape + ("D", )}, got {got}; the '
                'SampledCaptionEncoder before it must have the same '
                'num_experts and modalities.')
        if not torch.is_tensor(valid) or tuple(valid.shape) != shape:
            raise ValueError(f'{owner} expects feats["{self.text_valid_key}"]'
                             f' of shape {shape}.')
        sim_tokens = tokens
        if self.similarity_tokens_key is not None:
            check_modality_feature(
                feats,
                self.similarity_tokens_key,
                self.num_modalities,
                text.shape[-1],
                owner,
                ndim=4)
            sim_tokens = feats[self.similarity_tokens_key]
        elif text.shape[-1] != tokens.shape[-1]:
            raise ValueError(
                f'{owner}: the text features ({text.shape[-1]}-d, '
                f'"{self.text_key}") and feats["{self.tokens_key}"] '
                f'({tokens.shape[-1]}-d) must share a space for the cosine '
                'of Eq. 5; use the projected tokens or set '
                'similarity_tokens_key.')
        beta = cosine_similarity_map(text, sim_tokens[:, None])
        return beta.to(tokens.dtype), valid.bool()

    def _mask(
            self, expert: int, modality: int, tokens: torch.Tensor,
            cls: torch.Tensor, beta: Optional[torch.Tensor],
            valid: Optional[torch.Tensor]
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(mask, hard)`` ``[B, N]`` of one expert and modality."""
        router = self.router(expert, modality)
        alpha = router.route(tokens)
        gamma = router.modulate(alpha, beta, valid, self.no_text_mode)
        hard = None
        if self.threshold_mode == 'dynamic':
            threshold = router.threshold(cls)
        elif self.threshold_mode == 'fixed':
            threshold = gamma.new_tensor(self.fixed_threshold)
        else:  # topk
            hard, threshold = topk_selection(gamma, self.topk_ratio)
        return selection_mask(
            gamma,
            threshold,
            self.grad_mode,
            self.temperature,
            training=self.training,
            hard=hard,
            hard_at_eval=self.hard_mask_at_eval)

    def masks(
        self,
        feats: dict,
        data_samples: Optional[List] = None
    ) -> Tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]:
        """Masks of all experts: ``(mask, hard, valid)``, masks
        ``[B, N_T, M, N]``, valid ``[B, N_T, M]`` (None without text)."""
        tokens = feats[self.tokens_key]
        batch, _, num_tokens, _ = tokens.shape
        shape = (batch, self.num_experts, self.num_modalities, num_tokens)
        valid = None
        if self.threshold_mode == 'all':
            mask = hard = tokens.new_ones(shape)
        else:
            cls = feats[self.cls_key]
            beta = None
            if self.text_key is not None:
                beta, valid = self._text_inputs(feats, tokens)
            masks, hards = [], []
            for e in range(self.num_experts):
                for m in range(self.num_modalities):
                    mask, hard = self._mask(
                        e, m, tokens[:, m], cls[:, m],
                        None if beta is None else beta[:, e, m],
                        None if valid is None else valid[:, e, m])
                    masks.append(mask)
                    hards.append(hard)
            mask = torch.stack(masks, 1).view(shape)
            hard = torch.stack(hards, 1).view(shape)
        if self.mask_missing_modalities and data_samples:
            present = modality_presence_mask(data_samples, self.modalities,
                                             batch, tokens.device)
            if not bool(present.all()):
                keep = present[:, None, :, None].to(mask.dtype)
                mask, hard = mask * keep, hard * keep
        return mask, hard, valid

    # ------------------------------------------------------------- forward
    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        """Add ``feats[out_key]`` ``[B, N_T, M*N, D]`` and the masks."""
        owner = type(self).__name__
        globals_ = () if self.threshold_mode == 'all' else (self.cls_key, )
        check_modality_features(feats, globals_, self.tokens_key,
                                self.num_modalities, self.embed_dims, owner)
        tokens = feats[self.tokens_key]
        batch, num_mod, num_tokens, dims = tokens.shape
        mask, hard, valid = self.masks(feats, data_samples)
        expert_out = torch.stack([expert(tokens) for expert in self.experts],
                                 dim=1)  # [B, N_T, M, N, D]
        selected = expert_out * mask.unsqueeze(-1).to(expert_out.dtype)
        out = dict(feats)
        out[self.out_key] = selected.reshape(batch, self.num_experts,
                                             num_mod * num_tokens, dims)
        out[self.mask_key] = mask
        if self.collect_stats:
            self.expert_stats.add('tokens', hard.sum(-1).sum(0), batch)
            if valid is not None:
                self.expert_stats.add('text', valid.float().sum(0), batch)
        return out

    def expert_stats_scalars(self,
                             all_reduce: bool = False) -> Dict[str, float]:
        """Means since the last reset: ``e{i}_{modality}_tokens`` (tokens
        selected per sample, Fig. 6) and ``e{i}_{modality}_text`` (share
        with a text feature)."""
        means = self.expert_stats.means(all_reduce)
        names = expert_modality_names(self.num_experts, self.modalities)
        out = {}
        for stat, value in means.items():
            for (e, m), prefix in names.items():
                out[f'{prefix}_{stat}'] = float(value[e, m])
        return out
