# Copyright (c) mmreid_text contributors. All rights reserved.
"""mmreid_text: CLIP + language re-identification on the OpenMMLab stack."""
from .version import __version__
from .registry import SCOPE  # noqa: F401  (mmengine imports it by name)
from .utils import register_all_modules

__all__ = ['__version__', 'register_all_modules']
