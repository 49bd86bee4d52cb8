# Copyright (c) mmreid_text contributors. All rights reserved.
"""``env_cfg.flush_denormal``: ReIDRunner flushes denormal floats to zero
on CPU while it trains / tests (default) or keeps them, and restores the
previous mode afterwards."""
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from torch.utils.data import Dataset

from mmreid_text.engine import ReIDRunner
from mmreid_text.engine.denormal import (FLOAT32_TINY, denormals_flushed,
                                         flush_denormal)
from mmreid_text.utils import register_all_modules

register_all_modules()
pytestmark = pytest.mark.skipif(
    not torch.set_flush_denormal(False), reason='CPU without FTZ / DAZ')


def test_probe_and_context_restore():
    denormal = torch.tensor([FLOAT32_TINY]) * 0.25  # 2.9e-39, denormal
    assert not denormals_flushed() and denormal.item() > 0
    with flush_denormal(True) as flushed:
        assert flushed and denormals_flushed()
        assert (torch.tensor([FLOAT32_TINY]) * 0.25).item() == 0.0
        with flush_denormal(False) as inner:
            assert not inner and not denormals_flushed()
        assert denormals_flushed()  # the outer mode is back
    assert not denormals_flushed()
    with pytest.raises(ValueError, match='True or False|must be True'):
        with flush_denormal('yes'):
            pass


class _Toy(BaseModel):

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))

    def forward(self, x, mode='loss'):
        return dict(loss=(self.w * x.float()).sum())


class _Data(Dataset):

    def __len__(self):
        return 2

    def __getitem__(self, idx):
        return dict(x=torch.ones(1))


class _Record(Hook):

    def __init__(self):
        self.seen = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.seen.append(denormals_flushed())


@pytest.mark.parametrize('env, expected', [({}, True),
                                           ({
                                               'flush_denormal': False
                                           }, False)])
def test_runner_honours_env_cfg(tmp_path, env, expected):
    record = _Record()
    runner = ReIDRunner(
        model=_Toy(),
        work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=_Data(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=1,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=False, max_iters=2),
        env_cfg=env,
        custom_hooks=[record],
        default_hooks=dict(checkpoint=None, logger=None),
        default_scope='mmreid_text')
    assert not denormals_flushed()
    runner.train()
    assert record.seen == [expected, expected]
    assert not denormals_flushed()  # restored after training


def test_bad_value_is_an_error(tmp_path):
    with pytest.raises(ValueError, match='env_cfg.flush_denormal'):
        ReIDRunner(
            model=_Toy(),
            work_dir=str(tmp_path),
            env_cfg=dict(flush_denormal='auto'),
            default_scope='mmreid_text')
