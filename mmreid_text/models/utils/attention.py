# Copyright (c) mmreid_text contributors. All rights reserved.
"""Transformer blocks shared by necks, heads and prompt learners."""
from typing import Optional

import torch
from torch import nn

_ACTIVATIONS = ('GELU', 'QuickGELU', 'ReLU')


class QuickGELU(nn.Module):
    """CLIP's ``x * sigmoid(1.702 x)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


def build_activation(name: str) -> nn.Module:
    """``'GELU'`` | ``'QuickGELU'`` | ``'ReLU'`` -> module."""
    if name == 'GELU':
        return nn.GELU()
    if name == 'QuickGELU':
        return QuickGELU()
    if name == 'ReLU':
        return nn.ReLU(inplace=True)
    raise ValueError(f'Unknown activation {name!r}; use one of '
                     f'{_ACTIVATIONS}.')


class FFN(nn.Sequential):
    """Transformer feed-forward network ``Linear -> act -> Linear``.

    Args:
        embed_dims (int): Input and output width ``C``.
        ffn_dims (int): Hidden width (``4 C`` in the Transformer).
        act (str): Activation name.
        dropout (float): Dropout after the activation and the output.
    """

    def __init__(self,
                 embed_dims: int,
                 ffn_dims: int,
                 act: str = 'GELU',
                 dropout: float = 0.0) -> None:
        super().__init__(
            nn.Linear(embed_dims, ffn_dims), build_activation(act),
            nn.Dropout(dropout), nn.Linear(ffn_dims, embed_dims),
            nn.Dropout(dropout))


class AttentionFFNBlock(nn.Module):
    """``FFN(LN(Attn(query, context)))`` in the order of DEEP Eq. 4 / 12.

    With ``residual=True`` (default) the Transformer's residual connections
    are added around the attention and the FFN::

        h = LN(query + Attn(query, context, context))
        out = h + FFN(h)

    With ``residual=False`` the block is the literal formula
    ``FFN(LN(Attn(query, context, context)))``. ``context=None`` makes it
    self-attention (DEEP Eq. 12's MSA).

    Args:
        embed_dims (int): Token width ``C``.
        num_heads (int): Attention heads.
        ffn_dims (int): FFN hidden width.
        act (str): FFN activation.
        dropout (float): Dropout of attention weights and FFN.
        residual (bool): Add the residual connections.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 ffn_dims: int,
                 act: str = 'GELU',
                 dropout: float = 0.0,
                 residual: bool = True) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible '
                             f'by num_heads ({num_heads}).')
        self.residual = residual
        self.attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=dropout, batch_first=True)
        self.norm = nn.LayerNorm(embed_dims)
        self.ffn = FFN(embed_dims, ffn_dims, act=act, dropout=dropout)

    def forward(self,
                query: torch.Tensor,
                context: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``query`` ``[B, Q, C]``, ``context`` ``[B, K, C]`` -> ``[B, Q, C]``.
        """
        if context is None:
            context = query
        hidden = self.attn(query, context, context, need_weights=False)[0]
        if self.residual:
            hidden = hidden + query
        hidden = self.norm(hidden)
        out = self.ffn(hidden)
        if self.residual:
            out = out + hidden
        return out
