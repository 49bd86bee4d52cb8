# Copyright (c) mmreid_text contributors. All rights reserved.
from .bnneck_head import BNNeckHead

__all__ = ['BNNeckHead']
