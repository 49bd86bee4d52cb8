# Copyright (c) mmreid_text contributors. All rights reserved.
import random

import numpy as np
import torch
from mmengine.hooks import Hook

from mmreid_text.registry import HOOKS


def epoch_seed(seed: int, epoch: int) -> int:
    """A 32-bit seed derived from ``(seed, epoch)``."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Reseed python, numpy and torch RNGs at the start of every epoch.

    The random state of epoch ``e`` then depends only on the run's seed and
    ``e``: data augmentation, dropout and the data-loader worker seeds are
    the same whether training ran straight through or was resumed from a
    checkpoint, which makes ``--resume`` exact. (With
    ``persistent_workers=True`` the worker processes keep their own state
    across epochs and resuming is no longer bit-exact.)
    """

    priority = 'VERY_HIGH'

    def before_train_epoch(self, runner) -> None:
        if runner.seed is None:
            return
        seed = epoch_seed(runner.seed, runner.epoch)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
