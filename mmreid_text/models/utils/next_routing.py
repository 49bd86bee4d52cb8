# Copyright (c) mmreid_text contributors. All rights reserved.
"""Token routing of NEXT's semantic experts (TMSE, Eq. 2-3 and 5-6).

:class:`SamplingRouter` is one modality's router of one semantic expert:
a routing map ``alpha`` from the patch tokens, a dynamic threshold
``sigma`` from the class token and the text modulation ``gamma``.
:func:`selection_mask` turns ``gamma > sigma`` (Eq. 3) into a mask with a
gradient path, :func:`topk_selection` is the Top-K strategy of Table VI.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .attention import build_activation

#: How the gradient passes the hard mask of Eq. 3.
MASK_GRAD_MODES = ('ste', 'sigmoid')
#: NEXT Table VI sampling strategies (``'dynamic'`` is the paper's).
THRESHOLD_MODES = ('dynamic', 'fixed', 'topk', 'all')
#: What the modulation does where no text feature exists (w/o Text).
NO_TEXT_MODES = ('alpha', 'zero_beta')


def _mlp(in_dims: int, hidden: int, act: str) -> nn.Sequential:
    """``FC -> act -> FC`` with one output (FC^1/FC^2, FC^3/FC^4)."""
    return nn.Sequential(
        nn.Linear(in_dims, hidden), build_activation(act),
        nn.Linear(hidden, 1))


class SamplingRouter(nn.Module):
    """One modality-specific sampling router ``R_m`` of a semantic expert.

    - routing map (Eq. 2): ``alpha = FC2(GELU(FC1(F_tok)))``, ``[B, N]``;
    - dynamic threshold (Eq. 2): ``sigma = FC2(GELU(FC1(f_cls)))``,
      ``[B]``. Eq. 2 writes the same ``FC^1`` / ``FC^2`` for both lines:
      with ``share_threshold_mlp=True`` (default) sigma is the class
      token's score under the routing MLP itself (a token is kept when it
      scores above the image's class token). This reading also matches
      Table IV: three 512-d experts (``mlp_ratio=1``) with nine such
      routers add 3.94 M parameters, the paper's +4.0 M for TMSE, while a
      separate threshold MLP would add 6.3 M. False gives sigma its own
      ``FC -> GELU -> FC`` of the same shape;
    - text modulation (Eq. 6):
      ``gamma = FC4(GELU(FC3([alpha, beta]))) + alpha`` with
      ``FC3: 2 -> D/2`` and ``FC4: D/2 -> 1``, applied per token.

    Args:
        embed_dims (int): Token width ``D``.
        use_text (bool): Build the modulation network (FC3/FC4).
        share_threshold_mlp (bool): See above.
        with_threshold (bool): Build a threshold MLP when it is not shared
            (False for the fixed / Top-K strategies, which need none).
        modulation_dims (int, optional): FC3 width; default ``D // 2``.
        act (str): Activation ``delta`` (GELU in the paper).
    """

    def __init__(self,
                 embed_dims: int,
                 use_text: bool = True,
                 share_threshold_mlp: bool = True,
                 with_threshold: bool = True,
                 modulation_dims: Optional[int] = None,
                 act: str = 'GELU') -> None:
        super().__init__()
        self.route_mlp = _mlp(embed_dims, embed_dims, act)
        self.share_threshold_mlp = share_threshold_mlp
        self.threshold_mlp = (
            _mlp(embed_dims, embed_dims, act)
            if with_threshold and not share_threshold_mlp else None)
        modulation_dims = modulation_dims or max(embed_dims // 2, 1)
        self.modulation = _mlp(2, modulation_dims, act) if use_text else None

    def route(self, tokens: torch.Tensor) -> torch.Tensor:
        """Routing map ``alpha``: tokens ``[B, N, D]`` -> ``[B, N]``."""
        return self.route_mlp(tokens).squeeze(-1)

    def threshold(self, cls: torch.Tensor) -> torch.Tensor:
        """Dynamic threshold ``sigma``: ``[B, D]`` -> ``[B, 1]``."""
        mlp = self.route_mlp if self.threshold_mlp is None \
            else self.threshold_mlp
        return mlp(cls)

    def modulate(self,
                 alpha: torch.Tensor,
                 beta: Optional[torch.Tensor],
                 valid: Optional[torch.Tensor] = None,
                 no_text_mode: str = 'alpha') -> torch.Tensor:
        """Modulated map ``gamma`` (Eq. 6), ``[B, N]``.

        Args:
            alpha: ``[B, N]`` routing map.
            beta: ``[B, N]`` text-patch cosine similarity, or None (no
                text for the whole batch).
            valid: ``[B]`` bool, False for samples without a text feature.
            no_text_mode: Where there is no text: ``'alpha'`` gives
                ``gamma = alpha`` (Eq. 3 unmodulated), ``'zero_beta'``
                runs the modulation with ``beta = 0``.
        """
        if no_text_mode not in NO_TEXT_MODES:
            raise ValueError(f'no_text_mode must be one of {NO_TEXT_MODES}, '
                             f'got {no_text_mode!r}.')
        if self.modulation is None:
            return alpha
        if beta is None:
            if no_text_mode == 'alpha':
                return alpha
            beta = torch.zeros_like(alpha)
        beta = beta.to(alpha.dtype)
        if valid is not None and no_text_mode == 'zero_beta':
            beta = beta * valid[:, None].to(beta.dtype)
        gamma = alpha + self.modulation(torch.stack([alpha, beta],
                                                    dim=-1)).squeeze(-1)
        if valid is not None and no_text_mode == 'alpha':
            gamma = torch.where(valid[:, None], gamma, alpha)
        return gamma


def cosine_similarity_map(text: torch.Tensor,
                          tokens: torch.Tensor) -> torch.Tensor:
    """``beta`` of Eq. 5: cosine of text features and patch tokens.

    Args:
        text: ``[..., D]`` one text feature per map.
        tokens: ``[..., N, D]`` (same leading shape, broadcastable).

    Returns:
        ``[..., N]``.
    """
    text = F.normalize(text.float(), dim=-1)
    tokens = F.normalize(tokens.float(), dim=-1)
    return (tokens * text.unsqueeze(-2)).sum(-1)


def selection_mask(
        score: torch.Tensor,
        threshold: torch.Tensor,
        grad_mode: str = 'ste',
        temperature: float = 1.0,
        training: bool = True,
        hard: Optional[torch.Tensor] = None,
        hard_at_eval: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
    """Sampling mask of Eq. 3 with a gradient path through the threshold.

    ``hard = 1[score > threshold]`` (or the given ``hard``, e.g. a Top-K
    indicator) and the surrogate ``soft = sigmoid((score - threshold) /
    temperature)``:

    - ``'ste'`` (straight-through): ``hard + (soft - soft.detach())``; the
      forward value is exactly the hard mask (training and test), the
      gradient is that of ``soft`` (reaches the router, the threshold and
      the modulation network);
    - ``'sigmoid'`` (relaxation): ``soft`` while training; at test the
      hard mask (``hard_at_eval``, default) or ``soft``.

    Args:
        score: ``[B, N]`` (``gamma`` or ``alpha``).
        threshold: ``[B, 1]`` or a scalar tensor.
        grad_mode: ``'ste'`` or ``'sigmoid'``.
        temperature: Surrogate temperature (> 0).
        training: Module training flag.
        hard: Precomputed hard mask ``[B, N]`` (0/1).
        hard_at_eval: See ``'sigmoid'``.

    Returns:
        ``(mask, hard)``, both ``[B, N]`` in ``score``'s dtype; ``hard`` has
        no gradient.
    """
    if grad_mode not in MASK_GRAD_MODES:
        raise ValueError(f'grad_mode must be one of {MASK_GRAD_MODES}, got '
                         f'{grad_mode!r}.')
    if temperature <= 0:
        raise ValueError(f'temperature must be > 0, got {temperature}.')
    if hard is None:
        hard = (score > threshold).to(score.dtype)
    hard = hard.detach().to(score.dtype)
    soft = torch.sigmoid((score - threshold) / temperature)
    if grad_mode == 'ste':
        return hard + (soft - soft.detach()), hard
    if training or not hard_at_eval:
        return soft, hard
    return hard, hard


def topk_selection(score: torch.Tensor,
                   ratio: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """Top-K strategy of Table VI: keep the ``K = round(ratio * N)`` tokens
    of highest score (at least one).

    Returns:
        ``(hard [B, N], threshold [B, 1])``: the 0/1 indicator of the top
        ``K`` tokens and, for the surrogate gradient, the midpoint between
        the ``K``-th and ``K+1``-th largest scores (no gradient).
    """
    num_tokens = int(score.shape[-1])  # a tensor under JIT tracing
    k = min(max(int(round(ratio * num_tokens)), 1), num_tokens)
    detached = score.detach()
    top = detached.topk(min(k + 1, num_tokens), dim=-1)
    hard = torch.zeros_like(detached).scatter_(-1, top.indices[:, :k], 1.0)
    if k < num_tokens:
        threshold = (top.values[:, k - 1:k] + top.values[:, k:k + 1]) / 2
    else:
        threshold = top.values[:, -1:] - 1.0
    return hard, threshold
