# Copyright (c) mmreid_text contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from mmreid_text.registry import MODELS
from ..utils.modality import check_modality_feature, modality_presence_mask
from .bnneck_head import BNNeckHead


@MODELS.register_module()
class DEEPHead(BNNeckHead):
    """BNNeck ID head whose retrieval feature also carries the text prompts.

    Training outputs are those of :class:`BNNeckHead` on
    ``feats[in_key]`` (``global_feat``, ``bn_feat``, ``logits``). The
    retrieval feature is (DEEP Sec. III-E, "the text prompts generated from
    spectral inversion are utilized as part of the prediction features")::

        retrieval = Concat(f_rgb, f_nir, f_tir, p_rgb, p_nir, p_tir)

    with ``f_m`` the visual features of ``feats[in_key]`` (pre- or post-BN,
    ``retrieval_feat``) and ``p_m`` = ``feats[text_key]``; ``[B, M*C +
    M*E]`` (3072-d for ViT-B/16). Under the masked missing-modality
    protocol (``ReIDDataPreprocessor(missing_mode='masked')``) the ``p_m``
    slot of every spectrum in a sample's ``missing_modalities`` is zero, so
    the feature holds nothing inverted from a blanked input.

    ``retrieval_norm`` says how the two blocks ``F = cat_m f_m`` and
    ``P = cat_m p_m`` are weighted:

    - ``'global'`` (default): ``cat(F, P)`` as is. ``ReIDMetric``
      L2-normalises the whole vector, so the block with the larger norm
      dominates the distance.
    - ``'per_block'``: ``cat(F / ||F||, P / ||P||) / sqrt(2)``, each block
      unit-norm and half of the squared distance; the vector has norm 1.

    Args:
        in_channels (int): ``C`` of one spectrum's visual feature.
        num_classes (int): Training identities.
        num_modalities (int): ``M``.
        in_key (str): Visual features ``[B, M, C]`` (``'embedded'`` = the
            SSE output).
        text_key (str, optional): Prompts ``[B, M, E]``; None leaves the
            text out of the retrieval feature.
        text_channels (int, optional): ``E``; defaults to ``in_channels``.
        modalities (Sequence[str]): Spectrum names in input order.
        fuse (str): ``'concat'`` (one BNNeck on ``M*C``) or
            ``'per_modality'``.
        retrieval_feat (str): ``'pre_bn'`` or ``'post_bn'`` visual part.
        retrieval_norm (str): ``'global'`` or ``'per_block'``.
    """

    RETRIEVAL_NORMS = ('global', 'per_block')

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 num_modalities: int = 3,
                 in_key: str = 'embedded',
                 text_key: Optional[str] = 'text',
                 text_channels: Optional[int] = None,
                 modalities: Sequence[str] = ('rgb', 'nir', 'tir'),
                 fuse: str = 'concat',
                 retrieval_feat: str = 'pre_bn',
                 retrieval_norm: str = 'global',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            in_channels=in_channels,
            num_classes=num_classes,
            num_modalities=num_modalities,
            in_key=in_key,
            fuse=fuse,
            retrieval_feat=retrieval_feat,
            init_cfg=init_cfg)
        self.modalities = tuple(modalities)
        if len(self.modalities) != num_modalities:
            raise ValueError(f'DEEPHead: {len(self.modalities)} modality '
                             f'names for num_modalities={num_modalities}.')
        if retrieval_norm not in self.RETRIEVAL_NORMS:
            raise ValueError(
                f'DEEPHead: retrieval_norm must be one of '
                f'{self.RETRIEVAL_NORMS}, got {retrieval_norm!r}.')
        if retrieval_norm == 'per_block' and text_key is None:
            raise ValueError(
                "DEEPHead: retrieval_norm='per_block' normalises the visual "
                'and the text block separately, but text_key=None leaves '
                "the text out; set text_key or retrieval_norm='global'.")
        self.retrieval_norm = retrieval_norm
        self.text_key = text_key
        self.text_channels = (
            in_channels if text_channels is None else text_channels)

    @property
    def reads(self) -> Tuple[str, ...]:
        text = () if self.text_key is None else (self.text_key, )
        return (self.in_key, *text)

    def forward(self,
                feats: Dict[str, torch.Tensor],
                data_samples: Optional[List] = None) -> dict:
        out = super().forward(feats, data_samples)
        if self.text_key is None:
            return out
        check_modality_feature(feats, self.text_key, self.num_modalities,
                               self.text_channels,
                               type(self).__name__)
        text = feats[self.text_key]
        present = modality_presence_mask(data_samples, self.modalities,
                                         text.shape[0], text.device)
        text = text * present[:, :, None].to(text.dtype)
        visual, text = out['retrieval'], text.flatten(1)
        if self.retrieval_norm == 'per_block':
            scale = 2**-0.5
            visual = F.normalize(visual, dim=1) * scale
            text = F.normalize(text, dim=1) * scale
        out['retrieval'] = torch.cat([visual, text], dim=1)
        return out
