# Copyright (c) mmreid_text contributors. All rights reserved.
"""Textual inversion network: visual feature -> pseudo-word embeddings."""
import torch
from torch import nn

from ...utils.attention import build_activation


class InversionNetwork(nn.Module):
    """MLP mapping a visual feature to ``num_tokens`` token embeddings.

    Default (PromptSG's inversion network, which DEEP's ``phi`` follows):
    three linear layers with a 512-wide hidden state and BatchNorm after the
    last one::

        Linear(E, H) -> act -> Linear(H, H) -> act -> Linear(H, T W) -> BN

    Args:
        in_dims (int): ``E``, width of the visual feature.
        out_dims (int): ``W``, width of one token embedding.
        num_tokens (int): ``T`` pseudo-words per input.
        hidden_dims (int): ``H``.
        num_layers (int): Linear layers (>= 1).
        act (str): ``'ReLU'`` | ``'GELU'`` | ``'QuickGELU'``.
        final_norm (bool): BatchNorm1d on the ``T W`` outputs.
        dropout (float): Dropout after each hidden activation.
    """

    def __init__(self,
                 in_dims: int,
                 out_dims: int,
                 num_tokens: int = 1,
                 hidden_dims: int = 512,
                 num_layers: int = 3,
                 act: str = 'ReLU',
                 final_norm: bool = True,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if num_layers < 1 or num_tokens < 1:
            raise ValueError('num_layers and num_tokens must be >= 1.')
        self.in_dims = in_dims
        self.out_dims = out_dims
        self.num_tokens = num_tokens
        layers = []
        width = in_dims
        for _ in range(num_layers - 1):
            layers += [
                nn.Linear(width, hidden_dims),
                build_activation(act),
                nn.Dropout(dropout)
            ]
            width = hidden_dims
        layers.append(nn.Linear(width, num_tokens * out_dims))
        self.mlp = nn.Sequential(*layers)
        self.norm = (
            nn.BatchNorm1d(num_tokens * out_dims) if final_norm else None)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """``[..., E]`` -> ``[..., T, W]``."""
        if feats.shape[-1] != self.in_dims:
            raise ValueError(f'InversionNetwork expects {self.in_dims}-d '
                             f'features, got {tuple(feats.shape)}.')
        lead = feats.shape[:-1]
        x = self.mlp(feats.reshape(-1, self.in_dims))
        if self.norm is not None:
            x = self.norm(x)
        return x.view(*lead, self.num_tokens, self.out_dims)
