# Copyright (c) mmreid_text contributors. All rights reserved.
from .caption_text_encoder import CaptionTextEncoder
from .text_encoder import TextEncoder

__all__ = ['TextEncoder', 'CaptionTextEncoder']
from .prompt_learners import *  # noqa: F401,F403
