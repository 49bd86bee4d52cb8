# Copyright (c) mmreid_text contributors. All rights reserved.
from .base_reid_dataset import BaseReIDDataset, ReIDSample
from .bupt_campus import BUPTCampus
from .hitsz_vcm import HITSZVCM
from .market_mm import MarketMM
from .msvr310 import MSVR310
from .regdb import RegDB
from .rgbnt100 import RGBNT100
from .rgbnt201 import RGBNT201
from .samplers import *  # noqa: F401,F403
from .sysu_mm01 import SYSUMM01
from .torchreid_dataset import TorchreidImageDataset
from .transforms import *  # noqa: F401,F403
from .wmveid863 import WMVEID863

__all__ = [
    'BaseReIDDataset', 'ReIDSample', 'RGBNT201', 'RGBNT100', 'MSVR310',
    'WMVEID863', 'MarketMM', 'HITSZVCM', 'BUPTCampus', 'SYSUMM01', 'RegDB',
    'TorchreidImageDataset'
]
