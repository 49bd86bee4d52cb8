# Copyright (c) mmreid_text contributors. All rights reserved.
"""EEES cross-modality semantics purification loss (CMSP, Eq. 12)."""
import logging
from itertools import permutations
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log

from mmreid_text.registry import MODELS
from .modality_groups import group_items, pair_across_groups


def _distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise Euclidean distance ``[P, E]`` x ``[P, E]`` -> ``[P]``
    (clamped away from 0 so that the gradient stays finite)."""
    return (a - b).pow(2).sum(-1).clamp(min=1e-12).sqrt()


@MODELS.register_module()
class CMSPLoss(nn.Module):
    """Distance consistency of intra- and inter-modality image-text pairs.

    EEES Eq. 12, for the ``N`` cross-modality pairs ``(i^v, i^r)`` of a
    batch::

        d_i^vv = ||f_i^v - t_i^v||,   d_i^vr = ||f_i^v - t_i^r||
        d_i^rr = ||f_i^r - t_i^r||,   d_i^rv = ||f_i^r - t_i^v||
        L_cmsp = 1/N sum_i (d_i^vv - d_i^vr)^2 + 1/N sum_i (d_i^rr - d_i^rv)^2

    i.e. the visible image should be as far from its infrared partner's
    caption as from its own (and vice versa), which removes modality
    specific words such as colours from what the image embeds.

    Pairs: the paper samples "N paired cross-modality images"; the batch
    of ``CrossModalityIdentitySampler`` is identity-major ([id: K vis,
    K ir]), and the ``k``-th visible sample of an identity pairs with its
    ``k``-th infrared sample, in batch order, whatever the order of the
    blocks (:func:`~.modality_groups.pair_across_groups`). Samples without
    a partner (an identity with fewer images of one modality) are left
    out; :attr:`last_unpaired` / :attr:`num_unpaired` count them and the
    first occurrence is warned about. With ``[B, M, E]`` inputs (every
    modality in every sample, e.g. RGBNT201) the slots of one sample pair
    up, and with more than two modalities the sum runs over every ordered
    pair of modalities (two modalities: exactly Eq. 12).

    Open choice: ``normalize`` - the paper does not say whether the
    features are L2-normalised before the distances; the default (False)
    uses the raw features as CSDN's MSEL, the same group's closest public
    code, does. True compares directions only (the contrastive losses use
    cosine similarity).

    Inputs (``LossTerm`` ``inputs``, in this order):
    ``(image_key, text_key, 'labels'[, 'sample_modalities'])``, e.g.
    ``('proj_cls', 'caption_text', 'labels', 'sample_modalities')``.

    Args:
        normalize (bool): L2-normalise image and text features first.
        modalities (Sequence[str], optional): The modalities every batch
            must hold (e.g. ``('vis', 'ir')``; a batch without one raises),
            or the names of the ``M`` slots of ``[B, M, E]`` inputs.
    """

    def __init__(self,
                 normalize: bool = False,
                 modalities: Optional[Sequence[str]] = None) -> None:
        super().__init__()
        self.normalize = normalize
        self.modalities = tuple(modalities) if modalities else None
        #: Samples without a cross-modality partner in the last batch.
        self.last_unpaired = 0
        #: The same, summed over all batches.
        self.num_unpaired = 0

    def forward(
            self,
            image: torch.Tensor,
            text: torch.Tensor,
            labels: torch.Tensor,
            sample_modalities: Optional[Sequence[str]] = None) -> torch.Tensor:
        """
        Args:
            image (Tensor): ``[B, E]`` / ``[B, 1, E]`` image features (one
                modality per sample) or ``[B, M, E]``.
            text (Tensor): Same shape, the paired caption features.
            labels (Tensor): ``[B]`` identity labels.
            sample_modalities (Sequence[str], optional): ``B`` modality
                names; required for the one-modality layout.

        Returns:
            Scalar ``L_cmsp``.
        """
        name = type(self).__name__
        one_per_sample = image.dim() == 2 or image.shape[1] == 1
        if one_per_sample and sample_modalities is None:
            raise ValueError(
                f'{name} pairs visible with infrared samples and needs '
                'their modality names: add "sample_modalities" to the '
                'inputs of this loss term.')
        items = group_items((image, text),
                            labels,
                            sample_modalities,
                            name,
                            slot_names=self.modalities,
                            what=('image', 'text'))
        present = items.names
        if one_per_sample and self.modalities is not None:
            missing = [m for m in self.modalities if m not in present]
            unknown = [m for m in present if m not in self.modalities]
            if missing or unknown:
                raise ValueError(
                    f'{name} needs every batch to hold the modalities '
                    f'{self.modalities}; this batch holds {list(present)}. '
                    'Train with CrossModalityIdentitySampler (K visible + K '
                    'infrared images per identity).')
        if len(present) < 2:
            raise ValueError(
                f'{name} needs samples of two modalities in the batch; it '
                f'holds only {list(present)}. Train with '
                'CrossModalityIdentitySampler (K visible + K infrared '
                'images per identity).')
        feats, texts = items.features
        if feats.shape[-1] != texts.shape[-1]:
            raise ValueError(
                f'{name}: image features are {feats.shape[-1]}-d but text '
                f'features {texts.shape[-1]}-d; use the image feature in '
                "CLIP's joint space (e.g. 'proj_cls').")
        feats, texts = feats.float(), texts.float()
        if self.normalize:
            feats = F.normalize(feats, dim=-1)
            texts = F.normalize(texts, dim=-1)
        total = feats.new_zeros(())
        num_pairs = unpaired = 0
        for source, target in permutations(present, 2):
            src, dst, missing_partner = pair_across_groups(
                items, source, target)
            unpaired += missing_partner
            if len(src) == 0:
                continue
            num_pairs += len(src)
            intra = _distance(feats[src], texts[src])
            inter = _distance(feats[src], texts[dst])
            total = total + (intra - inter).pow(2).mean()
        if num_pairs == 0:
            raise ValueError(
                f'{name}: no identity of the batch has samples of two '
                f'modalities (modalities {list(present)}); the batch must '
                'hold visible and infrared images of the same identities '
                '(CrossModalityIdentitySampler).')
        if unpaired and not self.num_unpaired:
            print_log(
                f'{name}: {unpaired} sample(s) of the batch have no '
                'cross-modality partner (same identity and rank in the '
                'other modality) and are left out; counted in '
                '.num_unpaired, warned once.',
                logger='current',
                level=logging.WARNING)
        self.last_unpaired = unpaired
        self.num_unpaired += unpaired
        return total
