# Copyright (c) mmreid_text contributors. All rights reserved.
from .reid_data_sample import ReIDDataSample, check_pid_range, stack_pids

__all__ = ['ReIDDataSample', 'check_pid_range', 'stack_pids']
