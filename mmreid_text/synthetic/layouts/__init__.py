# Copyright (c) mmreid_text contributors. All rights reserved.
"""Synthetic layouts, one module per benchmark; importing a module
registers its layout in :data:`SYNTHETIC_LAYOUTS`."""
from .base import (SYNTHETIC_LAYOUTS, FrameSpec, SyntheticLayout, build_layout,
                   check_int, register_layout)
from .bupt_campus import BUPTCampusLayout
from .hitsz_vcm import HITSZVCMLayout
from .market_mm import MarketMMLayout
from .msvr310 import MSVR310Layout
from .regdb import RegDBLayout
from .rgbnt100 import RGBNT100Layout
from .rgbnt201 import RGBNT201Layout
from .sysu_mm01 import SYSUMM01Layout
from .wmveid863 import WMVEID863Layout

__all__ = [
    'SYNTHETIC_LAYOUTS', 'FrameSpec', 'SyntheticLayout', 'build_layout',
    'check_int', 'register_layout', 'RGBNT201Layout', 'RGBNT100Layout',
    'MSVR310Layout', 'WMVEID863Layout', 'MarketMMLayout', 'HITSZVCMLayout',
    'BUPTCampusLayout', 'SYSUMM01Layout', 'RegDBLayout'
]
