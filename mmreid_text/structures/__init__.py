# Copyright (c) mmreid_text contributors. All rights reserved.
from .reid_data_sample import ReIDDataSample, stack_pids

__all__ = ['ReIDDataSample', 'stack_pids']
