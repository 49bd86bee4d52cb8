# Copyright (c) mmreid_text contributors. All rights reserved.
from .cpu_friendly_ddp import ReIDDistributedDataParallel

__all__ = ['ReIDDistributedDataParallel']
