# Copyright (c) mmreid_text contributors. All rights reserved.
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmreid_text.registry import MODELS
from mmreid_text.structures import check_pid_range
from ..utils.feature_contract import FeatureContract


class BNNeck(nn.Module):
    """BatchNorm (frozen bias) + bias-free linear classifier (BoT)."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(in_channels)
        self.bn.bias.requires_grad_(False)
        self.classifier = nn.Linear(in_channels, num_classes, bias=False)
        nn.init.constant_(self.bn.weight, 1.0)
        nn.init.constant_(self.bn.bias, 0.0)
        nn.init.normal_(self.classifier.weight, std=0.001)


@MODELS.register_module()
class BNNeckHead(FeatureContract, BaseModule):
    """ID head of the triple-stream baseline: BNNeck on modality features.

    Reads ``feats[in_key]`` (``[B, M, C]``: one global feature per
    modality) and, with ``fuse='concat'``, concatenates the modalities to
    ``[B, M*C]`` before one BNNeck; with ``fuse='per_modality'`` every
    modality gets its own BNNeck and classifier (lists of outputs).

    Adds to ``feats``:

    - ``global_feat``: pre-BN feature(s), for the triplet loss;
    - ``bn_feat``: post-BN feature(s);
    - ``logits``: classifier scores ``[B, num_classes]`` (train only);
    - ``retrieval``: ``[B, M*C]`` ranking feature — the concatenated pre-BN
      features (``retrieval_feat='pre_bn'``, CLIP-ReID / DeMo) or post-BN
      (``'post_bn'``, BoT).

    Args:
        in_key (str): Feature dict key to read. Defaults to ``'proj_cls'``.
        in_channels (int): C, width of one modality's feature.
        num_modalities (int): M.
        num_classes (int): Training identities.
        fuse (str): ``'concat'`` or ``'per_modality'``.
        retrieval_feat (str): ``'pre_bn'`` or ``'post_bn'``.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 num_modalities: int = 3,
                 in_key: str = 'proj_cls',
                 fuse: str = 'concat',
                 retrieval_feat: str = 'pre_bn',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if fuse not in ('concat', 'per_modality'):
            raise ValueError(f'fuse must be concat or per_modality, got '
                             f'{fuse!r}')
        if retrieval_feat not in ('pre_bn', 'post_bn'):
            raise ValueError('retrieval_feat must be pre_bn or post_bn, got '
                             f'{retrieval_feat!r}')
        self.in_key = in_key
        self.num_classes = num_classes
        self.fuse = fuse
        self.num_modalities = num_modalities
        self.retrieval_feat = retrieval_feat
        if fuse == 'concat':
            self.necks = nn.ModuleList(
                [BNNeck(in_channels * num_modalities, num_classes)])
        else:
            self.necks = nn.ModuleList([
                BNNeck(in_channels, num_classes) for _ in range(num_modalities)
            ])

    @property
    def reads(self) -> Tuple[str, ...]:
        return (self.in_key, )

    @property
    def writes(self) -> Tuple[str, ...]:
        return ('global_feat', 'bn_feat', 'retrieval')

    @property
    def train_writes(self) -> Tuple[str, ...]:
        return ('logits', )

    def forward(self,
                feats: Dict[str, torch.Tensor],
                data_samples: Optional[List] = None) -> dict:
        if self.training and data_samples:
            check_pid_range(data_samples, self.num_classes,
                            type(self).__name__)
        x = feats[self.in_key]
        if x.dim() != 3 or x.shape[1] != self.num_modalities:
            raise ValueError(
                f'BNNeckHead expects feats["{self.in_key}"] of shape '
                f'[B, {self.num_modalities}, C], got {tuple(x.shape)}.')
        if self.fuse == 'concat':
            inputs = [x.flatten(1)]
        else:
            inputs = list(x.unbind(1))
        bn = [neck.bn(f) for neck, f in zip(self.necks, inputs)]
        out = dict(feats)
        single = self.fuse == 'concat'
        out['global_feat'] = inputs[0] if single else inputs
        out['bn_feat'] = bn[0] if single else bn
        if self.training:
            logits = [neck.classifier(b) for neck, b in zip(self.necks, bn)]
            out['logits'] = logits[0] if single else logits
        chosen = inputs if self.retrieval_feat == 'pre_bn' else bn
        out['retrieval'] = torch.cat(chosen, dim=1)
        return out
