# Copyright (c) mmreid_text contributors. All rights reserved.
import math
from typing import List, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmreid_text.registry import TRANSFORMS


def chunk_frame_indices(num_total: int, num_frames: int,
                        offsets: Sequence[int]) -> List[int]:
    """Frame ``s`` = frame ``offsets[s]`` of chunk ``s`` (see SampleFrames).

    ``c = max(1, ceil(n / T))``; index ``min(s * c + offsets[s], n - 1)``.
    """
    c = max(1, math.ceil(num_total / num_frames))
    return [
        min(s * c + int(offsets[s]), num_total - 1) for s in range(num_frames)
    ]


@TRANSFORMS.register_module()
class SampleFrames(BaseTransform):
    """Pick ``T = num_frames`` frames of a tracklet, as the public loaders do.

    Put it first in the pipeline: it rewrites ``results['img_path'][m]``
    (the full, temporally ordered frame list of modality ``m``) to the ``T``
    chosen paths, for every modality of the sample with the SAME indices
    (aligned modalities stay aligned), and records:

    - ``frame_inds``: the ``T`` chosen indices into the full list;
    - ``num_frames``: ``T``;
    - ``num_frames_total``: ``n``, the full list length (kept when the
      dataset already set it).

    ``rel_img_path`` is left untouched: it still names the whole tracklet.
    A single path (not a list) is a tracklet of one frame.

    Index formulas (``n`` frames, ``T = num_frames``, ``s = 0 .. T-1``):

    - ``'chunk_random'`` (HITSZ-VCM train; MITML / IBAN / VLD
      ``video_train``): the tracklet is cut into ``T`` chunks of
      ``c = ceil(n / T)`` frames after padding it to ``c * T`` frames by
      repeating the last one; one uniformly random frame per chunk::

          r_s ~ U{0, ..., c-1}  (np.random.choice(c, T))
          index_s = min(s * c + r_s, n - 1)

    - ``'chunk_first'`` (HITSZ-VCM test, ``video_test``): the first frame of
      each chunk, ``index_s = min(s * c, n - 1)``.
    - ``'random_sorted'`` (BUPTCampus train, AuxNet / VLD ``random``):
      ``sorted(np.random.choice(n, T, replace=n < T))`` - distinct frames
      when ``n >= T``.
    - ``'uniform'`` (BUPTCampus test): ``np.linspace(0, n, T,
      endpoint=False).astype(int)``, i.e. ``floor(s * n / T)``.

    Tracklets shorter than ``T`` never fail: in the chunk modes ``c = 1`` and
    the list is padded with its last frame (``n = 4, T = 6`` ->
    ``[0, 1, 2, 3, 3, 3]``), as the public code pads; ``'random_sorted'``
    draws with replacement; ``'uniform'`` repeats frames
    (``[0, 0, 1, 2, 2, 3]``). A tracklet with no frame is an error naming
    the sample. Note the public padding also makes the last chunks of a
    barely longer tracklet all point at its last frame (``n = 13, T = 6``:
    ``c = 3``, first frames ``[0, 3, 6, 9, 12, 12]``); this is reproduced.

    Randomness comes from numpy's global RNG, which mmengine seeds
    (``randomness.seed``) and ``reid_worker_init_fn`` reseeds per worker,
    so a seeded run draws the same frames.

    Args:
        num_frames (int): ``T``, frames per tracklet (one config value).
        mode (str): ``'chunk_random'``, ``'chunk_first'``,
            ``'random_sorted'`` or ``'uniform'``.
    """

    MODES = ('chunk_random', 'chunk_first', 'random_sorted', 'uniform')

    def __init__(self,
                 num_frames: int = 6,
                 mode: str = 'chunk_random') -> None:
        if not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError('SampleFrames: num_frames must be a positive '
                             f'int, got {num_frames!r}.')
        if mode not in self.MODES:
            raise ValueError(f'SampleFrames: unknown mode {mode!r}; choose '
                             f'one of {self.MODES}.')
        self.num_frames = num_frames
        self.mode = mode

    def frame_indices(self, num_total: int) -> List[int]:
        """The ``T`` indices into a tracklet of ``num_total`` frames."""
        n, t = num_total, self.num_frames
        if self.mode == 'chunk_random':
            c = max(1, math.ceil(n / t))
            return chunk_frame_indices(n, t, np.random.choice(c, t))
        if self.mode == 'chunk_first':
            return chunk_frame_indices(n, t, [0] * t)
        if self.mode == 'random_sorted':
            return sorted(
                int(i) for i in np.random.choice(n, t, replace=n < t))
        return [
            int(i)
            for i in np.linspace(0, n, t, endpoint=False).astype(np.int64)
        ]

    def transform(self, results: dict) -> dict:
        paths = results.get('img_path')
        if not isinstance(paths, dict) or not paths:
            raise KeyError(
                'SampleFrames needs results["img_path"] = {modality: [frame '
                f'paths]}}; got {paths!r} for sample '
                f'{results.get("sample_idx")}. Put SampleFrames first in '
                'the pipeline of a video dataset.')
        modalities = tuple(results.get('modalities') or paths)
        missing = [m for m in modalities if m not in paths]
        if missing:
            raise KeyError(f'SampleFrames: sample {results.get("sample_idx")}'
                           f' has no frame list for modalities {missing}; '
                           f'got {sorted(paths)}.')
        frames = {
            m:
            list(paths[m]) if isinstance(paths[m],
                                         (list, tuple)) else [paths[m]]
            for m in modalities
        }
        lengths = {m: len(f) for m, f in frames.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(
                f'SampleFrames: sample {results.get("sample_idx")} has '
                f'modalities with different frame counts {lengths}; aligned '
                'modalities of one sample need equal-length tracklets.')
        n = next(iter(lengths.values()))
        if n == 0:
            raise ValueError(
                f'SampleFrames: sample {results.get("sample_idx")} '
                f'({results.get("rel_img_path")}) has no frame; the dataset '
                'must not list empty tracklets.')
        inds = self.frame_indices(n)
        new_paths = dict(paths)
        for m in modalities:
            new_paths[m] = [frames[m][i] for i in inds]
        results['img_path'] = new_paths
        results['frame_inds'] = inds
        results['num_frames'] = self.num_frames
        results.setdefault('num_frames_total', n)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_frames={self.num_frames}, '
                f"mode='{self.mode}')")
