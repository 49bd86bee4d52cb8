# Copyright (c) mmreid_text contributors. All rights reserved.
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_CONFIG = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_baseline.py')
TINY_GENERATOR = dict(
    seed=0,
    num_train_ids=8,
    num_test_ids=4,
    images_per_camera=2,
    img_size=(64, 32))


@pytest.fixture(scope='session')
def tiny_data_root(tmp_path_factory):
    """The tiny synthetic RGBNT201 data of tests/data/configs, made once."""
    from mmreid_text.synthetic import ensure_synthetic
    root = tmp_path_factory.mktemp('synthetic')
    ensure_synthetic('RGBNT201', str(root), progress=False, **TINY_GENERATOR)
    return str(root / 'RGBNT201')


def data_options(data_root):
    return [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
    ]


def run_tool(args, cwd, env_extra=None, timeout=600, launcher=None):
    """Run a tools/ script in a subprocess; return its combined output."""
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS', '1')
    if env_extra:
        env.update(env_extra)
    if launcher is None:
        cmd = [sys.executable] + args
    else:
        cmd = launcher + args
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f'{cmd} failed with {proc.returncode}:\n' +
                             proc.stdout[-6000:])
    return proc.stdout
