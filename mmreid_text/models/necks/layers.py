# Copyright (c) mmreid_text contributors. All rights reserved.
"""Building blocks shared by the DEEP necks (SGSF, SSE, simple fusions)."""
from typing import Optional, Sequence

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


def modality_presence_mask(data_samples: Optional[Sequence],
                           modalities: Sequence[str], batch_size: int,
                           device: torch.device) -> torch.Tensor:
    """``[B, M]`` bool mask, False where a modality is missing.

    Reads ``metainfo['missing_modalities']`` (set by
    ``ReIDDataPreprocessor`` under the missing-modality protocol) of every
    data sample; without data samples or the key every modality is present.
    When a sample names its ``modalities``, they must equal ``modalities``
    (same names, same order).

    Args:
        data_samples: ``ReIDDataSample`` list or None.
        modalities: The component's modality names, in slot order.
        batch_size: ``B``.
        device: Device of the returned mask.
    """
    modalities = tuple(modalities)
    mask = torch.ones(batch_size, len(modalities), dtype=torch.bool)
    if not data_samples:
        return mask.to(device)
    if len(data_samples) != batch_size:
        raise ValueError(f'{len(data_samples)} data samples for a batch of '
                         f'{batch_size}.')
    for index, sample in enumerate(data_samples):
        metainfo = sample.metainfo
        sample_modalities = metainfo.get('modalities')
        if (sample_modalities is not None
                and tuple(sample_modalities) != modalities):
            raise ValueError(
                f'The data sample has modalities {tuple(sample_modalities)} '
                f'but the model was configured for {modalities}; the '
                'dataset and the model must name the same spectra in the '
                'same order (set modalities=... of the DEEP components).')
        for name in metainfo.get('missing_modalities', ()) or ():
            if name not in modalities:
                raise ValueError(f'Missing modality {name!r} is not one of '
                                 f'the model modalities {modalities}.')
            mask[index, modalities.index(name)] = False
    return mask.to(device)


def check_modality_feature(feats: dict,
                           key: str,
                           num_modalities: int,
                           dims: int,
                           owner: str,
                           ndim: int = 3) -> None:
    """Raise a clear error unless ``feats[key]`` is ``[B, M, (N,) C]``."""
    if key not in feats:
        raise KeyError(f'{owner} reads feats["{key}"] but the feature dict '
                       f'has only {sorted(feats)}; add the component that '
                       'produces it before this one or change the key.')
    value = feats[key]
    if (not torch.is_tensor(value) or value.dim() != ndim
            or value.shape[1] != num_modalities or value.shape[-1] != dims):
        shape = ('[B, M, C]' if ndim == 3 else '[B, M, N, C]')
        got = tuple(value.shape) if torch.is_tensor(value) else type(value)
        raise ValueError(
            f'{owner} expects feats["{key}"] of shape {shape} with '
            f'M={num_modalities}, C={dims}; got {got}. Check the '
            'number of spectra of the dataset and embed_dims.')
