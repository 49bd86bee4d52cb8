# Copyright (c) mmreid_text contributors. All rights reserved.
"""EEES image-text contrastive loss per modality (ESE Eq. 3-5, CVSC Eq.
8-10)."""
import logging
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log

from mmreid_text.registry import MODELS
from .modality_groups import group_items

CONTRAST_DIRECTIONS = ('i2t', 't2i')
CONTRAST_POSITIVES = ('own', 'identity')
CONTRAST_SIMILARITIES = ('cosine', 'dot')


def image_text_contrast(
        image: torch.Tensor,
        text: torch.Tensor,
        labels: torch.Tensor,
        temperature: float,
        positives: str = 'own',
        similarity: str = 'cosine') -> Tuple[torch.Tensor, torch.Tensor]:
    """Both directions of the InfoNCE loss over ``n`` image-text pairs.

    With ``s(a, b)`` = ``cos(a, b) / temperature`` (``'cosine'``) or
    ``a . b / temperature`` (``'dot'``)::

        i2t = -1/n sum_i log( exp s(f_i, t_i) / sum_j exp s(f_i, t_j) )
        t2i = -1/n sum_i log( exp s(t_i, f_i) / sum_j exp s(t_i, f_j) )

    (EEES Eq. 4 / 5 for one modality). With ``positives='identity'`` the
    numerator's own pair becomes the mean log-probability over all
    ``j`` of the same identity (supervised contrastive form, Khosla et
    al. 2020).

    Args:
        image: ``[n, E]`` image features ``f``.
        text: ``[n, E]`` text features ``t`` (row ``i`` pairs with
            ``image[i]``).
        labels: ``[n]`` identity labels (used by ``'identity'`` only).
        temperature: ``tau``.
        positives: ``'own'`` or ``'identity'``.
        similarity: ``'cosine'`` or ``'dot'``.

    Returns:
        ``(i2t, t2i)`` scalars.
    """
    image, text = image.float(), text.float()
    if similarity == 'cosine':
        image = F.normalize(image, dim=-1)
        text = F.normalize(text, dim=-1)
    logits = image @ text.t() / temperature  # rows: images, cols: texts
    if positives == 'own':
        targets = torch.arange(len(image), device=image.device)
        return (F.cross_entropy(logits,
                                targets), F.cross_entropy(logits.t(), targets))
    same = (labels[:, None] == labels[None, :]).float()

    def supervised(rows: torch.Tensor) -> torch.Tensor:
        log_prob = rows.log_softmax(dim=1)
        return -((same * log_prob).sum(1) / same.sum(1)).mean()

    return supervised(logits), supervised(logits.t())


