# Copyright (c) mmreid_text contributors. All rights reserved.
from .bnneck_head import BNNeckHead
from .deep_head import DEEPHead
from .vld_head import VLDHead

__all__ = ['BNNeckHead', 'DEEPHead', 'VLDHead']
