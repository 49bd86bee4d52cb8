# Copyright (c) mmreid_text contributors. All rights reserved.
from .epoch_seed_hook import EpochSeedHook, epoch_seed
from .expert_stats_hook import ExpertStatsHook

__all__ = ['EpochSeedHook', 'epoch_seed', 'ExpertStatsHook']
