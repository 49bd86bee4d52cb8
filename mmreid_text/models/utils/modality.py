# Copyright (c) mmreid_text contributors. All rights reserved.
"""Per-modality helpers: presence masks and feature-shape checks."""
from typing import Optional, Sequence

import torch


def modality_presence_mask(data_samples: Optional[Sequence],
                           modalities: Sequence[str], batch_size: int,
                           device: torch.device) -> torch.Tensor:
    """``[B, M]`` bool mask, False where a modality is missing.

    Reads ``metainfo['missing_modalities']`` of every data sample, which
    ``ReIDDataPreprocessor`` sets only in the masked missing-modality
    protocol (``missing_mode='masked'``); without data samples or the key
    (no missing modality, or the default ``'input'`` protocol that blanks
    the images only) every modality is present.
    When a sample names its ``modalities``, they must equal ``modalities``
    (same names, same order).

    Args:
        data_samples: ``ReIDDataSample`` list or None.
        modalities: The component's modality names, in slot order.
        batch_size: ``B``.
        device: Device of the returned mask.
    """
    modalities = tuple(modalities)
    mask = torch.ones(batch_size, len(modalities), dtype=torch.bool)
    if not data_samples:
        return mask.to(device)
    if len(data_samples) != batch_size:
        raise ValueError(f'{len(data_samples)} data samples for a batch of '
                         f'{batch_size}.')
    for index, sample in enumerate(data_samples):
        metainfo = sample.metainfo
        sample_modalities = metainfo.get('modalities')
        if (sample_modalities is not None
                and tuple(sample_modalities) != modalities):
            raise ValueError(
                f'The data sample has modalities {tuple(sample_modalities)} '
                f'but the model was configured for {modalities}; the '
                'dataset and the model must name the same spectra in the '
                'same order (set modalities=... of the DEEP components).')
        for name in metainfo.get('missing_modalities', ()) or ():
            if name not in modalities:
                raise ValueError(f'Missing modality {name!r} is not one of '
                                 f'the model modalities {modalities}.')
            mask[index, modalities.index(name)] = False
    return mask.to(device)


def check_modality_feature(feats: dict,
                           key: str,
                           num_modalities: int,
                           dims: int,
                           owner: str,
                           ndim: int = 3) -> None:
    """Raise a clear error unless ``feats[key]`` is ``[B, M, (N,) C]``."""
    if key not in feats:
        raise KeyError(f'{owner} reads feats["{key}"] but the feature dict '
                       f'has only {sorted(feats)}; add the component that '
                       'produces it before this one or change the key.')
    value = feats[key]
    if (not torch.is_tensor(value) or value.dim() != ndim
            or value.shape[1] != num_modalities or value.shape[-1] != dims):
        shape = ('[B, M, C]' if ndim == 3 else '[B, M, N, C]')
        got = tuple(value.shape) if torch.is_tensor(value) else type(value)
        raise ValueError(
            f'{owner} expects feats["{key}"] of shape {shape} with '
            f'M={num_modalities}, C={dims}; got {got}. Check the '
            'number of spectra of the dataset and embed_dims.')


def check_modality_features(feats: dict, global_keys: Sequence[str],
                            tokens_key: str, num_modalities: int, dims: int,
                            owner: str) -> None:
    """:func:`check_modality_feature` for several ``[B, M, C]`` keys and one
    ``[B, M, N, C]`` token key, the inputs of the token-attending necks."""
    for key in global_keys:
        check_modality_feature(feats, key, num_modalities, dims, owner)
    check_modality_feature(
        feats, tokens_key, num_modalities, dims, owner, ndim=4)
