# Copyright (c) mmreid_text contributors. All rights reserved.
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmreid_text.registry import MODELS
from mmreid_text.structures import stack_pids


@MODELS.register_module()
class CosineMarginHead(BaseModule):
    """Cosine classifier on the mean of the modality features.

    The modalities' features are averaged, ``g = mean_m x[:, m]``, and
    classified by their cosine to one learned centre per identity, with an
    optional additive margin on the true class (CosFace)::

        logits[b, k] = scale * (cos(g_b, w_k) - margin * [k == y_b])

    At test time the model ranks with the L2-normalised mean feature, the
    space the classifier was trained in.

    Reads ``feats[in_key]`` ``[B, M, C]``; adds

    - ``global_feat`` ``[B, C]``: the mean feature ``g`` (for a triplet
      loss);
    - ``retrieval`` ``[B, C]``: ``g / ||g||``;
    - ``logits`` ``[B, num_classes]`` (training only; needs the identity
      labels of ``data_samples`` when ``margin > 0``).

    Args:
        in_channels (int): ``C``, the width of one modality's feature.
        num_classes (int): Training identities.
        in_key (str): Feature dict key to read. Defaults to ``'proj_cls'``
            (the backbone's projected class tokens); DEEP's SSE output is
            ``'embedded'``.
        scale (float): ``s``, the inverse softmax temperature.
        margin (float): ``m >= 0``, subtracted from the true class's cosine
            during training; 0 gives a plain normalised-softmax classifier.
        init_cfg (dict, optional): mmengine initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 in_key: str = 'proj_cls',
                 scale: float = 16.0,
                 margin: float = 0.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if scale <= 0:
            raise ValueError(
                f'CosineMarginHead: scale must be > 0, got {scale}.')
        if margin < 0:
            raise ValueError(
                f'CosineMarginHead: margin must be >= 0, got {margin}.')
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.in_key = in_key
        self.scale = float(scale)
        self.margin = float(margin)
        self.weight = nn.Parameter(torch.empty(num_classes, in_channels))
        nn.init.normal_(self.weight, std=0.01)

    # The keys this head reads and writes, for mmreid_text's build-time check
    # of the feature chain (docs/add_plugin.md). A plugin may leave them out:
    # its model then builds unchecked after it.
    @property
    def reads(self) -> Tuple[str, ...]:
        return (self.in_key, )

    @property
    def writes(self) -> Tuple[str, ...]:
        return ('global_feat', 'retrieval')

    @property
    def train_writes(self) -> Tuple[str, ...]:
        return ('logits', )

    def _labels(self, data_samples: Optional[List],
                device: torch.device) -> torch.Tensor:
        """Identity labels ``[B]``, checked against ``num_classes``."""
        if not data_samples:
            raise ValueError(
                'CosineMarginHead: margin > 0 needs the identity labels '
                'of the batch; call it with data_samples in training mode.')
        labels = stack_pids(data_samples, device=device)
        if int(labels.min()) < 0 or int(labels.max()) >= self.num_classes:
            raise ValueError(
                f'CosineMarginHead has num_classes={self.num_classes} '
                f'but the batch has identity labels {int(labels.min())}..'
                f'{int(labels.max())}; set model.head.num_classes to the '
                'number of training identities of the dataset.')
        return labels

    def forward(self,
                feats: Dict[str, torch.Tensor],
                data_samples: Optional[List] = None) -> dict:
        """Add the head's outputs to a copy of ``feats`` (see class doc)."""
        x = feats[self.in_key]
        if x.dim() != 3 or x.shape[2] != self.in_channels:
            raise ValueError(
                f'CosineMarginHead expects feats["{self.in_key}"] of '
                f'shape [B, M, {self.in_channels}], got {tuple(x.shape)}; '
                'check model.head.in_key and model.head.in_channels.')
        pooled = x.mean(dim=1)  # [B, C]
        normed = F.normalize(pooled, dim=1)
        out = dict(feats)
        out['global_feat'] = pooled
        out['retrieval'] = normed
        if self.training:
            cosine = normed @ F.normalize(self.weight, dim=1).t()  # [B, K]
            if self.margin > 0:
                labels = self._labels(data_samples, cosine.device)
                cosine = cosine - self.margin * F.one_hot(
                    labels, self.num_classes).to(cosine.dtype)
            out['logits'] = self.scale * cosine
        return out
