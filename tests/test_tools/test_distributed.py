# Copyright (c) mmreid_text contributors. All rights reserved.
"""DDP on CPU (gloo) through mmengine's pytorch launcher and torchrun."""
import os.path as osp
import re
import socket
import sys

import numpy as np

from .conftest import REPO, TINY_CONFIG, data_options, run_tool

TRAIN = osp.join(REPO, 'tools', 'train.py')
TEST = osp.join(REPO, 'tools', 'test.py')


def _torchrun(nproc=2):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    return [
        sys.executable, '-m', 'torch.distributed.run',
        f'--nproc_per_node={nproc}', '--master_addr=127.0.0.1',
        f'--master_port={port}'
    ]


def _metrics(log):
    # training logs the val loop on the test split as test-monitor/...
    found = dict(
        re.findall(r'(?:reid|test-monitor)/(mAP|mINP|R1|R5): ([\d.]+)', log))
    assert {'mAP', 'R1'} <= set(found), log[-3000:]
    return {k: float(v) for k, v in found.items()}


def test_ddp_train_and_test_match_one_process(tmp_path, tiny_data_root):
    work = tmp_path / 'ddp'
    out = run_tool([
        TRAIN, TINY_CONFIG, '--launcher', 'pytorch', '--work-dir',
        str(work), '--cfg-options', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1', *data_options(tiny_data_root)
    ],
                   cwd=tmp_path,
                   launcher=_torchrun())
    assert 'gloo process group initialised' in out
    assert 'Distributed training: True' in out
    ckpt = str(work / 'epoch_1.pth')
    assert osp.isfile(ckpt)
    ddp_train_metrics = _metrics(out)

    single_dump = str(tmp_path / 'single.npz')
    single = run_tool([
        TEST, TINY_CONFIG, ckpt, '--work-dir',
        str(tmp_path / 't1'), '--dump', single_dump, '--cfg-options',
        *data_options(tiny_data_root)
    ],
                      cwd=tmp_path)
    ddp_dump = str(tmp_path / 'ddp.npz')
    ddp = run_tool([
        TEST, TINY_CONFIG, ckpt, '--launcher', 'pytorch', '--work-dir',
        str(tmp_path / 't2'), '--dump', ddp_dump, '--cfg-options',
        *data_options(tiny_data_root)
    ],
                   cwd=tmp_path,
                   launcher=_torchrun())
    m1, m2 = _metrics(single), _metrics(ddp)
    assert m1 == m2
    assert m1 == ddp_train_metrics
    a, b = np.load(single_dump), np.load(ddp_dump)
    for key in a.files:
        if a[key].dtype.kind == 'f':
            np.testing.assert_allclose(a[key], b[key], atol=1e-5)
        else:
            np.testing.assert_array_equal(a[key], b[key])
