# Copyright (c) mmreid_text contributors. All rights reserved.
from .text_encoder import TextEncoder

__all__ = ['TextEncoder']
