# Copyright (c) mmreid_text contributors. All rights reserved.
"""VLD head: BNNeck ID classifiers on the sequence CLS and STA features."""
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.model import BaseModule
from torch import nn

from mmreid_text.registry import MODELS
from mmreid_text.structures import check_pid_range
from ..utils.feature_contract import FeatureContract
from .bnneck_head import BNNeck


@MODELS.register_module()
class VLDHead(FeatureContract, BaseModule):
    """ID heads of VLD (Eq. 3 and 12) and its retrieval feature.

    Branches (each a BatchNorm + bias-free linear classifier, as the public
    VLD code's ``Classifier``; the paper only writes ``W_id``):

    - CLS: ``feats[cls_key]`` ``[B, M, C]`` = ``f_cls^s`` (Eq. 2/9, the
      temporally averaged frame CLS after ``ln_post``) ->
      ``cls_feat`` (pre-BN ``[B, M*C]``, for ``L_wrt^cls``),
      ``cls_bn_feat``, ``cls_logits`` (train, for ``L_id^cls``);
    - STA: ``feats[sta_key]`` ``[B, M, C]`` = ``f_H^s`` (Eq. 11) ->
      ``sta_feat`` (for ``L_wrt^H``), ``sta_bn_feat``, ``sta_logits``
      (train, for ``L_id^H``); ``sta_key=None`` drops the branch (the
      baseline / B+IMLP rows of Table III);
    - optional projected branch (``proj_key``, e.g. ``'seq_proj_cls'``
      ``[B, M, E]``): ``proj_feat``, ``proj_bn_feat``, ``proj_logits``;
      not in the paper's Eq. 14 but in the public code's loss (its CE and
      WRT on the 512-d projection).

    Retrieval (the paper does not describe the test feature; the public
    code is followed): ``cat(cls_feat, sta_feat)`` ``[B, M*C*2]``, in this
    order (CLS first), both temporally averaged, **before** BN
    (``retrieval_feat='pre_bn'``; ``'post_bn'`` uses the BN outputs), not
    normalised here (``ReIDMetric`` may normalise). The classifiers are
    never used at test time.

    Args:
        in_channels (int): ``C`` of the CLS / STA features (768).
        num_classes (int): Training identities.
        num_modalities (int): ``M`` slots of the input (1 for VI video:
            each sample is one modality).
        cls_key (str): Sequence CLS feature.
        sta_key (str, optional): Sequence STA feature.
        proj_key (str, optional): Sequence projected CLS feature.
        proj_channels (int): ``E`` of ``proj_key`` (512).
        bn_bias (bool): Train the BatchNorm bias (True, as the public VLD
            ``Classifier``; False freezes it as BoT's BNNeck).
        retrieval_feat (str): ``'pre_bn'`` or ``'post_bn'``.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 num_modalities: int = 1,
                 cls_key: str = 'seq_cls',
                 sta_key: Optional[str] = 'seq_sta',
                 proj_key: Optional[str] = None,
                 proj_channels: int = 512,
                 bn_bias: bool = True,
                 retrieval_feat: str = 'pre_bn',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if retrieval_feat not in ('pre_bn', 'post_bn'):
            raise ValueError('VLDHead: retrieval_feat must be pre_bn or '
                             f'post_bn, got {retrieval_feat!r}.')
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.num_modalities = num_modalities
        self.cls_key = cls_key
        self.sta_key = sta_key
        self.proj_key = proj_key
        self.proj_channels = proj_channels
        self.retrieval_feat = retrieval_feat
        self.branches = {'cls': (cls_key, in_channels)}
        if sta_key is not None:
            self.branches['sta'] = (sta_key, in_channels)
        if proj_key is not None:
            self.branches['proj'] = (proj_key, proj_channels)
        self.necks = nn.ModuleDict({
            name:
            BNNeck(channels * num_modalities, num_classes)
            for name, (_, channels) in self.branches.items()
        })
        for neck in self.necks.values():
            neck.bn.bias.requires_grad_(bn_bias)

    # --------------------------------------------------------------- contract
    @property
    def reads(self) -> Tuple[str, ...]:
        return tuple(key for key, _ in self.branches.values())

    @property
    def writes(self) -> Tuple[str, ...]:
        keys = []
        for name in self.branches:
            keys += [f'{name}_feat', f'{name}_bn_feat']
        return (*keys, 'retrieval')

    @property
    def train_writes(self) -> Tuple[str, ...]:
        return tuple(f'{name}_logits' for name in self.branches)

    # ---------------------------------------------------------------- forward
    def forward(self,
                feats: Dict[str, torch.Tensor],
                data_samples: Optional[List] = None) -> dict:
        if self.training and data_samples:
            check_pid_range(data_samples, self.num_classes,
                            type(self).__name__)
        out = dict(feats)
        retrieval = []
        for name, (key, channels) in self.branches.items():
            x = feats[key]
            if x.dim() != 3 or tuple(
                    x.shape[1:]) != (self.num_modalities, channels):
                raise ValueError(
                    f'VLDHead expects feats["{key}"] of shape [B, '
                    f'{self.num_modalities}, {channels}] (a sequence '
                    f'feature: pool the frames with TemporalPooling first), '
                    f'got {tuple(x.shape)}.')
            x = x.flatten(1)
            neck = self.necks[name]
            bn = neck.bn(x)
            out[f'{name}_feat'] = x
            out[f'{name}_bn_feat'] = bn
            if self.training:
                out[f'{name}_logits'] = neck.classifier(bn)
            if name != 'proj':
                retrieval.append(x if self.retrieval_feat == 'pre_bn' else bn)
        out['retrieval'] = torch.cat(retrieval, dim=1)
        return out
