# Copyright (c) mmreid_text contributors. All rights reserved.
"""Temporal average pooling of per-frame features (video ReID)."""
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule

from mmreid_text.registry import MODELS
from ..utils.feature_contract import FeatureContract


@MODELS.register_module()
class TemporalPooling(FeatureContract, BaseModule):
    """Average per-frame features over the frame axis (VLD Eq. 2, 9, 11).

    Every ``feats[in_keys[i]]`` ``[B, M, T, ...]`` becomes
    ``feats[out_keys[i]]`` ``[B, M, ...]`` (mean over ``T``, axis 2, the
    axis the backbone keeps for tracklets).

    Args:
        in_keys (Sequence[str]): Per-frame features.
        out_keys (Sequence[str]): Pooled features, one per input key.
        num_frames (int, optional): Expected ``T``; None accepts any.
    """

    def __init__(self,
                 in_keys: Sequence[str] = ('cls', 'sta', 'proj_cls'),
                 out_keys: Sequence[str] = ('seq_cls', 'seq_sta',
                                            'seq_proj_cls'),
                 num_frames: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_keys = tuple(in_keys)
        self.out_keys = tuple(out_keys)
        name = type(self).__name__
        if not self.in_keys or len(self.in_keys) != len(self.out_keys):
            raise ValueError(f'{name}: in_keys {self.in_keys} and out_keys '
                             f'{self.out_keys} must be non-empty and of the '
                             'same length.')
        if len(set(self.out_keys)) != len(self.out_keys):
            raise ValueError(f'{name}: out_keys must be unique.')
        self.num_frames = num_frames

    @property
    def reads(self) -> Tuple[str, ...]:
        return self.in_keys

    @property
    def writes(self) -> Tuple[str, ...]:
        return self.out_keys

    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        """Add the pooled ``[B, M, ...]`` features."""
        out = dict(feats)
        for in_key, out_key in zip(self.in_keys, self.out_keys):
            value: torch.Tensor = feats[in_key]
            if value.dim() < 4 or (self.num_frames is not None
                                   and value.shape[2] != self.num_frames):
                frames = 'T' if self.num_frames is None else self.num_frames
                raise ValueError(
                    f'{type(self).__name__}: feats["{in_key}"] must be '
                    f'[B, M, {frames}, ...] per-frame features, got '
                    f'{tuple(value.shape)}.')
            out[out_key] = value.mean(dim=2)
        return out
