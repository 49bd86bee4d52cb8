# Copyright (c) mmreid_text contributors. All rights reserved.
from .base_reid_dataset import BaseReIDDataset, ReIDSample
from .rgbnt201 import RGBNT201
from .samplers import *  # noqa: F401,F403
from .synthetic_rgbnt201 import SyntheticRGBNT201
from .transforms import *  # noqa: F401,F403

__all__ = ['BaseReIDDataset', 'ReIDSample', 'RGBNT201', 'SyntheticRGBNT201']
