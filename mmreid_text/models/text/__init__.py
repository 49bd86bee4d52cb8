# Copyright (c) mmreid_text contributors. All rights reserved.
from .text_encoder import TextEncoder

__all__ = ['TextEncoder']
from .prompt_learners import *  # noqa: F401,F403
