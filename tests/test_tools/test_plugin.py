# Copyright (c) mmreid_text contributors. All rights reserved.
"""projects/example_head: a separately installed package adds a head."""
import os.path as osp
import shutil
import subprocess
import sys

import torch

from .conftest import REPO, TINY_GENERATOR, run_tool

PROJECT = osp.join(REPO, 'projects', 'example_head')
TINY_CONFIG = osp.join(PROJECT, 'configs',
                       'example_head_deep_tiny_synthetic_rgbnt201.py')


def _install_project(tmp_path):
    """``pip install`` a clean copy of the project into a private target."""
    src = tmp_path / 'example_head_src'
    shutil.copytree(
        PROJECT,
        src,
        ignore=shutil.ignore_patterns('build', '*.egg-info', '__pycache__'))
    target = tmp_path / 'site'
    subprocess.run([
        sys.executable, '-m', 'pip', 'install', '--no-deps',
        '--no-build-isolation', '--no-index', '--quiet', '--target',
        str(target),
        str(src)
    ],
                   check=True,
                   timeout=300)
    assert (target / 'example_head' / 'cosine_head.py').is_file()
    return str(target)


def _two_iteration_config(tmp_path, data_root):
    """The project's tiny config on the test data, for two iterations."""
    path = tmp_path / 'two_iters.py'
    loader = (f'dict(batch_size=8, num_workers=0, persistent_workers=False, '
              f'dataset=dict(data_root={data_root!r}, '
              f'generator={TINY_GENERATOR!r}))')
    path.write_text(f"""
_base_ = [{TINY_CONFIG!r}]
train_dataloader = {loader}
val_dataloader = {loader}
test_dataloader = val_dataloader
param_scheduler = [dict(type='ConstantLR', factor=1.0)]
train_cfg = dict(_delete_=True, by_epoch=False, max_iters=2, val_interval=2)
log_processor = dict(by_epoch=False)
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(by_epoch=False, interval=2, save_best=None))
""")
    return str(path)


def test_head_from_an_installed_project_trains(tmp_path, tiny_data_root):
    """The example project, pip-installed outside the repository, mixes its
    head into DEEP through ``custom_imports`` and a ``mmreid_text::`` base;
    tools/train.py runs two iterations from a folder outside the repo
    without any change to mmreid_text."""
    site = _install_project(tmp_path)
    config = _two_iteration_config(tmp_path, tiny_data_root)
    out = run_tool([
        osp.join(REPO, 'tools', 'train.py'), config, '--work-dir',
        str(tmp_path / 'w'), '--no-validate'
    ],
                   cwd=tmp_path,
                   env_extra=dict(PYTHONPATH=site))
    assert 'CosineMarginHead' in out
    assert 'Iter(train) [2/2]' in out
    assert 'loss_id' in out and 'loss_supcon' in out
    ckpt = tmp_path / 'w' / 'iter_2.pth'
    assert osp.isfile(ckpt)
    state = torch.load(ckpt, map_location='cpu', weights_only=False)
    # the trained head is the plugin's: 60 identity centres of width 128
    # (DEEPHead would have stored a BNNeck on the 3 x 128 concatenation)
    assert state['state_dict']['head.weight'].shape == (60, 128)
    assert not any(k.startswith('head.necks') for k in state['state_dict'])
