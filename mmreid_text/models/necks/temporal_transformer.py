# Copyright (c) mmreid_text contributors. All rights reserved.
"""Transformer over the frames of a tracklet (VLD Table IV "Transf" /
"Transf_cls")."""
from typing import Optional

import torch
from torch import nn

from mmreid_text.registry import MODELS
from ..utils.attention import QuickGELU
from ..utils.temporal_fusion import BaseTemporalFusion

_ACTS = ('ReLU', 'GELU', 'QuickGELU')


@MODELS.register_module()
class TemporalTransformer(BaseTemporalFusion):
    """Temporal Transformer fusion of per-frame features.

    The two Transformer temporal aggregations of VLD's Table IV (Li et al.,
    TIFS 2025), which follow the ``Transf`` / ``Transf_cls`` options of the
    temporal module TF-CLIP ships (``model/Visual_Prompt.py``, from
    ActionCLIP). For every tracklet ``x`` ``[T, C]`` (one modality slot of a
    sample), with ``L`` encoder layers ``E_1..E_L``:

    ``readout='mean'`` ("Transf")::

        h = E_L(...E_1(x + P)...),   P [T, C] learnable frame positions
        out = (1 / T) sum_t (h_t + x_t)          (residual=True)

    ``readout='cls'`` ("Transf_cls")::

        h = E_L(...E_1([c; x] + P)...),  c [C] learnable CLS, P [T + 1, C]
        out = LN(h)_0                    (final_norm=True: the CLS slot)

    Each ``E_l`` is an ``nn.TransformerEncoderLayer`` of width ``C``,
    ``num_heads`` heads and a ``ffn_ratio * C`` feed-forward network:
    ``norm_first=True`` is CLIP's pre-LN residual block
    (``h + MHA(LN(h))``, then ``h + FFN(LN(h))``), ``norm_first=False``
    PyTorch's post-LN layer. TF-CLIP's "Transf" uses 6 pre-LN CLIP blocks
    with QuickGELU and no dropout; its "Transf_cls" 6 post-LN
    ``nn.TransformerEncoderLayer(d_model, nhead=8)`` (ReLU, dropout 0.1)
    with a final LayerNorm. The configs set these explicitly.

    Initialisation (TF-CLIP's): every linear weight (the attention
    in-projection included) ``N(0, init_std^2)``, biases 0, LayerNorms
    (1, 0), ``P`` and ``c`` truncated ``N(0, init_std^2)`` at
    ``2 init_std``.

    Differences from the TF-CLIP code (documented in configs/vld/README.md):
    "Transf"'s position table has ``T`` rows (TF-CLIP's
    ``nn.Embedding(77, 512)`` uses only its first ``T``); the same unused
    table, built by TF-CLIP for "Transf_cls" too, is not built.

    Args:
        embed_dims (int): ``C`` (512, the CLIP projection width).
        num_heads (int): Attention heads (8).
        num_layers (int): ``L`` (6).
        ffn_ratio (int): FFN hidden width / ``C`` (4).
        num_frames (int): ``T``; inputs with another ``T`` are refused.
        readout (str): ``'mean'`` | ``'cls'``.
        norm_first (bool): Pre-LN (True) or post-LN (False) layers.
        act (str): FFN activation, ``'ReLU'`` | ``'GELU'`` |
            ``'QuickGELU'``.
        dropout (float): Dropout of the layers (attention weights, FFN,
            residual branches).
        final_norm (bool): LayerNorm after the last layer.
        residual (bool): ``readout='mean'`` only: add the input (without
            positions) to the encoder output before the average.
        init_std (float): Std of the initialisation.
        in_key (str): Per-frame features ``[B, M, T, C]``.
        out_key (str): Sequence feature ``[B, M, C]``.
    """

    READOUTS = ('mean', 'cls')

    def __init__(self,
                 embed_dims: int = 512,
                 num_heads: int = 8,
                 num_layers: int = 6,
                 ffn_ratio: int = 4,
                 num_frames: int = 6,
                 readout: str = 'mean',
                 norm_first: bool = True,
                 act: str = 'QuickGELU',
                 dropout: float = 0.0,
                 final_norm: bool = False,
                 residual: bool = True,
                 init_std: float = 0.02,
                 in_key: str = 'proj_cls',
                 out_key: str = 'seq_proj_cls',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(embed_dims, num_frames, in_key, out_key, init_cfg)
        name = type(self).__name__
        if readout not in self.READOUTS:
            raise ValueError(f'{name}: readout must be one of '
                             f'{self.READOUTS}, got {readout!r}.')
        if readout == 'cls' and residual:
            raise ValueError(
                f'{name}: residual=True adds the frames to the encoder '
                'output before the temporal average (readout="mean"); with '
                'readout="cls" set residual=False.')
        if act not in _ACTS:
            raise ValueError(f'{name}: act must be one of {_ACTS}, got '
                             f'{act!r}.')
        if embed_dims % num_heads:
            raise ValueError(f'{name}: embed_dims ({embed_dims}) must be '
                             f'divisible by num_heads ({num_heads}).')
        if num_layers < 1 or ffn_ratio < 1:
            raise ValueError(f'{name}: num_layers and ffn_ratio must be >= '
                             '1.')
        self.readout = readout
        self.residual = residual
        activation = dict(ReLU='relu', GELU='gelu', QuickGELU=QuickGELU())[act]
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                embed_dims,
                num_heads,
                dim_feedforward=ffn_ratio * embed_dims,
                dropout=dropout,
                activation=activation,
                batch_first=True,
                norm_first=norm_first) for _ in range(num_layers))
        self.norm = nn.LayerNorm(embed_dims) if final_norm else None
        num_slots = num_frames + (readout == 'cls')
        self.pos_embed = nn.Parameter(torch.zeros(num_slots, embed_dims))
        self.cls_token = nn.Parameter(
            torch.zeros(embed_dims)) if readout == 'cls' else None
        self._init_parameters(init_std)

    def _init_parameters(self, std: float) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=std)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.MultiheadAttention):
                nn.init.normal_(module.in_proj_weight, std=std)
                nn.init.zeros_(module.in_proj_bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        for param in (self.pos_embed, self.cls_token):
            if param is not None:
                nn.init.trunc_normal_(param, std=std, a=-2 * std, b=2 * std)

    def fuse(self, frames: torch.Tensor) -> torch.Tensor:
        """``[N, T, C]`` -> ``[N, C]``."""
        hidden = frames
        if self.cls_token is not None:
            cls_token = self.cls_token.expand(frames.shape[0], 1, -1)
            hidden = torch.cat([cls_token.to(frames.dtype), frames], dim=1)
        hidden = hidden + self.pos_embed.to(frames.dtype)
        for layer in self.layers:
            hidden = layer(hidden)
        if self.norm is not None:
            hidden = self.norm(hidden)
        if self.readout == 'cls':
            return hidden[:, 0]
        if self.residual:
            hidden = hidden + frames
        return hidden.mean(dim=1)
