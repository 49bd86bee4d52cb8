# Copyright (c) mmreid_text contributors. All rights reserved.
"""``EpochSeedHook``: the RNG state of epoch ``e`` depends only on
``(seed, e)``, which is what makes ``--resume`` exact."""
import os.path as osp
import random
from types import SimpleNamespace

import numpy as np
import torch
from mmengine.config import Config

from mmreid_text.engine.hooks.epoch_seed_hook import EpochSeedHook, epoch_seed
from mmreid_text.registry import HOOKS


def _draws():
    """One value from each of the three RNGs the hook reseeds."""
    return (random.random(), float(np.random.rand()), float(torch.rand(1)))


def _epoch_stream(seed, epoch):
    EpochSeedHook().before_train_epoch(SimpleNamespace(seed=seed, epoch=epoch))
    return _draws()


def test_epoch_seed_depends_on_both_seed_and_epoch():
    """Catches ``seed + epoch`` (collides: (0, 1) == (1, 0)), an ignored
    epoch or an ignored seed."""
    assert epoch_seed(0, 3) == epoch_seed(0, 3)
    values = {epoch_seed(s, e) for s in range(4) for e in range(4)}
    assert len(values) == 16
    assert epoch_seed(0, 1) != epoch_seed(1, 0)
    for s, e in ((0, 0), (123, 59), (2**31 - 1, 7)):
        value = epoch_seed(s, e)
        assert isinstance(value, int) and 0 <= value < 2**32


def test_same_epoch_same_stream_whatever_ran_before():
    """Python, numpy and torch are all reseeded: the stream of an epoch does
    not depend on how much randomness earlier code consumed. Catches a
    forgotten RNG (e.g. only torch reseeded)."""
    first = _epoch_stream(seed=7, epoch=2)
    random.random(), np.random.rand(5), torch.rand(5)  # consume
    random.seed(99), np.random.seed(99), torch.manual_seed(99)
    assert _epoch_stream(seed=7, epoch=2) == first


def test_different_epochs_and_seeds_give_different_streams():
    """Catches reseeding with the run seed only (every epoch would repeat
    the same augmentations), for each of the three RNGs."""
    a = _epoch_stream(seed=7, epoch=2)
    b = _epoch_stream(seed=7, epoch=3)
    c = _epoch_stream(seed=8, epoch=2)
    for index in range(3):
        assert a[index] != b[index] and a[index] != c[index]


def test_resumed_run_replays_the_straight_run():
    """A run resumed at epoch 2 (runner.epoch restored from the checkpoint)
    draws what the uninterrupted run drew in epochs 2 and 3."""
    hook = EpochSeedHook()
    straight = {}
    runner = SimpleNamespace(seed=0, epoch=0)
    for epoch in range(4):
        runner.epoch = epoch
        hook.before_train_epoch(runner)
        straight[epoch] = [_draws() for _ in range(3)]
    # a new process with a different RNG history, resumed at epoch 2
    torch.manual_seed(12345), np.random.seed(1), random.seed(2)
    _draws()
    resumed = SimpleNamespace(seed=0, epoch=2)
    for epoch in (2, 3):
        resumed.epoch = epoch
        EpochSeedHook().before_train_epoch(resumed)
        assert [_draws() for _ in range(3)] == straight[epoch]


def test_without_a_seed_nothing_is_reseeded():
    """``runner.seed is None`` leaves every RNG alone (no fixed stream)."""
    torch.manual_seed(3), np.random.seed(3), random.seed(3)
    expected = _draws()
    torch.manual_seed(3), np.random.seed(3), random.seed(3)
    EpochSeedHook().before_train_epoch(SimpleNamespace(seed=None, epoch=5))
    assert _draws() == expected


def test_runs_before_the_other_hooks_and_is_registered():
    """VERY_HIGH priority: the reseed happens before any other
    ``before_train_epoch`` hook (e.g. one that draws random numbers)."""
    hook = HOOKS.build(dict(type='EpochSeedHook'))
    assert isinstance(hook, EpochSeedHook)
    assert hook.priority == 'VERY_HIGH'


def test_default_runtime_installs_the_hook():
    """The shipped default runtime has the hook (catches it being dropped
    from ``default_runtime.py``: resumed runs would no longer be exact)."""
    repo = osp.dirname(
        osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    cfg = Config.fromfile(
        osp.join(repo, 'configs', '_base_', 'default_runtime.py'),
        import_custom_modules=False)
    assert {'type': 'EpochSeedHook'} in [dict(h) for h in cfg.custom_hooks]
