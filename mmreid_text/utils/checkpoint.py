# Copyright (c) mmreid_text contributors. All rights reserved.
"""Safe loading of mmengine checkpoints on torch >= 2.6.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only`` for local
files, so on torch >= 2.6 ``load_from`` and ``--resume`` fail on the
``HistoryBuffer`` and numpy objects every mmengine checkpoint carries.
Switching ``weights_only`` off globally would let a checkpoint run arbitrary
code. Instead, importing ``mmreid_text`` re-registers mmengine's local-file
loader with a ``weights_only=True`` load that allow-lists exactly the types
mmengine checkpoints contain; any other pickled object is refused with
:class:`UnsafeCheckpointError`.
"""
import os.path as osp
import pickle
from typing import List, Optional

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

_np_multiarray = getattr(np, '_core', None) or np.core
_np_multiarray = _np_multiarray.multiarray

#: The globals an mmengine checkpoint pickles beyond torch's defaults:
#: ``message_hub`` holds ``HistoryBuffer`` objects (whose statistic methods
#: are stored as ``getattr(HistoryBuffer, 'min')``) with numpy arrays and
#: scalars inside.
SAFE_CHECKPOINT_GLOBALS: List = [
    HistoryBuffer,
    getattr,
    np.ndarray,
    np.dtype,
    _np_multiarray._reconstruct,
    _np_multiarray.scalar,
] + [
    type(np.dtype(t))
    for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
              np.float16, np.float32, np.float64)
]


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds pickled objects outside the allow-list."""


def _global_name(obj) -> str:
    return f'{obj.__module__}.{obj.__qualname__}'


def load_checkpoint_safely(filename: str,
                           map_location: Optional[object] = None):
    """``torch.load`` with ``weights_only=True`` plus mmengine's types.

    Args:
        filename (str): A local checkpoint file.
        map_location: As for :func:`torch.load`.

    Raises:
        FileNotFoundError: The file does not exist.
        UnsafeCheckpointError: The file pickles any object that is neither
            a torch default safe type nor in
            :data:`SAFE_CHECKPOINT_GLOBALS`. Nothing of it is executed.
    """
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint "{filename}" does not exist.')
    try:
        with torch.serialization.safe_globals(SAFE_CHECKPOINT_GLOBALS):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        allowed = {_global_name(g) for g in SAFE_CHECKPOINT_GLOBALS}
        allowed |= {'builtins.getattr', '__builtin__.getattr'}
        try:
            found = torch.serialization.get_unsafe_globals_in_checkpoint(
                filename)
            offending = [g for g in found if g not in allowed]
        except Exception:  # not a zip checkpoint: keep torch's message
            offending = []
        what = (f'pickled objects outside the allow-list: {offending}'
                if offending else f'content torch refuses to load ({err})')
        raise UnsafeCheckpointError(
            f'Refusing to load checkpoint "{filename}": it contains {what}. '
            'mmreid_text loads checkpoints with weights_only=True and allows '
            'only the types mmengine checkpoints contain, so a file cannot '
            'run code when it is opened. If you made this file yourself and '
            'trust it, convert it once with `python tools/model_converters/'
            'clean_checkpoint.py IN OUT --trust-source`.') from err


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(filename: str, map_location=None):
    """mmengine's local-file scheme, replaced by the safe loader."""
    return load_checkpoint_safely(osp.expanduser(filename), map_location)
