# Copyright (c) mmreid_text contributors. All rights reserved.
from .checkpoint import (SAFE_CHECKPOINT_GLOBALS, UnsafeCheckpointError,
                         load_checkpoint_safely)
from .config import check_config_keys, load_config
from .package_configs import enable_package_configs
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules', 'load_checkpoint_safely', 'UnsafeCheckpointError',
    'SAFE_CHECKPOINT_GLOBALS', 'check_config_keys', 'load_config',
    'enable_package_configs'
]

enable_package_configs()  # `_base_ = 'mmreid_text::...'` in any config
