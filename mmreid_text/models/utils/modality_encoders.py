# Copyright (c) mmreid_text contributors. All rights reserved.
"""One encoder shared by all modality slots, or one per modality."""
import copy
from typing import Callable, Dict, Optional, Sequence, Tuple

import torch
from torch import nn

#: ``encode(encoder, images [N, 3, H, W])`` -> dict of ``[N, ...]``.
EncodeFn = Callable[[nn.Module, torch.Tensor], Dict[str, torch.Tensor]]


class ModalityEncoders:
    """Mixin of the backbones whose input holds ``M`` modality slots
    (``[B, M, 3, H, W]`` / ``[B, M, T, 3, H, W]``).

    With ``share_weights`` one encoder (``self.encoder``) sees every slot;
    otherwise ``self.encoders`` (a ``ModuleDict`` keyed by modality) holds
    one encoder per modality, the first the given module and the others
    deep copies of it (all start from the same weights), and each slot goes
    through the encoder of its modality. The subclass calls
    :meth:`_set_modalities`, sets ``self.share_weights`` and calls
    :meth:`_set_encoders` in ``__init__``.
    """

    #: What the encoders are called in error messages.
    encoder_noun = 'encoders'

    def _set_modalities(self, modalities: Sequence[str]) -> None:
        """Set ``self.modalities`` (slot order), non-empty and unique."""
        self.modalities = tuple(modalities)
        if not self.modalities or len(set(self.modalities)) != len(
                self.modalities):
            raise ValueError(f'{type(self).__name__}: modalities must be '
                             f'non-empty and unique, got {self.modalities}.')

    def _set_encoders(self, encoder: nn.Module) -> None:
        """``self.encoder`` or ``self.encoders`` (``self.share_weights``)."""
        if self.share_weights:
            self.encoder = encoder
        else:
            self.encoders = nn.ModuleDict({
                modality:
                encoder if index == 0 else copy.deepcopy(encoder)
                for index, modality in enumerate(self.modalities)
            })

    def get_encoder(self, modality: Optional[str] = None) -> nn.Module:
        """The encoder used for ``modality`` (any when shared)."""
        if self.share_weights:
            return self.encoder
        if modality not in self.encoders:
            raise KeyError(f'No encoder for modality {modality!r}; the '
                           f'backbone has {self.modalities}.')
        return self.encoders[modality]

    def _slot_modalities(
            self, num_slots: int,
            modalities: Optional[Sequence[str]]) -> Tuple[Optional[str], ...]:
        """The modality of each of the ``num_slots`` input slots.

        ``modalities`` (given) must name every slot with a known modality;
        otherwise an input with as many slots as the backbone has
        modalities takes them in order, and with a shared encoder any
        other slot count is allowed (the names are then None).
        """
        name = type(self).__name__
        if modalities is not None:
            modalities = tuple(modalities)
            if len(modalities) != num_slots:
                raise ValueError(
                    f'{name}: modalities={modalities} gives '
                    f'{len(modalities)} modality names for {num_slots} '
                    f'input slots; name each slot with one of '
                    f'{self.modalities}.')
            unknown = [m for m in modalities if m not in self.modalities]
            if unknown:
                raise ValueError(
                    f'Unknown modalities {unknown} in modalities= of {name}; '
                    f'the backbone has {self.modalities}.')
            return modalities
        if num_slots == len(self.modalities):
            return self.modalities
        if self.share_weights:
            return (None, ) * num_slots
        raise ValueError(
            f'{name}: the input has {num_slots} modality slots but the '
            f'backbone has separate {self.encoder_noun} for '
            f'{self.modalities}; pass modalities=(...) naming each slot.')

    def _encode_modality_slots(self, inputs: torch.Tensor,
                               slot_modalities: Sequence[Optional[str]],
                               encode: EncodeFn) -> Dict[str, torch.Tensor]:
        """Encode ``inputs`` ``[B, M, (T,) 3, H, W]`` -> dict of
        ``[B, M, (T,) ...]``: all images in one ``encode`` call with a
        shared encoder, else slot by slot with the encoder of the slot's
        modality (outputs stacked on the slot axis)."""

        def run(encoder: nn.Module, images: torch.Tensor) -> dict:
            lead = images.shape[:-3]
            flat = encode(encoder, images.flatten(0, len(lead) - 1))
            return {k: v.unflatten(0, lead) for k, v in flat.items()}

        if self.share_weights:
            return run(self.encoder, inputs)
        per_slot = [
            run(self.encoders[modality], inputs[:, index])
            for index, modality in enumerate(slot_modalities)
        ]
        return {
            k: torch.stack([out[k] for out in per_slot], dim=1)
            for k in per_slot[0]
        }
