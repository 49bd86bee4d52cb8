# Copyright (c) mmreid_text contributors. All rights reserved.
import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from mmreid_text.utils import UnsafeCheckpointError, load_checkpoint_safely


class _WritesMarker:
    """Unpickling this object would create a marker file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.makedirs, (self.path, ))


def test_mmengine_types_load_through_the_registered_scheme(tmp_path):
    buf = HistoryBuffer()
    buf.update(0.5)
    ckpt = dict(
        state_dict=dict(w=torch.ones(2)),
        meta=dict(
            epoch=3,
            seed=np.int64(7),
            arr=np.arange(3, dtype=np.float32),
            message_hub=dict(log_scalars={'loss': buf})))
    path = str(tmp_path / 'ok.pth')
    torch.save(ckpt, path)
    out = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert torch.equal(out['state_dict']['w'], torch.ones(2))
    assert out['meta']['message_hub']['log_scalars']['loss'].current() == 0.5
    np.testing.assert_array_equal(out['meta']['arr'], np.arange(3))


def test_other_pickled_objects_are_refused_without_running(tmp_path):
    marker = tmp_path / 'marker_created'
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, payload=_WritesMarker(str(marker))), path)
    with pytest.raises(UnsafeCheckpointError) as err:
        CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert 'evil.pth' in str(err.value)
    assert 'makedirs' in str(err.value)
    assert isinstance(err.value, pickle.UnpicklingError)
    assert not marker.exists()


def test_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_checkpoint_safely(str(tmp_path / 'nope.pth'))
