# Copyright (c) mmreid_text contributors. All rights reserved.
import logging
import warnings
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.logging import print_log

from mmreid_text.registry import DATA_SAMPLERS
from .identity_sampler import IdentityBalancedSampler


def sample_modality(info: dict, idx: int) -> str:
    """The one modality of a visible-infrared sample's info dict."""
    if info.get('modality') is not None:
        return info['modality']
    mods = tuple(info.get('modalities') or ())
    if len(mods) == 1:
        return mods[0]
    raise ValueError(
        f'CrossModalityIdentitySampler: sample {idx} has modalities {mods}; '
        'it needs exactly one modality per sample (info key "modality"). '
        'Use IdentityBalancedSampler for multi-modal samples.')


@DATA_SAMPLERS.register_module()
class CrossModalityIdentitySampler(IdentityBalancedSampler):
    """P identities x K samples of EACH modality per batch, DDP-aware.

    For visible-infrared datasets whose samples have one modality each
    (info key ``modality``, e.g. ``'vis'`` / ``'ir'``). A batch of
    ``batch_size = P * M * K`` indices (``M = len(modalities)``) holds ``P``
    distinct identities; for each identity, in this order: ``K`` samples of
    ``modalities[0]``, then ``K`` of ``modalities[1]``, ... (identity-major:
    ``[id1: K vis, K ir, id2: K vis, K ir, ...]``). VLD's HITSZ-VCM batch
    is ``P = 4, K = 4``, two modalities: ``batch_size = 32`` tracklets.

    Epoch (``seed``, ``epoch`` fixed): an identity contributes
    ``u = max(1, max_m(n_m) // K)`` units (one unit = K of each modality),
    so every sample of its larger modality is seen once per epoch; each
    modality's samples are shuffled and cut into K-groups, re-shuffled and
    cycled when the smaller modality runs out (its samples repeat), a
    remainder smaller than K is left for that pass (as in
    ``IdentityBalancedSampler``). A modality with fewer than K samples is
    drawn with replacement for every unit. Batches take P distinct
    identities with probability proportional to their units left; one that
    runs out early is refilled, so there are exactly ``sum(u) // P``
    batches per epoch (before the split over ranks). The public VLD/CAJ
    ``IdentitySampler`` instead draws K samples per modality with
    replacement for random identities, for ``max(N_vis, N_ir) / (P K) + 1``
    batches (``N_m`` samples of modality m): about the same epoch length,
    with repeats inside an identity's draws.

    Identities that lack one of the modalities cannot form a batch entry:
    they are counted, reported with a warning and skipped (never silently);
    ``self.skipped_pids`` lists them. Samples of another modality than
    ``modalities`` are counted and reported the same way.

    DDP, epoch assembly and reseeding are ``IdentityBalancedSampler``'s
    (this class only builds other per-identity pools): all ranks build the
    same global list of batches from the shared seed (``total // W * W``
    of them, so every rank has the same length) and rank ``r`` takes
    batches ``r, r + W, ...``: each rank sees whole identities;
    ``set_epoch`` (mmengine's ``DistSamplerSeedHook``) reseeds, so the
    order depends only on ``(seed, epoch)``.

    Args:
        dataset: A dataset with ``get_data_info(i)`` giving ``pid`` and
            ``modality`` (or a one-entry ``modalities``).
        batch_size (int): Samples per batch on one rank, ``P * M * K``; must
            equal the dataloader's (``ReIDRunner`` fills it in from
            ``train_dataloader.batch_size`` when left out).
        num_instances (int): K, samples of each modality per identity.
        modalities (Sequence[str]): The modalities of a batch, in order.
        shuffle (bool): False: no random draws at all (pools cut in dataset
            order, short pools repeated cyclically, each batch takes the P
            identities with the most units left, ties by pid) - for
            debugging.
        seed (int, optional): Shared random seed; synchronised across ranks
            when None.
    """

    def __init__(self,
                 dataset,
                 batch_size: Optional[int] = None,
                 num_instances: int = 4,
                 modalities: Sequence[str] = ('vis', 'ir'),
                 shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        name = type(self).__name__
        self.modalities = tuple(modalities)
        num_mod = len(self.modalities)
        if num_mod == 0 or len(set(self.modalities)) != num_mod:
            raise ValueError(f'{name}: modalities must be distinct names, got '
                             f'{modalities!r}.')
        if batch_size is None:
            raise ValueError(
                f'{name} needs batch_size (the dataloader batch size); '
                'ReIDRunner fills it in from train_dataloader.batch_size.')
        unit = num_mod * num_instances
        if num_instances < 1 or batch_size % unit != 0:
            raise ValueError(
                f'{name}: batch_size ({batch_size}) must be a positive '
                f'multiple of len(modalities) x num_instances ({num_mod} x '
                f'{num_instances} = {unit}).')
        self.dataset = dataset
        self.batch_size = batch_size
        self.num_instances = num_instances
        self.num_ids_per_batch = batch_size // unit
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.rank, self.world_size = get_dist_info()
        self.epoch = 0

        by_pid: Dict[int, Dict[str, List[int]]] = {}
        other: Dict[str, int] = {}
        for idx in range(len(dataset)):
            info = dataset.get_data_info(idx)
            mod = sample_modality(info, idx)
            if mod not in self.modalities:
                other[mod] = other.get(mod, 0) + 1
                continue
            pools = by_pid.setdefault(
                int(info['pid']), {m: []
                                   for m in self.modalities})
            pools[mod].append(idx)
        if other:
            self._warn(f'{name}: {sum(other.values())} samples of '
                       f'modalities {other} (not in {self.modalities}) are '
                       'never sampled.')
        self.skipped_pids = tuple(
            p for p in sorted(by_pid)
            if any(not by_pid[p][m] for m in self.modalities))
        if self.skipped_pids:
            lacking = {
                m: sum(1 for p in self.skipped_pids if not by_pid[p][m])
                for m in self.modalities
            }
            self._warn(f'{name}: {len(self.skipped_pids)} of {len(by_pid)} '
                       f'identities lack a modality (identities without it: '
                       f'{lacking}) and are skipped: pids '
                       f'{list(self.skipped_pids[:10])}'
                       f'{" ..." if len(self.skipped_pids) > 10 else ""}.')
        self.pids = [p for p in sorted(by_pid) if p not in self.skipped_pids]
        self.index_by_pid = {
            p: {
                m: np.asarray(by_pid[p][m])
                for m in self.modalities
            }
            for p in self.pids
        }
        if len(self.pids) < self.num_ids_per_batch:
            raise ValueError(
                f'{name}: a batch needs {self.num_ids_per_batch} distinct '
                f'identities (batch_size {batch_size} / ({num_mod} x '
                f'{num_instances})) with every modality {self.modalities}, '
                f'but the dataset has only {len(self.pids)}; lower '
                'batch_size.')
        self.units_per_pid = np.array([
            max(
                1,
                max(len(v)
                    for v in self.index_by_pid[p].values()) // num_instances)
            for p in self.pids
        ])
        self._set_epoch_length(self.units_per_pid)

    @staticmethod
    def _warn(msg: str) -> None:
        warnings.warn(msg, stacklevel=3)
        print_log(msg, logger='current', level=logging.WARNING)

    def _modality_groups(self, idxs: np.ndarray, num_units: int,
                         rng: np.random.Generator) -> List[np.ndarray]:
        """``num_units`` K-groups of one identity's samples of one modality."""
        k = self.num_instances
        if len(idxs) < k:
            if not self.shuffle:
                return [np.resize(idxs, k)] * num_units
            return [
                rng.choice(idxs, size=k, replace=True)
                for _ in range(num_units)
            ]
        groups: List[np.ndarray] = []
        while len(groups) < num_units:
            perm = rng.permutation(idxs) if self.shuffle else idxs
            groups.extend(perm[i * k:(i + 1) * k]
                          for i in range(len(perm) // k))
        return groups[:num_units]

    def _groups(self, pid_idx: int, rng: np.random.Generator) -> List:
        """One identity's units: K of each modality, modalities in order."""
        num_units = int(self.units_per_pid[pid_idx])
        pools = self.index_by_pid[self.pids[pid_idx]]
        per_mod = [
            self._modality_groups(pools[m], num_units, rng)
            for m in self.modalities
        ]
        units = [np.concatenate(groups) for groups in zip(*per_mod)]
        units.reverse()  # popped from the end: first unit first
        return units

    def _choose(self, remaining: np.ndarray, avail: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
        if self.shuffle:
            return super()._choose(remaining, avail, rng)
        order = sorted(avail, key=lambda i: (-remaining[i], i))
        return np.asarray(order[:self.num_ids_per_batch])

    def _refill(self, empty: np.ndarray, count: int,
                rng: np.random.Generator) -> np.ndarray:
        if self.shuffle:
            return super()._refill(empty, count, rng)
        return empty[:count]
