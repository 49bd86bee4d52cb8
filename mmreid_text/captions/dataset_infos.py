# Copyright (c) mmreid_text contributors. All rights reserved.
"""The dataset a caption file is for, built from a dataset config.

``dataset_from_config`` builds the dataset of ``<split>_dataloader`` of an
mmengine config through ``mmreid_text.registry.DATASETS`` (pipeline
removed, so no caption file or image is read) and returns it with its info
dicts.  The release importers resolve keys with these info dicts and the
caption generator lists the images to caption from them.
"""
import copy
from typing import Any, Dict, List, Optional, Tuple


def _strip_pipelines(cfg: Any) -> Any:
    if isinstance(cfg, dict):
        cfg = dict(cfg)
        if 'pipeline' in cfg:
            cfg['pipeline'] = []
        for key in ('dataset', 'datasets'):
            if key in cfg:
                cfg[key] = _strip_pipelines(cfg[key])
        return cfg
    if isinstance(cfg, (list, tuple)):
        return [_strip_pipelines(c) for c in cfg]
    return cfg


def dataset_from_config(
    config_path: str,
    split: str = 'train',
    cfg_options: Optional[Dict[str, Any]] = None
) -> Tuple[Any, List[Dict[str, Any]]]:
    """Build the dataset of ``<split>_dataloader`` and read its info dicts.

    Returns:
        ``(dataset, infos)``.
    """
    from mmengine.config import Config
    from mmengine.utils import import_modules_from_strings

    from mmreid_text.registry import DATASETS
    from mmreid_text.utils import register_all_modules

    cfg = Config.fromfile(config_path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg['custom_imports'])
    register_all_modules()
    key = f'{split}_dataloader'
    loader = cfg.get(key)
    if not loader or 'dataset' not in loader:
        available = [
            k[:-len('_dataloader')] for k in cfg.keys()
            if k.endswith('_dataloader') and cfg[k]
        ]
        raise KeyError(f'{config_path}: no {key}.dataset; splits with a '
                       f'dataloader: {available}')
    dataset_cfg = _strip_pipelines(copy.deepcopy(loader['dataset']))
    dataset = DATASETS.build(dataset_cfg)
    if hasattr(dataset, 'full_init'):
        dataset.full_init()
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    return dataset, infos
