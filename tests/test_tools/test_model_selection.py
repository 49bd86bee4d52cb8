# Copyright (c) mmreid_text contributors. All rights reserved.
"""No model selection on a test split; a held-out val split allows it."""
import glob
import os.path as osp
import re

import pytest

from mmreid_text.engine.runner import ReIDRunner
from mmreid_text.utils.config import load_config
from .conftest import REPO, TINY_CONFIG, data_options, run_tool

TRAIN = osp.join(REPO, 'tools', 'train.py')
TINY_VAL_CONFIG = osp.join(REPO, 'tests', 'data', 'configs',
                           'tiny_baseline_val.py')
CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p) + sorted(
        glob.glob(osp.join(REPO, 'tests', 'data', 'configs', '*.py')))


def test_default_runtime_keeps_no_best_checkpoint():
    cfg = load_config(
        osp.join(REPO, 'configs', '_base_', 'default_runtime.py'))
    assert cfg.default_hooks.checkpoint.get('save_best') is None
    assert not any(h['type'] == 'EarlyStoppingHook' for h in cfg.custom_hooks)


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_only_held_out_validation_selects_a_model(path):
    cfg = load_config(path)
    selects = cfg.default_hooks.checkpoint.get('save_best') is not None or any(
        h['type'] == 'EarlyStoppingHook' for h in cfg.get('custom_hooks', []))
    val = cfg.val_dataloader.dataset
    held_out = (val.get('holdout') or {}).get('part') == 'val'
    if selects:
        assert held_out, f'{path} selects a model on {val.get("split")!r}'
        # the held-out ids are not trained on, and the test split is untouched
        assert cfg.train_dataloader.dataset.holdout == dict(
            val.holdout, part='train')
        assert cfg.test_dataloader.dataset.split == 'test'
        assert 'holdout' not in cfg.test_dataloader.dataset
    else:
        assert not held_out, f'{path}: a val split that selects nothing'


def _tiny_cfg(path, tmp_path, data_root, **checkpoint):
    cfg = load_config(path, dict(default_hooks=dict(checkpoint=checkpoint)))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    cfg.work_dir = str(tmp_path / 'work')
    cfg.visualizer = dict(type='UniversalVisualizer', vis_backends=[])
    return cfg


def test_save_best_on_the_test_split_is_refused(tmp_path, tiny_data_root):
    cfg = _tiny_cfg(TINY_CONFIG, tmp_path, tiny_data_root, save_best='auto')
    runner = ReIDRunner.from_cfg(cfg)
    with pytest.raises(ValueError) as err:
        runner.train()
    message = str(err.value)
    assert "save_best=['auto'] would select the model on the TEST split" in \
        message
    assert "SyntheticRGBNT201 split='test'" in message
    assert 'clip_vitb16_rgbnt201_val.py' in message


def test_early_stopping_on_the_test_split_is_refused(tmp_path, tiny_data_root):
    cfg = _tiny_cfg(TINY_CONFIG, tmp_path, tiny_data_root)
    cfg.custom_hooks = [
        *cfg.custom_hooks,
        dict(type='EarlyStoppingHook', monitor='reid/mAP')
    ]
    runner = ReIDRunner.from_cfg(cfg)
    with pytest.raises(ValueError, match="monitor='reid/mAP' would select"):
        runner.train()


def test_val_split_training_keeps_the_best_on_val(tmp_path, tiny_data_root):
    work = tmp_path / 'work'
    out = run_tool([
        TRAIN, TINY_VAL_CONFIG, '--work-dir',
        str(work), '--cfg-options', *data_options(tiny_data_root)
    ],
                   cwd=tmp_path)
    # the val loop ranks the 2 held-out identities: 4 cameras x 2 images,
    # one query per identity and camera
    assert re.search(r'8 queries \(\d+ valid\), 16 gallery', out), out[-3000:]
    assert len(re.findall(r'Epoch\(val\) \[\d\]\[\d+/\d+\] +val/mAP', out)) \
        == 2
    assert 'test-monitor' not in out
    best = glob.glob(str(work / 'best_val_mAP_epoch_*.pth'))
    assert len(best) == 1, sorted(p.name for p in work.iterdir())
    assert 'Model selected on the held-out validation split (val/mAP): ' + \
        best[0] in out
    assert 'Reported result: the last epoch (2)' in out
