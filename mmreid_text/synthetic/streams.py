# Copyright (c) mmreid_text contributors. All rights reserved.
"""Independent random streams of the synthetic-data generator.

Every random draw comes from a ``numpy.random.Generator`` seeded with
``[seed, layout stream id, stream, number of keys, *keys]``:

* ``seed``: the user's seed;
* the layout's ``stream_id`` (unique per layout, checked when a layout is
  registered), so two layouts made with the same seed never share a draw;
* the :class:`Stream` (what the draws decide);
* the keys (``pid``, ``cam``, ``frame``, ...). Their count is part of the
  seed because numpy's ``SeedSequence`` pads with zeros
  (``[0]`` and ``[0, 0]`` would give the same stream otherwise), and each
  key is shifted by one so that ``-1`` ("none") is allowed.

A draw therefore depends only on what it is about, never on how many other
identities, cameras or frames are generated or in which order.
"""
from enum import IntEnum

import numpy as np


class Stream(IntEnum):
    """What the draws of a stream decide."""
    PLAN = 1  # which ids, cameras, scenes and frames a layout writes
    IDENTITY = 2  # attributes of one identity
    CAMERA = 3  # background, optics and illumination of one camera
    TRACK = 4  # how one identity passes one camera (view, place)
    FRAME = 5  # pose, texture and sensor noise of one frame


def stream_rng(seed: int, stream_id: int, stream: Stream, *keys:
               int) -> np.random.Generator:
    """The generator of one stream of one layout.

    Args:
        seed: Non-negative seed of the dataset.
        stream_id: The layout's ``stream_id`` (non-negative).
        stream: What the draws decide.
        *keys: Integers >= -1 naming the item (pid, camera, frame, ...).
    """
    if seed < 0 or stream_id < 0:
        raise ValueError(f'seed and stream_id must be >= 0, got {seed} and '
                         f'{stream_id}.')
    if any(key < -1 for key in keys):
        raise ValueError(f'random-stream keys must be >= -1, got {keys}.')
    return np.random.default_rng([
        int(seed),
        int(stream_id),
        int(stream),
        len(keys), *(int(key) + 1 for key in keys)
    ])
