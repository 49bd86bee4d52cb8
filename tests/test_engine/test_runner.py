# Copyright (c) mmreid_text contributors. All rights reserved.
"""``ReIDRunner.build_dataloader``: the data-loading defaults ReID needs."""
import random
from collections import Counter

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from mmreid_text.engine.runner import ReIDRunner, reid_worker_init_fn
from mmreid_text.utils import register_all_modules

register_all_modules()


class _PidDataset(Dataset):
    """``counts[p]`` samples of identity ``p``; an item is its pid and one
    numpy random draw (to see the worker seeding)."""

    def __init__(self, counts=(4, 4, 4, 4)):
        self.pids = [p for p, n in enumerate(counts) for _ in range(n)]

    def __len__(self):
        return len(self.pids)

    def get_data_info(self, idx):
        return dict(pid=self.pids[idx])

    def __getitem__(self, idx):
        return dict(pid=self.pids[idx], noise=float(np.random.rand()))


def _cfg(**kwargs):
    cfg = dict(
        batch_size=8,
        num_workers=0,
        dataset=_PidDataset(),
        sampler=dict(type='IdentityBalancedSampler', num_instances=4, seed=0),
        collate_fn=dict(type='default_collate'))
    cfg.update(kwargs)
    return cfg


def test_identity_sampler_gets_the_dataloader_batch_size():
    """Catches the fill-in missing (the sampler raises without batch_size)
    or filled from another field: every batch is P x K = 2 ids x 4."""
    cfg = _cfg()
    loader = ReIDRunner.build_dataloader(cfg)
    assert loader.sampler.batch_size == 8
    assert loader.sampler.num_ids_per_batch == 2
    batches = [batch['pid'].tolist() for batch in loader]
    assert len(batches) == 2
    for pids in batches:
        assert sorted(Counter(pids).values()) == [4, 4]
    # the caller's config is not modified (it is deep-copied)
    assert 'batch_size' not in cfg['sampler']


def test_identity_sampler_batch_size_equal_is_accepted():
    sampler = dict(type='IdentityBalancedSampler', batch_size=8, seed=0)
    loader = ReIDRunner.build_dataloader(_cfg(sampler=sampler))
    assert loader.sampler.batch_size == 8


def test_identity_sampler_batch_size_that_differs_is_an_error():
    """Catches the sampler's value silently winning (batches of 16 ids
    while the loader cuts 8) or silently overwritten."""
    sampler = dict(type='IdentityBalancedSampler', batch_size=16, seed=0)
    with pytest.raises(
            ValueError,
            match=r'IdentityBalancedSampler.batch_size \(16\) '
            r'differs from the dataloader batch_size \(8\)'):
        ReIDRunner.build_dataloader(_cfg(sampler=sampler))


def test_samplers_without_batch_size_are_left_alone():
    """Catches batch_size given to every sampler (DefaultSampler would
    fail with an unexpected keyword argument)."""
    loader = ReIDRunner.build_dataloader(
        _cfg(sampler=dict(type='DefaultSampler', shuffle=False)))
    assert type(loader.sampler).__name__ == 'DefaultSampler'
    assert [b['pid'].tolist() for b in loader][0] == [0] * 4 + [1] * 4


def test_persistent_workers_switched_off_without_workers():
    """torch rejects ``persistent_workers=True`` with ``num_workers=0``."""
    loader = ReIDRunner.build_dataloader(
        _cfg(num_workers=0, persistent_workers=True))
    assert loader.persistent_workers is False


def test_workers_are_seeded_by_reid_worker_init_fn():
    """With workers and a seed, mmengine's default init fn gives every
    worker ``seed + worker_id`` in every epoch (the same augmentations each
    epoch); ours replaces it unless the config names another one."""
    loader = ReIDRunner.build_dataloader(_cfg(num_workers=1), seed=0)
    assert loader.worker_init_fn.func is reid_worker_init_fn
    assert loader.persistent_workers is False

    def custom(worker_id):
        pass

    own = ReIDRunner.build_dataloader(
        _cfg(num_workers=1, worker_init_fn=dict(type=custom)), seed=0)
    assert own.worker_init_fn.func is custom


def test_reid_worker_init_fn_follows_torch_seed():
    """numpy and python in a worker are seeded from torch's per-worker seed
    (``base_seed + worker_id``, drawn anew each epoch). Catches a constant
    or worker-id-only seed."""
    draws = {}
    for torch_seed in (5, 5, 6, 2**32 + 5):
        torch.manual_seed(torch_seed)
        reid_worker_init_fn(0)
        draws.setdefault(torch_seed, []).append(
            (float(np.random.rand()), random.random()))
    np.random.seed(5)
    random.seed(5)
    assert draws[5][0] == (float(np.random.rand()), random.random())
    assert draws[5][0] == draws[5][1]
    assert draws[6][0] != draws[5][0]
    assert draws[2**32 + 5][0] == draws[5][0]  # torch seeds are 64-bit


def test_worker_augmentations_change_every_epoch_and_replay():
    """Through a real worker process: each epoch draws different numpy
    randomness, and the same torch state (EpochSeedHook) replays it."""
    loader = ReIDRunner.build_dataloader(
        _cfg(
            num_workers=1, sampler=dict(type='DefaultSampler', shuffle=False)),
        seed=0)

    def epoch():
        return [x for b in loader for x in b['noise'].tolist()]

    torch.manual_seed(1)
    first, second = epoch(), epoch()
    assert first != second
    torch.manual_seed(1)
    assert epoch() == first


def test_a_built_dataloader_is_returned_as_is():
    loader = DataLoader(_PidDataset(), batch_size=2)
    assert ReIDRunner.build_dataloader(loader) is loader
