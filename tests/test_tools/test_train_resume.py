# Copyright (c) mmreid_text contributors. All rights reserved.
import os.path as osp

import torch

from .conftest import REPO, TINY_CONFIG, data_options, run_tool

TRAIN = osp.join(REPO, 'tools', 'train.py')


def _weights(path):
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    return ckpt['state_dict']


def test_resume_is_exact(tmp_path, tiny_data_root):
    """4 epochs in one run == 2 epochs + --resume + 2 epochs (1e-6)."""
    straight = tmp_path / 'straight'
    run_tool([
        TRAIN, TINY_CONFIG, '--work-dir',
        str(straight), '--no-validate', '--cfg-options',
        'train_dataloader.num_workers=2', 'train_cfg.max_epochs=4',
        *data_options(tiny_data_root)
    ],
             cwd=tmp_path)
    halves = tmp_path / 'halves'
    run_tool([
        TRAIN, TINY_CONFIG, '--work-dir',
        str(halves), '--no-validate', '--cfg-options',
        'train_dataloader.num_workers=2', 'train_cfg.max_epochs=2',
        *data_options(tiny_data_root)
    ],
             cwd=tmp_path)
    out = run_tool([
        TRAIN, TINY_CONFIG, '--work-dir',
        str(halves), '--no-validate', '--resume', '--cfg-options',
        'train_dataloader.num_workers=2', 'train_cfg.max_epochs=4',
        *data_options(tiny_data_root)
    ],
                   cwd=tmp_path)
    assert 'resumed epoch: 2' in out
    a = _weights(straight / 'epoch_4.pth')
    b = _weights(halves / 'epoch_4.pth')
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-6, rtol=0, msg=k)
    # and training changed the weights at all
    first = _weights(halves / 'epoch_2.pth')
    assert any(not torch.equal(first[k], b[k]) for k in b)
