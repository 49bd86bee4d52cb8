# Copyright (c) mmreid_text contributors. All rights reserved.
from collections import defaultdict
from typing import Dict, Iterator, List, Optional

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mmreid_text.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class IdentityBalancedSampler(Sampler):
    """P x K identity-balanced sampler, correct under DDP.

    Every mini-batch holds ``P = batch_size // num_instances`` distinct
    identities with ``K = num_instances`` samples each, as the batch-hard
    triplet loss needs. Each epoch, every identity's samples are shuffled
    and cut into groups of K (an identity with fewer than K samples is
    drawn with replacement; a remainder smaller than K is dropped, as in
    torchreid). Batches then take P distinct identities, chosen with
    probability proportional to their remaining groups; an identity whose
    groups run out early is refilled with a fresh shuffle, so the number of
    batches per epoch is fixed: ``total groups // P``.

    Under DDP all ranks build the same global list of batches from a shared
    seed and rank ``r`` takes batches ``r, r + W, ...``: each rank sees
    whole identities, and together they see what one process would.
    ``set_epoch`` (called by mmengine's ``DistSamplerSeedHook``) reseeds
    each epoch, so the order depends only on ``(seed, epoch)``.

    Args:
        dataset: A dataset whose ``get_data_info(i)['pid']`` is the label.
        batch_size (int): Samples per batch on one rank; must equal the
            dataloader's ``batch_size`` (``ReIDRunner`` fills it in from
            ``train_dataloader.batch_size`` when left out).
        num_instances (int): K, samples per identity in a batch.
        seed (int, optional): Shared random seed; synchronised across ranks
            when None.
    """

    def __init__(self,
                 dataset,
                 batch_size: Optional[int] = None,
                 num_instances: int = 4,
                 seed: Optional[int] = None) -> None:
        if batch_size is None:
            raise ValueError(
                'IdentityBalancedSampler needs batch_size (the dataloader '
                'batch size); ReIDRunner fills it in from '
                'train_dataloader.batch_size.')
        if num_instances < 1 or batch_size % num_instances != 0:
            raise ValueError(
                f'batch_size ({batch_size}) must be a positive multiple of '
                f'num_instances ({num_instances}).')
        self.dataset = dataset
        self.batch_size = batch_size
        self.num_instances = num_instances
        self.num_ids_per_batch = batch_size // num_instances
        self.seed = sync_random_seed() if seed is None else seed
        self.rank, self.world_size = get_dist_info()
        self.epoch = 0

        index_by_pid: Dict[int, List[int]] = defaultdict(list)
        for idx in range(len(dataset)):
            index_by_pid[int(dataset.get_data_info(idx)['pid'])].append(idx)
        self.pids = sorted(index_by_pid)
        self.index_by_pid = {p: np.asarray(index_by_pid[p]) for p in self.pids}
        if len(self.pids) < self.num_ids_per_batch:
            raise ValueError(
                f'A batch needs {self.num_ids_per_batch} distinct '
                f'identities (batch_size {batch_size} / num_instances '
                f'{num_instances}) but the dataset has only '
                f'{len(self.pids)}; lower batch_size.')
        self.groups_per_pid = np.array([
            max(1,
                len(self.index_by_pid[p]) // num_instances) for p in self.pids
        ])
        self._set_epoch_length(self.groups_per_pid)

    def _set_epoch_length(self, groups_per_pid: np.ndarray) -> None:
        """``batches_per_rank`` from the groups each identity gives."""
        total_batches = int(groups_per_pid.sum()) // self.num_ids_per_batch
        self.batches_per_rank = total_batches // self.world_size
        if self.batches_per_rank == 0:
            raise ValueError(
                f'{type(self).__name__}: the dataset yields {total_batches} '
                f'batches of {self.num_ids_per_batch} identities, fewer '
                f'than the {self.world_size} ranks; lower batch_size.')

    def _groups(self, pid_idx: int, rng: np.random.Generator) -> List:
        """Shuffle one identity's samples and cut them into K-groups (the
        pool of batch entries one identity gives, popped from the end)."""
        idxs = self.index_by_pid[self.pids[pid_idx]]
        k = self.num_instances
        if len(idxs) < k:
            idxs = rng.choice(idxs, size=k, replace=True)
        else:
            idxs = rng.permutation(idxs)
        n = len(idxs) // k
        return [idxs[i * k:(i + 1) * k] for i in range(n)]

    def _choose(self, remaining: np.ndarray, avail: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
        """P identities among ``avail``, weighted by their groups left."""
        weights = remaining[avail] / remaining[avail].sum()
        return rng.choice(
            avail, size=self.num_ids_per_batch, replace=False, p=weights)

    def _refill(self, empty: np.ndarray, count: int,
                rng: np.random.Generator) -> np.ndarray:
        """``count`` exhausted identities to give fresh groups."""
        return rng.choice(empty, size=count, replace=False)

    def _global_batches(self) -> List[np.ndarray]:
        """All batches of the epoch, before the split over ranks."""
        rng = np.random.default_rng([self.seed, self.epoch])
        pools = [self._groups(i, rng) for i in range(len(self.pids))]
        remaining = np.array([len(p) for p in pools], dtype=np.float64)
        p = self.num_ids_per_batch
        batches = []
        for _ in range(self.batches_per_rank * self.world_size):
            avail = np.flatnonzero(remaining > 0)
            if len(avail) >= p:
                chosen = self._choose(remaining, avail, rng)
            else:
                empty = np.flatnonzero(remaining == 0)
                extra = self._refill(empty, p - len(avail), rng)
                for i in extra:
                    pools[i] = self._groups(i, rng)
                    remaining[i] = len(pools[i])
                chosen = np.concatenate([avail, extra])
            batch = []
            for i in chosen:
                batch.append(pools[i].pop())
                remaining[i] -= 1
            batches.append(np.concatenate(batch))
        return batches

    def __iter__(self) -> Iterator[int]:
        batches = self._global_batches()
        mine = batches[self.rank::self.world_size][:self.batches_per_rank]
        for batch in mine:
            yield from (int(i) for i in batch)

    def __len__(self) -> int:
        return self.batches_per_rank * self.batch_size

    def set_epoch(self, epoch: int) -> None:
        """Reseed for ``epoch`` (called by ``DistSamplerSeedHook``)."""
        self.epoch = epoch
