# Copyright (c) mmreid_text contributors. All rights reserved.
"""The expert of NEXT's semantic and structure experts (Eq. 1)."""
import torch
from torch import nn

from .attention import FFN


class ExpertBlock(nn.Module):
    """``E(F) = Dropout(MLP(LN(F))) + F`` (NEXT Eq. 1).

    One token-wise residual MLP, the architecture of every semantic expert
    ``E_t`` (TMSE) and structure expert ``E_c`` (CSSE, "shares the same
    architecture as E_t").

    Args:
        embed_dims (int): Token width ``D``.
        mlp_ratio (float): Hidden width of the MLP as a multiple of ``D``.
            The paper does not give it; 1.0 (default) is the width whose
            parameter count matches Table IV (TMSE adds 4.0 M parameters
            with three 512-d experts and nine routers, see
            ``TextModulatedSemanticExperts``); 4.0 is the ViT MLP.
        dropout (float): Dropout on the MLP output (0.1 in the paper).
        act (str): MLP activation (``'GELU'``, ``'QuickGELU'``, ``'ReLU'``).
    """

    def __init__(self,
                 embed_dims: int,
                 mlp_ratio: float = 1.0,
                 dropout: float = 0.1,
                 act: str = 'GELU') -> None:
        super().__init__()
        hidden = int(round(embed_dims * mlp_ratio))
        if hidden < 1:
            raise ValueError(
                f'ExpertBlock: mlp_ratio={mlp_ratio} gives an '
                f'empty hidden layer for embed_dims={embed_dims}.')
        self.norm = nn.LayerNorm(embed_dims)
        self.mlp = FFN(embed_dims, hidden, act=act, dropout=0.0)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[..., D]`` -> ``[..., D]``."""
        return self.dropout(self.mlp(self.norm(x))) + x
