# Copyright (c) mmreid_text contributors. All rights reserved.
import difflib
from typing import Iterable, Mapping, Optional

from mmengine.config import Config

#: Top-level keys mmengine's Runner reads even when a config leaves them
#: out; setting them from the command line is always allowed.
RUNNER_KEYS = frozenset({
    'model', 'work_dir', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name', 'cfg',
    'model_wrapper_cfg', 'runner_type', 'custom_imports'
})


def check_config_keys(cfg: Mapping, keys: Iterable[str]) -> None:
    """Fail early on ``--cfg-options`` keys that match nothing.

    Every dotted key must start with a key the config (or mmengine's
    Runner) knows, and every intermediate part must already exist, so a
    typo such as ``train_cfgg.max_epochs=1`` or
    ``model.backbon.pretrained=x`` is an error naming the key and the
    closest known name instead of being silently ignored. New leaf keys of
    an existing component dict are allowed (they are passed to the
    component, which rejects unknown arguments itself).

    Args:
        cfg (Mapping): The loaded config.
        keys (Iterable[str]): Dotted keys about to be merged.
    """
    if hasattr(cfg, 'to_dict'):  # mmengine Config is not a Mapping
        cfg = cfg.to_dict()
    for key in keys:
        parts = key.split('.')
        node = cfg
        for depth, part in enumerate(parts[:-1] if len(parts) > 1 else parts):
            if isinstance(node, (list, tuple)) and part.isdigit():
                if int(part) >= len(node):
                    raise KeyError(f'Config key "{key}": index {part} is out '
                                   f'of range (length {len(node)}).')
                node = node[int(part)]
                continue
            if not isinstance(node, Mapping):
                raise KeyError(
                    f'Config key "{key}": "{".".join(parts[:depth])}" is '
                    'not a dict, it cannot have sub-keys.')
            if part not in node and not (depth == 0 and part in RUNNER_KEYS):
                close = difflib.get_close_matches(part, list(node), n=3)
                hint = f' Did you mean {close}?' if close else ''
                where = '.'.join(parts[:depth]) or 'the config'
                raise KeyError(f'Unknown config key "{key}": "{part}" is not '
                               f'in {where}.{hint}')
            node = node.get(part, {}) if isinstance(node, Mapping) else {}


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """``Config.fromfile`` plus checked ``--cfg-options`` overrides."""
    cfg = Config.fromfile(path)
    if cfg_options:
        check_config_keys(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    return cfg
