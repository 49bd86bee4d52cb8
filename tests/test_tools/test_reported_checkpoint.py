# Copyright (c) mmreid_text contributors. All rights reserved.
"""tools/train.py names the checkpoint a run reports: the last epoch, or
the last iteration of an iteration-based loop (VLD's 24 x 200)."""
from types import SimpleNamespace

import pytest
from mmengine.hooks import CheckpointHook
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop


@pytest.mark.parametrize('loop, expected', [
    (IterBasedTrainLoop, 'the last iteration (4800)'),
    (EpochBasedTrainLoop, 'the last epoch (24)'),
])
def test_reported_result_names_the_loop_unit(tmp_path, load_tool, loop,
                                             expected):
    tool = load_tool('tools/train.py')
    ckpt = str(tmp_path / 'iter_4800.pth')
    (tmp_path / 'last_checkpoint').write_text(ckpt)
    runner = SimpleNamespace(
        hooks=[CheckpointHook(interval=800, by_epoch=False)],
        work_dir=str(tmp_path),
        train_loop=object.__new__(loop),
        iter=4800,
        epoch=24)
    text = tool.reported_checkpoints(runner)
    assert f'Reported result: {expected}, {ckpt}' in text
