# Copyright (c) mmreid_text contributors. All rights reserved.
from .backbones import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .reid_model import LossTerm, ReIDModel
from .text import *  # noqa: F401,F403
from .wrappers import *  # noqa: F401,F403

__all__ = ['ReIDModel', 'LossTerm']
