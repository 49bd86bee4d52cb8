# Copyright (c) mmreid_text contributors. All rights reserved.
"""Base of the necks that fuse per-frame features into one per tracklet."""
from typing import List, Optional

import torch
from mmengine.model import BaseModule

from .feature_contract import FeatureContract


class BaseTemporalFusion(FeatureContract, BaseModule):
    """``feats[in_key]`` ``[B, M, T, C]`` -> ``feats[out_key]`` ``[B, M, C]``.

    Checks the input shape (``T = num_frames``, ``C = embed_dims``) and
    applies :meth:`fuse` to every tracklet (each modality slot of each
    sample); subclasses implement :meth:`fuse` only.

    Args:
        embed_dims (int): ``C``.
        num_frames (int): ``T``; inputs with another ``T`` are refused.
        in_key (str): Per-frame features ``[B, M, T, C]``.
        out_key (str): Sequence feature ``[B, M, C]``.
        init_cfg (dict, optional): mmengine init config.
    """

    key_attrs = dict(reads=('in_key', ), writes=('out_key', ))

    def __init__(self,
                 embed_dims: int,
                 num_frames: int,
                 in_key: str,
                 out_key: str,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_frames < 1 or embed_dims < 1:
            raise ValueError(f'{type(self).__name__}: num_frames and '
                             'embed_dims must be >= 1.')
        self.embed_dims = int(embed_dims)
        self.num_frames = int(num_frames)
        self.in_key = in_key
        self.out_key = out_key

    def fuse(self, frames: torch.Tensor) -> torch.Tensor:
        """``[N, T, C]`` -> ``[N, C]``."""
        raise NotImplementedError

    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        """Add ``feats[out_key]`` ``[B, M, C]``."""
        frames = feats[self.in_key]
        shape = (self.num_frames, self.embed_dims)
        if frames.dim() != 4 or tuple(frames.shape[2:]) != shape:
            raise ValueError(
                f'{type(self).__name__}: feats["{self.in_key}"] must be '
                f'[B, M, {shape[0]}, {shape[1]}] per-frame features '
                f'(num_frames={shape[0]}, embed_dims={shape[1]}), got '
                f'{tuple(frames.shape)}.')
        lead = frames.shape[:2]
        out = dict(feats)
        out[self.out_key] = self.fuse(frames.flatten(0, 1)).unflatten(0, lead)
        return out
