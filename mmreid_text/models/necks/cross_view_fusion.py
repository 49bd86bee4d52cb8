# Copyright (c) mmreid_text contributors. All rights reserved.
"""EEES CVSC multi-view representations (Eq. 6-7)."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule

from mmreid_text.registry import MODELS
from mmreid_text.structures import stack_pids
from ..utils.feature_contract import FeatureContract


@MODELS.register_module()
class CrossViewFusion(FeatureContract, BaseModule):
    """Average every sample with ``M`` other views of its identity.

    EEES Eq. 6 / 7: for sample ``i``, ``M`` other samples ``j`` of the
    batch with the same identity (and, for one-modality samples, the same
    ``metainfo['modality']``: visible with visible, infrared with
    infrared) are drawn at random and::

        f_{m,i} = (f_i + sum_j f_j) / (M + 1)
        t_{m,i} = (t_i + sum_j t_j) / (M + 1)

    The same draw is used for every key (image and text side), so
    ``(f_{m,i}, t_{m,i})`` is again a matching image-text pair, and it is
    shared by the losses that read the outputs (``L_con^m`` of
    :class:`ImageTextContrastiveLoss` and ``L_kd`` of
    :class:`MultiViewDistillationLoss`): the reason this is a neck, not a
    part of a loss.

    Documented choices: when the identity has fewer than ``M`` other
    samples of the modality in the batch, all of them are used and the
    average runs over what exists (``1 / (k + 1)``); ``M = 0`` (or a
    sample with no other view) gives the single-view feature itself
    (Table 4, ``M = 0``). Samples with every modality (multi-spectral,
    ``[B, M, E]`` keys, no ``metainfo['modality']``) are grouped by
    identity only and all their slots use the same partners.

    Training only: in eval mode nothing is computed (inference uses the
    single-view visual feature, the paper's "multi-view representations
    are unavailable during inference").

    Args:
        num_views (int): ``M``, other views per sample (1 in the paper).
        in_keys (Sequence[str]): Keys to fuse, ``[B, ...]`` each (e.g.
            ``'proj_cls'`` ``[B, 1, E]`` and ``'caption_text'`` ``[B, E]``);
            read in training only.
        out_keys (Sequence[str], optional): Output keys, default
            ``<in_key>_mv``.
        same_modality (bool): Draw partners of the sample's own modality
            (default; Eq. 6 / 7 build ``f_m^v`` from visible and ``f_m^r``
            from infrared features).
        seed (int, optional): Seed of an own ``torch.Generator`` for the
            draws (reproducible independent of other random numbers);
            None (default) draws from torch's global RNG, i.e.
            reproducible under ``torch.manual_seed``.

    Attributes:
        last_partners (list[list[int]]): The partners drawn for every
            sample of the last training batch.
    """

    def __init__(self,
                 num_views: int = 1,
                 in_keys: Sequence[str] = ('proj_cls', 'caption_text'),
                 out_keys: Optional[Sequence[str]] = None,
                 same_modality: bool = True,
                 seed: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        if int(num_views) < 0:
            raise ValueError(f'{name}: num_views (M) must be >= 0, got '
                             f'{num_views}.')
        in_keys = tuple(in_keys)
        if not in_keys:
            raise ValueError(f'{name}: in_keys must name at least one key.')
        out_keys = (
            tuple(out_keys) if out_keys is not None else tuple(
                f'{key}_mv' for key in in_keys))
        if len(out_keys) != len(in_keys):
            raise ValueError(f'{name}: out_keys {out_keys} must match '
                             f'in_keys {in_keys} one to one.')
        self.num_views = int(num_views)
        self.in_keys = in_keys
        self.out_keys = out_keys
        self.same_modality = same_modality
        self.seed = seed
        self.generator = None
        if seed is not None:
            self.generator = torch.Generator().manual_seed(int(seed))
        self.last_partners: List[List[int]] = []

    # ------------------------------------------------------------- contract
    @property
    def reads(self) -> Tuple[str, ...]:
        return ()

    @property
    def train_reads(self) -> Tuple[str, ...]:
        return self.in_keys

    @property
    def writes(self) -> Tuple[str, ...]:
        return ()

    @property
    def train_writes(self) -> Tuple[str, ...]:
        return self.out_keys

    # ------------------------------------------------------------- formulas
    def draw_partners(self, labels: Sequence[int],
                      modalities: Sequence[Optional[str]]) -> List[List[int]]:
        """Draw up to ``M`` other samples of the same identity (and
        modality) for every sample.

        Args:
            labels: ``B`` identity labels.
            modalities: ``B`` modality names (None: grouped by identity).

        Returns:
            ``B`` lists of partner indices (sorted).
        """
        groups: Dict[Tuple, List[int]] = {}
        for index, key in enumerate(zip(labels, modalities)):
            groups.setdefault(key, []).append(index)
        partners = []
        for index, key in enumerate(zip(labels, modalities)):
            others = [j for j in groups[key] if j != index]
            if self.num_views == 0 or not others:
                partners.append([])
                continue
            if len(others) <= self.num_views:
                partners.append(others)
                continue
            order = torch.randperm(len(others), generator=self.generator)
            chosen = order[:self.num_views].tolist()
            partners.append(sorted(others[c] for c in chosen))
        return partners

    @staticmethod
    def averaging_matrix(partners: Sequence[Sequence[int]],
                         device: Optional[torch.device] = None,
                         dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """``A`` ``[B, B]`` with ``(A @ x)_i`` = mean of ``x_i`` and its
        partners' ``x_j``."""
        batch = len(partners)
        matrix = torch.zeros(batch, batch, dtype=dtype, device=device)
        for index, others in enumerate(partners):
            members = [index, *others]
            matrix[index, members] = 1.0 / len(members)
        return matrix

    # -------------------------------------------------------------- forward
    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        """Training: add ``out_keys`` (same shapes as ``in_keys``); eval:
        no-op."""
        if not self.training:
            return feats
        name = type(self).__name__
        if not data_samples:
            raise ValueError(f'{name} needs the data samples (identity and '
                             'modality of every sample) in training.')
        labels = stack_pids(data_samples).tolist()
        if self.same_modality:
            modalities = [s.metainfo.get('modality') for s in data_samples]
        else:
            modalities = [None] * len(data_samples)
        partners = self.draw_partners(labels, modalities)
        self.last_partners = partners
        out = dict(feats)
        matrix = None
        for in_key, out_key in zip(self.in_keys, self.out_keys):
            if in_key not in feats:
                raise KeyError(
                    f'{name} fuses feats["{in_key}"] in training but the '
                    f'feature dict holds only {sorted(feats)}; put the '
                    'component that writes it (e.g. CaptionTextEncoder for '
                    '"caption_text") before this neck in model.necks, or '
                    'fix in_keys.')
            value = feats[in_key]
            if value.shape[0] != len(partners):
                raise ValueError(
                    f'{name}: feats["{in_key}"] has {value.shape[0]} rows '
                    f'but the batch has {len(partners)} samples.')
            if matrix is None or matrix.dtype != value.dtype:
                matrix = self.averaging_matrix(partners, value.device,
                                               value.dtype)
            out[out_key] = torch.einsum('ij,j...->i...', matrix, value)
        return out