@MODELS.register_module()
class ImageTextContrastiveLoss(nn.Module):
    """Symmetric image-text contrastive loss within every modality.

    EEES (Dong et al., AAAI) Eq. 3-5 (ESE, ``L_con^o``) and, on the
    multi-view features of :class:`CrossViewFusion`, Eq. 8-10 (CVSC,
    ``L_con^m``)::

        L_con = sum_{g in modalities} ( L_i2t(f^g, t^g) + L_t2i(t^g, f^g) )

    where the visible samples of the batch are contrasted among themselves
    and the infrared ones among themselves (softmax over the ``N`` samples
    of the modality), each direction averaged over the samples of the
    modality and the modalities summed, as Eq. 4 / 5 write it. See
    :func:`image_text_contrast`.

    Open choices (the paper does not give them):

    - ``s(.)``: ``similarity='cosine'`` divided by ``temperature`` = 0.01,
      i.e. CLIP's logit scale 100 at the end of pre-training (the features
      live in CLIP's joint space, fine-tuned from it). ``'dot'`` with
      ``temperature=1`` is the unnormalised form of CLIP-ReID / CSDN.
    - positives: ``'own'`` (default) = only ``j = i`` in the numerator, as
      Eq. 4 / 5 are printed; ``'identity'`` = the supervised contrastive
      form of the cited Khosla et al. (all samples of the same identity in
      the modality are positives) - the same-identity captions are then no
      negatives.

    Inputs (``LossTerm`` ``inputs``, in this order):
    ``(image_key, text_key, 'labels'[, 'sample_modalities'])``, e.g.
    ``('proj_cls', 'caption_text', 'labels', 'sample_modalities')``.

    Args:
        temperature (float): ``tau`` of ``s``.
        similarity (str): ``'cosine'`` or ``'dot'``.
        positives (str): ``'own'`` or ``'identity'``.
        directions (Sequence[str]): Any of ``'i2t'``, ``'t2i'`` (both =
            Eq. 3).
        modalities (Sequence[str], optional): The modalities a batch should
            hold, e.g. ``('vis', 'ir')``. One missing from a batch is
            skipped (its term is 0), counted in :attr:`skipped` and warned
            about once. With ``[B, M, E]`` inputs (every modality in every
            sample) they name the ``M`` slots. None: the groups are the
            modalities found in the batch.

    A modality with a single sample in the batch contributes 0 with
    ``'own'`` positives (its softmax has one entry).
    """

    def __init__(self,
                 temperature: float = 0.01,
                 similarity: str = 'cosine',
                 positives: str = 'own',
                 directions: Sequence[str] = CONTRAST_DIRECTIONS,
                 modalities: Optional[Sequence[str]] = None) -> None:
        super().__init__()
        name = type(self).__name__
        if temperature <= 0:
            raise ValueError(f'{name}: temperature must be > 0, got '
                             f'{temperature}.')
        if similarity not in CONTRAST_SIMILARITIES:
            raise ValueError(f'{name}: similarity must be one of '
                             f'{CONTRAST_SIMILARITIES}, got {similarity!r}.')
        if positives not in CONTRAST_POSITIVES:
            raise ValueError(f'{name}: positives must be one of '
                             f'{CONTRAST_POSITIVES}, got {positives!r}.')
        directions = tuple(directions)
        if not directions or set(directions) - set(CONTRAST_DIRECTIONS):
            raise ValueError(f'{name}: directions must be a non-empty subset '
                             f'of {CONTRAST_DIRECTIONS}, got {directions}.')
        self.temperature = float(temperature)
        self.similarity = similarity
        self.positives = positives
        self.directions = directions
        self.modalities = tuple(modalities) if modalities else None
        #: ``{modality: batches it was missing from}``.
        self.skipped: Dict[str, int] = {}

    def _note_missing(self, present: Sequence[str]) -> None:
        if self.modalities is None:
            return
        for modality in self.modalities:
            if modality in present:
                continue
            if modality not in self.skipped:
                print_log(
                    f'{type(self).__name__}: a batch holds no {modality!r} '
                    f'sample (only {sorted(present)}); its term is skipped. '
                    'Train with CrossModalityIdentitySampler so every batch '
                    'holds every modality (counted in .skipped, warned '
                    'once).',
                    logger='current',
                    level=logging.WARNING)
            self.skipped[modality] = self.skipped.get(modality, 0) + 1

    def forward(
            self,
            image: torch.Tensor,
            text: torch.Tensor,
            labels: torch.Tensor,
            sample_modalities: Optional[Sequence[str]] = None) -> torch.Tensor:
        """
        Args:
            image (Tensor): ``[B, E]`` / ``[B, 1, E]`` image features (one
                modality per sample) or ``[B, M, E]`` (``M`` slots).
            text (Tensor): Same layout, the paired caption features.
            labels (Tensor): ``[B]`` identity labels.
            sample_modalities (Sequence[str], optional): ``B`` modality
                names of the samples (one-modality layout); without them
                the batch is one group.

        Returns:
            Scalar ``L_con`` summed over the modalities.
        """
        name = type(self).__name__
        items = group_items((image, text),
                            labels,
                            sample_modalities,
                            name,
                            slot_names=self.modalities,
                            what=('image', 'text'))
        feats, texts = items.features
        if feats.shape[-1] != texts.shape[-1]:
            raise ValueError(
                f'{name}: image features are {feats.shape[-1]}-d but text '
                f'features {texts.shape[-1]}-d; use the image feature in '
                "CLIP's joint space (e.g. 'proj_cls').")
        one_per_sample = image.dim() == 2 or image.shape[1] == 1
        if self.modalities is not None and one_per_sample:
            if sample_modalities is None:
                raise ValueError(
                    f'{name}: modalities={self.modalities} needs the '
                    'per-sample modality names: add "sample_modalities" to '
                    'the inputs of this loss term.')
            unknown = sorted(set(items.names) - set(self.modalities))
            if unknown:
                raise ValueError(
                    f'{name}: the batch holds modalities {unknown} that are '
                    f'not in modalities={self.modalities}.')
        self._note_missing(items.names)
        total = feats.new_zeros(())
        for group in items.names:
            index = items.index(group)
            i2t, t2i = image_text_contrast(feats[index], texts[index],
                                           items.labels[index],
                                           self.temperature, self.positives,
                                           self.similarity)
            if 'i2t' in self.directions:
                total = total + i2t
            if 't2i' in self.directions:
                total = total + t2i
        return total
