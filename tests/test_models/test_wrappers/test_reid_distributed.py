# Copyright (c) mmreid_text contributors. All rights reserved.
"""``ReIDDistributedDataParallel`` on CPU (gloo), without the launcher:
a single-process group for the bookkeeping and two spawned ranks for the
BatchNorm-buffer broadcast. The end-to-end DDP run through torchrun is
``tests/test_tools/test_distributed.py``."""
import socket
from unittest import mock

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper
from torch import nn

from mmreid_text.models.wrappers import reid_distributed
from mmreid_text.models.wrappers.reid_distributed import \
    ReIDDistributedDataParallel
from mmreid_text.registry import MODEL_WRAPPERS


class _BNModel(BaseModel):
    """``Linear -> BatchNorm1d``; loss = mean output, predict = output."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.bn = nn.BatchNorm1d(2)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.bn(self.fc(inputs))
        if mode == 'loss':
            return dict(loss=out.pow(2).mean())
        return [out]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def single_process_group():
    dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{_free_port()}',
        rank=0,
        world_size=1)
    yield
    dist.destroy_process_group()


def _wrap(model=None, **kwargs):
    return ReIDDistributedDataParallel(model or _BNModel(), **kwargs)


def test_device_ids_dropped_for_a_cpu_module(single_process_group):
    """mmengine passes ``device_ids=[LOCAL_RANK]``; torch's DDP rejects it
    for a CPU module. Catches the drop missing."""
    ddp = _wrap(device_ids=[0])
    assert ddp.device_ids is None
    assert MODEL_WRAPPERS.get('ReIDDistributedDataParallel') is (
        ReIDDistributedDataParallel)


def test_buffers_broadcast_from_rank0_once_after_training(
        single_process_group):
    """Catches: no broadcast before evaluating (every rank evaluates its own
    BN statistics), a broadcast from another rank, one on every evaluation
    step (slow), or none after further training."""
    ddp = _wrap()
    optim = OptimWrapper(torch.optim.SGD(ddp.parameters(), lr=0.1))
    data = dict(inputs=torch.randn(4, 2))
    num_buffers = len(list(ddp.module.buffers()))
    assert num_buffers == 3  # running mean / var, batches tracked
    with mock.patch.object(
            reid_distributed.dist, 'broadcast',
            wraps=dist.broadcast) as broadcast:
        ddp.val_step(data)  # before any training: buffers may differ too
        assert broadcast.call_count == num_buffers
        ddp.val_step(data)
        ddp.test_step(data)
        assert broadcast.call_count == num_buffers
        ddp.train_step(data, optim)
        ddp.train_step(data, optim)
        assert broadcast.call_count == num_buffers
        ddp.test_step(data)
        assert broadcast.call_count == 2 * num_buffers
        ddp.val_step(data)
        assert broadcast.call_count == 2 * num_buffers
    sent = [call.args[0] for call in broadcast.call_args_list[:num_buffers]]
    assert all(a is b for a, b in zip(sent, ddp.module.buffers()))
    assert all(
        call.kwargs.get('src', None) == 0 for call in broadcast.call_args_list)


def test_val_step_returns_the_module_predictions(single_process_group):
    ddp = _wrap().eval()
    inputs = torch.randn(3, 2)
    (out, ) = ddp.val_step(dict(inputs=inputs))
    torch.testing.assert_close(out, ddp.module(inputs)[0])


def _rank_worker(rank, port, results):
    dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    try:
        torch.manual_seed(0)  # same weights on both ranks
        ddp = ReIDDistributedDataParallel(_BNModel(), device_ids=[rank])
        optim = OptimWrapper(torch.optim.SGD(ddp.parameters(), lr=0.1))
        torch.manual_seed(100 + rank)  # different data per rank
        ddp.train_step(dict(inputs=torch.randn(8, 2) * (rank + 1)), optim)
        before = ddp.module.bn.running_var.clone()
        ddp.eval()  # as the test loop does
        ddp.test_step(dict(inputs=torch.ones(2, 2)))
        results[rank] = (before, ddp.module.bn.running_mean.clone(),
                         ddp.module.bn.running_var.clone())
    finally:
        dist.destroy_process_group()


def test_two_ranks_evaluate_rank0_batchnorm_statistics():
    """After training on different batches, the ranks' BN running
    statistics differ; the first evaluation step makes them rank 0's."""
    # spawn, not fork: forking after a gloo group existed in this process
    # (the tests above) can deadlock the children
    context = mp.get_context('spawn')
    manager = context.Manager()
    results = manager.dict()
    port = _free_port()
    procs = [
        context.Process(target=_rank_worker, args=(r, port, results))
        for r in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    before0, mean0, var0 = results[0]
    before1, mean1, var1 = results[1]
    assert not torch.allclose(before0, before1)
    torch.testing.assert_close(var1, before0)
    torch.testing.assert_close(var0, before0)
    torch.testing.assert_close(mean1, mean0)
