# Copyright (c) mmreid_text contributors. All rights reserved.
"""DEEP Spectral Semantic Embedding (SSE), Eq. 8-12."""
import math
from typing import List, Optional, Tuple

import torch
from mmengine.model import BaseModule
from torch import nn

from mmreid_text.registry import MODELS
from ..utils.attention import AttentionFFNBlock
from ..utils.feature_contract import FeatureContract
from ..utils.modality import check_modality_features

SSE_MODES = ('sse', 'no_rearrange', 'mean_pool', 'no_refine')
FUSION_MODES = ('relative', 'literal', 'scores')


@MODELS.register_module()
class SpectralSemanticEmbedding(FeatureContract, BaseModule):
    """Structure-consistent semantic embedding of every spectrum (SSE).

    With ``p_m`` the spectral prompt (``feats[text_key]``), ``v_{p,m}`` the
    patch tokens and ``f_hat_m`` the fused feature of spectrum ``m``:

    - Eq. 8: ``w_m = softmax_j(p_m . v_{p,m,j} / tau)`` over the ``N``
      patches;
    - Eq. 9: ``W_j = sum_m softmax_m(x_{m,j} / tau_f) w_{m,j}`` (one
      structure attention ``[N]`` per sample, shared by all spectra), with
      ``x = N w`` (``fusion_mode='relative'``, default: the semantic
      intensity in units of the uniform attention ``1 / N``), ``x = w``
      (``'literal'``) or ``x = p . v_p`` (``'scores'``);
    - Eq. 10: ``pi = argsort(W)`` (descending), ``v_hat_{p,m} = v_{p,m}[pi]``
      - every patch is kept, only the order changes;
    - Eq. 11: ``p_hat_m = W . v_{p,m} + p_m``;
    - Eq. 12: ``f_tilde_m = FFN(LN(MSA([f_hat_m, p_hat_m, v_hat_{p,m}])))``
      applied ``num_layers`` times; ``f_tilde_m`` is the output token at
      the ``f_hat`` slot.

    Self-attention is permutation-equivariant, so the rearrangement of
    Eq. 10 only changes ``f_tilde`` when the sequence carries positions; a
    learnable position embedding of the ``N + 2`` slots (``pos_embed``) is
    added before the first block, which makes slot ``k`` mean "the k-th
    most salient patch" in every spectrum and sample.

    Missing-modality protocol: where ``feats[text_mask_key]`` (``[B, M]``,
    False = missing) marks a spectrum as missing, its ``w_m`` is left out
    of the cross-spectral softmax of Eq. 9 (so its prompt cannot steer
    ``W`` or the patch order) and its ``p_m`` (zeroed by the prompt
    learner) contributes nothing to ``p_hat_m``.

    Args:
        embed_dims (int): Token width ``C``.
        num_heads (int): MSA heads.
        ffn_dims (int): FFN hidden width.
        num_layers (int): MSA + FFN blocks of Eq. 12 (the "x n" of Fig. 4).
        num_patches (int): ``N`` = ``h * w`` of the backbone grid (128 for
            ViT-B/16 at 256x128 or 128x256); sizes the position embedding.
        num_modalities (int): ``M``.
        share_layers (bool): One stack of blocks for all spectra (default)
            or one stack per spectrum.
        mode (str): ``'sse'`` (Eq. 8-12), ``'no_rearrange'`` (Eq. 8, 9, 11
            without Eq. 10), ``'mean_pool'`` (``p_hat = mean_j v_{p,j} + p``,
            no rearrangement) or ``'no_refine'`` (``p_hat = p``, no
            rearrangement) - DEEP Table XI.
        temperature (float, optional): ``tau`` of Eq. 8; None gives
            ``sqrt(C)``, the scaled dot-product attention temperature.
        fusion_temperature (float, optional): ``tau_f`` of Eq. 9; None
            uses ``temperature`` (the paper writes one ``tau`` for both).
        fusion_mode (str): What the cross-spectral softmax of Eq. 9 compares
            at patch ``j``: ``'relative'`` (default) ``N * w_{m,j}``, the
            attention relative to the uniform ``1 / N`` (the same as
            ``'literal'`` with ``tau_f / N``); ``'literal'`` ``w_{m,j}`` as
            printed - with ``tau_f = sqrt(C)`` and ``w`` in ``[0, 1]`` its
            weights stay within ``[0.32, 0.34]`` for three spectra, so
            ``W`` is about ``mean_m w_m``; ``'scores'`` the unnormalised
            ``p_m . v_{p,m,j}`` of Eq. 8. ``w_{m,j}`` stays the multiplier
            in every mode. See configs/deep/README.md, choice 10.
        pos_embed (bool): Add the learnable slot position embedding.
        global_key / tokens_key / text_key (str): Inputs ``f_hat``
            ``[B, M, C]``, ``v_p`` ``[B, M, N, C]``, ``p`` ``[B, M, C]``.
        text_mask_key (str): Optional ``[B, M]`` presence mask.
        out_key (str): ``f_tilde`` ``[B, M, C]``.
        out_text_key (str): Output tokens at the ``p_hat`` slot
            ``[B, M, C]``.
        residual (bool): Transformer residuals (see
            :class:`AttentionFFNBlock`).
        act (str): FFN activation.
        dropout (float): Attention / FFN dropout.

    Also adds ``'structure_attention'`` (``W`` ``[B, N]``) and
    ``'patch_order'`` (``pi`` ``[B, N]``, identity when not rearranging).
    """

    def __init__(self,
                 embed_dims: int = 512,
                 num_heads: int = 8,
                 ffn_dims: int = 2048,
                 num_layers: int = 3,
                 num_patches: int = 128,
                 num_modalities: int = 3,
                 share_layers: bool = True,
                 mode: str = 'sse',
                 temperature: Optional[float] = None,
                 fusion_temperature: Optional[float] = None,
                 fusion_mode: str = 'relative',
                 pos_embed: bool = True,
                 global_key: str = 'fused',
                 tokens_key: str = 'proj_tokens',
                 text_key: str = 'text',
                 text_mask_key: str = 'text_mask',
                 out_key: str = 'embedded',
                 out_text_key: str = 'embedded_text',
                 residual: bool = True,
                 act: str = 'GELU',
                 dropout: float = 0.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in SSE_MODES:
            raise ValueError(f'mode must be one of {SSE_MODES}, got '
                             f'{mode!r}.')
        if num_layers < 1 or num_patches < 1:
            raise ValueError('num_layers and num_patches must be >= 1.')
        self.embed_dims = embed_dims
        self.num_patches = num_patches
        self.num_modalities = num_modalities
        self.share_layers = share_layers
        self.mode = mode
        self.temperature = (
            math.sqrt(embed_dims) if temperature is None else temperature)
        self.fusion_temperature = (
            self.temperature
            if fusion_temperature is None else fusion_temperature)
        if self.temperature <= 0 or self.fusion_temperature <= 0:
            raise ValueError('temperatures must be positive.')
        if fusion_mode not in FUSION_MODES:
            raise ValueError(f'{type(self).__name__}: fusion_mode must be '
                             f'one of {FUSION_MODES}, got {fusion_mode!r}.')
        self.fusion_mode = fusion_mode
        self.global_key = global_key
        self.tokens_key = tokens_key
        self.text_key = text_key
        self.text_mask_key = text_mask_key
        self.out_key = out_key
        self.out_text_key = out_text_key

        def make_stack() -> nn.ModuleList:
            return nn.ModuleList([
                AttentionFFNBlock(
                    embed_dims,
                    num_heads,
                    ffn_dims,
                    act=act,
                    dropout=dropout,
                    residual=residual) for _ in range(num_layers)
            ])

        num_stacks = 1 if share_layers else num_modalities
        self.stacks = nn.ModuleList([make_stack() for _ in range(num_stacks)])
        if pos_embed:
            self.pos_embed = nn.Parameter(
                torch.zeros(1, num_patches + 2, embed_dims))
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        else:
            self.pos_embed = None

    # ------------------------------------------------------------- contract
    @property
    def reads(self) -> Tuple[str, ...]:
        return (self.global_key, self.tokens_key, self.text_key)

    @property
    def optional_reads(self) -> Tuple[str, ...]:
        return (self.text_mask_key, )

    @property
    def writes(self) -> Tuple[str, ...]:
        return (self.out_key, self.out_text_key, 'structure_attention',
                'patch_order')

    # ------------------------------------------------------------- formulas
    def spectrum_weights(
            self,
            scores: torch.Tensor,
            semantic: torch.Tensor,
            present: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The cross-spectral softmax of Eq. 9 (per ``fusion_mode``).

        Args:
            scores: ``p_m . v_{p,m,j}`` ``[B, M, N]``.
            semantic: ``w`` of Eq. 8 ``[B, M, N]``.
            present: ``[B, M]`` bool, False = missing spectrum (weight 0).

        Returns:
            ``[B, M, N]`` weights summing to 1 over the spectra.
        """
        if self.fusion_mode == 'relative':
            intensity = semantic * semantic.shape[-1]
        elif self.fusion_mode == 'literal':
            intensity = semantic
        else:
            intensity = scores
        logits = intensity / self.fusion_temperature
        if present is not None:
            if not bool(present.any(dim=1).all()):
                raise ValueError('Every sample needs at least one present '
                                 'spectrum; text_mask is all False.')
            logits = logits.masked_fill(~present[:, :, None], float('-inf'))
        return logits.softmax(dim=1)

    def structure_attention(
        self,
        text: torch.Tensor,
        tokens: torch.Tensor,
        present: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Eq. 8-9.

        Args:
            text: ``p`` ``[B, M, C]``.
            tokens: ``v_p`` ``[B, M, N, C]``.
            present: ``[B, M]`` bool, False = missing spectrum.

        Returns:
            ``(w, W)``: per-spectrum semantic attention ``[B, M, N]`` and
            the fused structure attention ``[B, N]``.
        """
        scores = torch.einsum('bmc,bmnc->bmn', text, tokens)
        semantic = (scores / self.temperature).softmax(dim=-1)
        weights = self.spectrum_weights(scores, semantic, present)
        structure = (weights * semantic).sum(dim=1)
        return semantic, structure

    def refine(self, text: torch.Tensor, tokens: torch.Tensor,
               present: Optional[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        """Eq. 8-11 (per ``mode``).

        Returns:
            ``(p_hat [B, M, C], v_hat [B, M, N, C], W [B, N], pi [B, N])``.
        """
        batch, _, num_tokens, _ = tokens.shape
        identity = torch.arange(
            num_tokens, device=tokens.device).expand(batch, -1)
        if self.mode == 'no_refine':
            structure = tokens.new_zeros(batch, num_tokens)
            return text, tokens, structure, identity
        if self.mode == 'mean_pool':
            structure = tokens.new_full((batch, num_tokens), 1.0 / num_tokens)
        else:
            _, structure = self.structure_attention(text, tokens, present)
        text_hat = torch.einsum('bn,bmnc->bmc', structure, tokens) + text
        if self.mode != 'sse':
            return text_hat, tokens, structure, identity
        order = structure.argsort(dim=-1, descending=True)
        index = order[:, None, :, None].expand_as(tokens)
        return text_hat, tokens.gather(2, index), structure, order

    # -------------------------------------------------------------- forward
    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        """Add ``out_key``, ``out_text_key``, ``'structure_attention'`` and
        ``'patch_order'``."""
        name = type(self).__name__
        check_modality_features(feats, (self.global_key, self.text_key),
                                self.tokens_key, self.num_modalities,
                                self.embed_dims, name)
        fused = feats[self.global_key]
        text = feats[self.text_key]
        tokens = feats[self.tokens_key]
        if tokens.shape[2] != self.num_patches:
            raise ValueError(
                f'{name} was built for num_patches={self.num_patches} but '
                f'feats["{self.tokens_key}"] has {tokens.shape[2]} patches; '
                'set num_patches to h*w of the backbone grid '
                f'{feats.get("grid")}.')
        present = feats.get(self.text_mask_key)
        text_hat, tokens_hat, structure, order = self.refine(
            text, tokens, present)
        sequence = torch.cat(
            [fused[:, :, None], text_hat[:, :, None], tokens_hat], dim=2)
        if self.pos_embed is not None:
            sequence = sequence + self.pos_embed[:, None]
        batch, num_modalities, length, channels = sequence.shape
        if self.share_layers:
            hidden = sequence.reshape(batch * num_modalities, length, channels)
            for block in self.stacks[0]:
                hidden = block(hidden)
            hidden = hidden.view(batch, num_modalities, length, channels)
        else:
            outputs = []
            for index, stack in enumerate(self.stacks):
                part = sequence[:, index]
                for block in stack:
                    part = block(part)
                outputs.append(part)
            hidden = torch.stack(outputs, dim=1)
        out = dict(feats)
        out[self.out_key] = hidden[:, :, 0]
        out[self.out_text_key] = hidden[:, :, 1]
        out['structure_attention'] = structure
        out['patch_order'] = order
        return out
