# Copyright (c) mmreid_text contributors. All rights reserved.
from .hooks import *  # noqa: F401,F403
from .runner import ReIDRunner, reid_worker_init_fn

__all__ = ['ReIDRunner', 'reid_worker_init_fn']
