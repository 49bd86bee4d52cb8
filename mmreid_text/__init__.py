# Copyright (c) mmreid_text contributors. All rights reserved.
"""mmreid_text: CLIP + language re-identification on the OpenMMLab stack.

Importing the package registers every component (configs load it through
``custom_imports``) and installs the safe checkpoint loader.
"""
from . import synthetic  # noqa: F401,E402  (Synthetic* datasets)
from . import visualization  # noqa: F401,E402
from . import datasets, engine, evaluation, models  # noqa: F401,E402,I001
from .registry import SCOPE  # noqa: F401  (mmengine imports it by name)
from .utils import register_all_modules  # also installs the safe loader
from .version import __version__

__all__ = ['__version__', 'register_all_modules']
