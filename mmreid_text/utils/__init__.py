# Copyright (c) mmreid_text contributors. All rights reserved.
from .setup_env import register_all_modules

__all__ = ['register_all_modules']
