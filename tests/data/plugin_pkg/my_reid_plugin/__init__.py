# Copyright (c) mmreid_text contributors. All rights reserved.
"""A stand-alone package that adds a head to mmreid_text from outside.

It is imported by a config's ``custom_imports`` and registers into
mmreid_text's MODELS registry without any change to mmreid_text. It
declares no feature keys on purpose: the tests use it as the plugin the
build-time feature check cannot see into
(``tests/test_models/test_reid_model_contract.py``). The documented,
installable example plugin is ``projects/example_head``.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmreid_text.registry import MODELS


@MODELS.register_module()
class ModalityMeanCosineHead(BaseModule):
    """Average the modality features, then a cosine classifier.

    Reads ``feats[in_key]`` ``[B, M, C]``; adds ``global_feat`` ``[B, C]``,
    ``logits`` ``[B, num_classes]`` (scaled cosine similarities, train
    only) and ``retrieval`` ``[B, C]``.
    """

    def __init__(self,
                 in_channels,
                 num_classes,
                 in_key='proj_cls',
                 scale=16.0,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.in_key = in_key
        self.scale = scale
        self.weight = nn.Parameter(torch.randn(num_classes, in_channels))

    def forward(self, feats, data_samples=None):
        x = feats[self.in_key].mean(1)
        out = dict(feats, global_feat=x, retrieval=x)
        if self.training:
            out['logits'] = self.scale * F.normalize(x) @ F.normalize(
                self.weight).t()
        return out
