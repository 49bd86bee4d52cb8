# Copyright (c) mmreid_text contributors. All rights reserved.
"""Every config under configs/ loads and builds (real archs, random init)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmreid_text.registry import DATASETS, METRICS, MODELS
from mmreid_text.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)

register_all_modules()


def _no_weights(model_cfg):
    """Switch off every local weight file: tests never need them."""
    for key, value in list(model_cfg.items()):
        if key == 'pretrained':
            model_cfg[key] = None
        elif isinstance(value, dict):
            _no_weights(value)
        elif isinstance(value, list):
            for v in value:
                if isinstance(v, dict):
                    _no_weights(v)


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_config_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmreid_text'
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'val_evaluator', 'optim_wrapper', 'train_cfg'):
        assert key in cfg, f'{path} lacks {key}'
    model_cfg = cfg.model.to_dict()
    _no_weights(model_cfg)
    model = MODELS.build(model_cfg)
    learnable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert learnable > 0
    # the evaluator and the pipelines build too
    METRICS.build(cfg.val_evaluator)
    ds_cls = DATASETS.get(cfg.train_dataloader.dataset.type)
    assert ds_cls is not None
    from mmengine.dataset import Compose
    Compose(cfg.train_dataloader.dataset.pipeline)
    Compose(cfg.test_dataloader.dataset.pipeline)
    del model
    torch.cuda.empty_cache() if torch.cuda.is_available() else None
