# Copyright (c) mmreid_text contributors. All rights reserved.
"""Modality groups of a batch of image-text pairs (EEES losses).

The EEES losses (ESE, CVSC, CMSP) work per modality: the visible samples
of a batch among themselves and the infrared ones among themselves. Two
batch layouts are understood:

- **one modality per sample** (visible-infrared data, EEES): features
  ``[B, E]`` (or ``[B, 1, E]``, one modality slot) and
  ``sample_modalities`` = the ``B`` modality names (``'vis'`` / ``'ir'``,
  added by ``ReIDModel.loss``). Item ``i`` is sample ``i``; its group is
  ``sample_modalities[i]``. Without ``sample_modalities`` the whole batch
  is one group ``'all'``.
- **every modality in every sample** (multi-spectral data, e.g. RGBNT201):
  features ``[B, M, E]`` with ``M > 1``. Item ``b * M + m`` is slot ``m``
  of sample ``b``; its group is slot ``m`` (named by ``slot_names`` or
  ``'slot<m>'``); ``sample_modalities`` is not used.

Cross-modality pairs (CMSP) are found by identity and rank: the ``k``-th
item of identity ``y`` in group ``a`` (in batch order) pairs with the
``k``-th item of identity ``y`` in group ``b``. For the identity-major
batch of ``CrossModalityIdentitySampler`` ([id: K vis, K ir]) this pairs
the k-th visible with the k-th infrared image of the identity whatever the
order of the blocks; for multi-spectral items it pairs the slots of one
sample.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch

#: Group name of a batch without modality information.
SINGLE_GROUP = 'all'


@dataclass
class GroupedItems:
    """Flattened items of a batch and their modality groups.

    Attributes:
        features (list[Tensor]): The inputs flattened to ``[N, E]`` each,
            in item order.
        labels (Tensor): ``[N]`` identity label of every item.
        groups (tuple[str]): ``N`` group names.
        names (tuple[str]): The distinct group names, in order of first
            appearance.
    """
    features: List[torch.Tensor]
    labels: torch.Tensor
    groups: Tuple[str, ...]
    names: Tuple[str, ...]

    def index(self, name: str) -> torch.Tensor:
        """``[n]`` item indices of group ``name`` (batch order)."""
        rows = [i for i, group in enumerate(self.groups) if group == name]
        return torch.as_tensor(
            rows, dtype=torch.long, device=self.labels.device)


def _as_items(tensor: torch.Tensor, owner: str,
              what: str) -> Tuple[torch.Tensor, int]:
    """``[B, E]`` / ``[B, M, E]`` -> (``[B*M, E]``, ``M``)."""
    if tensor.dim() == 2:
        return tensor, 1
    if tensor.dim() == 3:
        return tensor.flatten(0, 1), tensor.shape[1]
    raise ValueError(f'{owner}: {what} must be [B, E] or [B, M, E], got '
                     f'{tuple(tensor.shape)}.')


def check_sample_modalities(sample_modalities: Optional[Sequence[str]],
                            batch: int, owner: str) -> Optional[List[str]]:
    """Validate the per-sample modality names (``None`` passes)."""
    if sample_modalities is None:
        return None
    if isinstance(sample_modalities, str):
        raise TypeError(
            f'{owner}: sample_modalities must be the sequence of the {batch} '
            f'per-sample modality names, got the single string '
            f'{sample_modalities!r}. If the loss runs inside ReIDModel, its '
            'LossTerm split the tuple into one call per sample; the '
            'sample_modalities output must reach the loss whole.')
    names = list(sample_modalities)
    if len(names) != batch or not all(isinstance(n, str) for n in names):
        raise ValueError(
            f'{owner}: sample_modalities must hold one modality name (str) '
            f'per sample ({batch}), got {names!r}.')
    return names


def group_items(
    tensors: Sequence[torch.Tensor],
    labels: torch.Tensor,
    sample_modalities: Optional[Sequence[str]],
    owner: str,
    slot_names: Optional[Sequence[str]] = None,
    what: Sequence[str] = ()
) -> GroupedItems:
    """Flatten paired inputs into items with modality groups.

    Args:
        tensors: Inputs of one layout (see the module doc): all ``[B, E]``
            / ``[B, 1, E]`` or all ``[B, M, E]``, with equal ``B`` and
            ``M`` (``E`` may differ only if the caller allows it; it is
            checked by the losses).
        labels: ``[B]`` identity labels.
        sample_modalities: ``B`` modality names (one-modality samples).
        owner: Loss name for the error messages.
        slot_names: Names of the ``M`` slots (multi-spectral layout).
        what: Names of the inputs for the error messages.

    Returns:
        :class:`GroupedItems`.
    """
    what = list(what) or [f'input {i}' for i in range(len(tensors))]
    squeezed = [
        t[:, 0] if t.dim() == 3 and t.shape[1] == 1 else t for t in tensors
    ]
    flat = [_as_items(t, owner, w) for t, w in zip(squeezed, what)]
    shapes = {(t.shape[0], m) for t, (_, m) in zip(squeezed, flat)}
    if len(shapes) != 1:
        raise ValueError(
            f'{owner}: inputs {what} must share the batch and modality-slot '
            'axes, got shapes '
            f'{[tuple(t.shape) for t in tensors]}.')
    batch, num_slots = shapes.pop()
    if labels.dim() != 1 or labels.shape[0] != batch:
        raise ValueError(f'{owner}: labels {tuple(labels.shape)} do not '
                         f'match the batch of {batch}.')
    features = [f for f, _ in flat]
    if num_slots == 1:
        names = check_sample_modalities(sample_modalities, batch, owner)
        groups = tuple(names) if names is not None else (SINGLE_GROUP, ) * \
            batch
        item_labels = labels
    else:
        if slot_names is not None and len(slot_names) != num_slots:
            raise ValueError(
                f'{owner}: modalities={tuple(slot_names)} name '
                f'{len(slot_names)} slots but the inputs hold {num_slots} '
                'modality slots [B, M, E].')
        slots = (
            tuple(slot_names) if slot_names is not None else tuple(
                f'slot{m}' for m in range(num_slots)))
        groups = slots * batch
        item_labels = labels.repeat_interleave(num_slots)
    ordered: Dict[str, None] = dict.fromkeys(groups)
    return GroupedItems(features, item_labels, groups, tuple(ordered))


def identity_ranks(labels: torch.Tensor,
                   groups: Sequence[str]) -> List[Tuple[int, str, int]]:
    """``(label, group, k)`` of every item: ``k`` = how many earlier items
    share its label and group (batch order)."""
    seen: Dict[Tuple[int, str], int] = {}
    keys = []
    for label, group in zip(labels.tolist(), groups):
        rank = seen.get((label, group), 0)
        seen[(label, group)] = rank + 1
        keys.append((label, group, rank))
    return keys


def pair_across_groups(items: GroupedItems, source: str,
                       target: str) -> Tuple[torch.Tensor, torch.Tensor, int]:
    """Pair the items of group ``source`` with those of group ``target``.

    The ``k``-th item of identity ``y`` in ``source`` pairs with the
    ``k``-th item of ``y`` in ``target`` (see the module doc).

    Returns:
        ``(source indices [P], target indices [P], unpaired)``, with
        ``unpaired`` the number of ``source`` items without a partner.
    """
    keys = identity_ranks(items.labels, items.groups)
    targets = {
        (label, rank): index
        for index, (label, group, rank) in enumerate(keys) if group == target
    }
    src, dst, unpaired = [], [], 0
    for index, (label, group, rank) in enumerate(keys):
        if group != source:
            continue
        partner = targets.get((label, rank))
        if partner is None:
            unpaired += 1
        else:
            src.append(index)
            dst.append(partner)
    device = items.labels.device
    return (torch.as_tensor(src, dtype=torch.long, device=device),
            torch.as_tensor(dst, dtype=torch.long, device=device), unpaired)
