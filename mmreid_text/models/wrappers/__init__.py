# Copyright (c) mmreid_text contributors. All rights reserved.
from .reid_distributed import ReIDDistributedDataParallel

__all__ = ['ReIDDistributedDataParallel']
