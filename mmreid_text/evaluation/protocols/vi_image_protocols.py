# Copyright (c) mmreid_text contributors. All rights reserved.
"""Visible-infrared image protocols: SYSU-MM01 (``sysu``), RegDB
(``regdb``).

``sysu`` evaluates the four SYSU-MM01 settings (all-search /
indoor-search x single-shot / multi-shot) from one set of features, each
averaged over 10 random gallery trials; ``regdb`` the two directions of
one RegDB split (the 10 splits are separate trainings, see
``tools/regdb_trials.py``).  See docs/evaluation.md, "Visible-infrared
images".
"""
import logging
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from mmengine.logging import print_log
from torch import Tensor

from mmreid_text.registry import REID_PROTOCOLS
from .base_protocol import (AllSampleMeta, BaseReIDProtocol, EvalSetting,
                            SampleMeta)
from .cross_modality_protocols import (BUPTCampusProtocol,
                                       CrossModalityProtocol, check_directions,
                                       modality_counts)

#: SYSU-MM01 RGB cameras of each search mode (the official evaluation).
SYSU_MODE_CAMERAS: Dict[str, Tuple[int, ...]] = dict(
    all=(1, 2, 4, 5), indoor=(1, 2))
#: SYSU-MM01 infrared cameras (the queries).
SYSU_IR_CAMERAS = (3, 6)
#: Gallery images per (identity, camera) of each shot mode.
SYSU_SHOTS = ('single', 'multi')


def _check_int(value: int, name: str, minimum: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ValueError(f'sysu protocol: {name} must be an integer >= '
                         f'{minimum}, got {value!r}.')
    return int(value)


def _check_names(names: Sequence[str], allowed: Sequence[str],
                 arg: str) -> Tuple[str, ...]:
    names = (names, ) if isinstance(names, str) else tuple(names)
    if not names or set(names) - set(allowed) or len(set(names)) != len(names):
        raise ValueError(f'sysu protocol: {arg} must be a non-empty list of '
                         f'distinct names from {tuple(allowed)}, got '
                         f'{names}.')
    return names


def draw_sysu_galleries(pids: np.ndarray, camids: np.ndarray,
                        cameras: Sequence[int], shot_size: int,
                        num_trials: int, seed: int) -> List[np.ndarray]:
    """Random SYSU-MM01 galleries: ``shot_size`` images per (pid, camera).

    The candidates are ordered by (pid, camera, position in ``pids``); for
    trial ``t`` a ``numpy.random.default_rng([seed, t])`` Generator
    (``SeedSequence([seed, t])``) draws one uniform key per candidate in
    that order, over **all** given candidates (every camera), and each
    (pid, camera) folder of ``cameras`` keeps its ``shot_size`` smallest
    keys: a uniform draw without replacement, the whole folder when it
    holds fewer images.  Consequences: a trial depends only on
    ``(seed, t)`` and the candidate list; the indoor gallery of a trial is
    the all-search gallery of that trial restricted to cameras 1 and 2, and
    the single-shot image of a folder is one of its multi-shot images (as
    with the official fixed permutations).

    Args:
        pids, camids (ndarray): ``[g]`` integers of the candidates.
        cameras (Sequence[int]): cameras to draw from.
        shot_size (int): images per (pid, camera) folder.
        num_trials (int): number of galleries.
        seed (int): non-negative base seed.

    Returns:
        list[ndarray]: ``num_trials`` ascending int64 index arrays into
        ``pids``.
    """
    pids = np.asarray(pids, dtype=np.int64)
    camids = np.asarray(camids, dtype=np.int64)
    order = np.lexsort((np.arange(len(pids)), camids, pids))
    sorted_pid, sorted_cam = pids[order], camids[order]
    new_folder = np.ones(len(order), dtype=bool)
    new_folder[1:] = ((sorted_pid[1:] != sorted_pid[:-1]) |
                      (sorted_cam[1:] != sorted_cam[:-1]))
    folder = np.cumsum(new_folder) - 1
    folder_start = np.flatnonzero(new_folder)
    wanted = np.isin(sorted_cam, np.asarray(cameras, dtype=np.int64))
    galleries = []
    for trial in range(num_trials):
        keys = np.random.default_rng([seed, trial]).random(len(order))
        by_key = np.lexsort((keys, folder))  # folders stay contiguous
        rank = np.arange(len(order)) - folder_start[folder[by_key]]
        picked = by_key[(rank < shot_size) & wanted[by_key]]
        galleries.append(np.sort(order[picked]))
    return galleries


@REID_PROTOCOLS.register_module(name='sysu_setting')
class SYSUMM01Setting(BaseReIDProtocol):
    """One SYSU-MM01 setting: its gallery trials and scoring rule.

    - ignored per query: for a query from camera 3 every gallery image from
      camera 2 (any identity; the two cameras share a room), nothing for
      camera-6 queries (``eval_sysu``; the official code maps camera 3 to
      2 and drops same-location entries);
    - CMC at identity level (first occurrence of each gallery pid along the
      ranking), mAP and mINP at image level;
    - :meth:`gallery_trials`: ``num_trials`` galleries of ``shot_size``
      images per (pid, camera) of the mode's cameras, drawn from the given
      gallery by :func:`draw_sysu_galleries`.

    ``camid`` must be the SYSU camera number 1..6.  Used by
    :class:`SYSUMM01Protocol` for each of its settings; usable on its own
    with ``evaluate_rank(..., protocol=dict(type='sysu_setting', ...))``
    on a distance matrix against every candidate RGB image.

    Args:
        mode (str): ``'all'`` (RGB cameras 1, 2, 4, 5) or ``'indoor'``
            (cameras 1, 2).
        shot_size (int): gallery images per (pid, camera): 1 single-shot,
            10 multi-shot.
        num_trials (int): gallery draws averaged.
        seed (int): base seed of the draws (trial ``t`` uses
            ``default_rng([seed, t])``).
    """

    required_keys = ('camid', )
    cmc_level = 'identity'

    def __init__(self,
                 mode: str = 'all',
                 shot_size: int = 1,
                 num_trials: int = 10,
                 seed: int = 0) -> None:
        if mode not in SYSU_MODE_CAMERAS:
            raise ValueError(f'sysu protocol: mode must be one of '
                             f'{tuple(SYSU_MODE_CAMERAS)}, got {mode!r}.')
        self.mode = mode
        self.cameras = SYSU_MODE_CAMERAS[mode]
        self.shot_size = _check_int(shot_size, 'shot_size', 1)
        self.num_trials = _check_int(num_trials, 'num_trials', 1)
        self.seed = _check_int(seed, 'seed', 0)

    def ignore_mask(self, query: SampleMeta, gallery: SampleMeta) -> Tensor:
        return (query['camid'] == 3)[:, None] & (gallery['camid'] == 2)[None]

    def gallery_trials(self, gallery: SampleMeta) -> List[Tensor]:
        camid = gallery['camid'].cpu().numpy()
        if not np.isin(camid, self.cameras).any():
            raise ValueError(
                f'{self!r}: no gallery image from cameras {self.cameras} '
                f'(gallery cameras: {sorted(set(camid.tolist()))}). camid '
                'must be the SYSU camera number 1..6.')
        galleries = draw_sysu_galleries(gallery['pid'].cpu().numpy(), camid,
                                        self.cameras, self.shot_size,
                                        self.num_trials, self.seed)
        device = gallery['pid'].device
        return [torch.from_numpy(g).to(device) for g in galleries]

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(mode={self.mode!r}, shot_size='
                f'{self.shot_size}, num_trials={self.num_trials}, seed='
                f'{self.seed})')


@REID_PROTOCOLS.register_module(name='sysu')
class SYSUMM01Protocol(CrossModalityProtocol):
    """SYSU-MM01: all/indoor search x single/multi-shot in one evaluation.

    Queries = the ``is_query`` samples (every infrared image of the test
    identities, cameras 3 and 6); gallery candidates = the ``is_gallery``
    samples (every visible image of the test identities, cameras 1, 2, 4,
    5).  One setting per (mode, shot), named ``'<mode>_<shot>'`` in the
    order ``all_single``, ``all_multi``, ``indoor_single``,
    ``indoor_multi``; each is scored by :class:`SYSUMM01Setting` (camera-2
    gallery removed for camera-3 queries, identity-level CMC, image-level
    mAP / mINP) on ``num_trials`` random galleries, and ``ReIDMetric``
    publishes the mean and the standard deviation over the trials.  All
    settings share the query features and one distance matrix.

    Indoor-search keeps every infrared query (as the public code); queries
    whose identity has no image in cameras 1/2 have no positive and are
    skipped and counted.  Multi-shot takes ``multi_shot_size`` images per
    (identity, camera) folder, or the whole folder when it has fewer
    (logged with the count of such folders).

    Differences from the public code (docs/evaluation.md): AGW / CAJ /
    DEEN / CSDN draw each trial's gallery with Python ``random.seed(trial)``
    and ``random.choice`` per folder, the official MATLAB code reads fixed
    permutations (``rand_perm_cam.mat``); here a numpy Generator seeded by
    ``(seed, trial)`` draws them (:func:`draw_sysu_galleries`), so the
    per-trial galleries differ from both and the numbers agree only up to
    the trial-to-trial spread.  CSDN's multi-shot draw is not seeded by the
    trial and fails for folders with fewer than 10 images; ours is seeded
    and takes such folders whole.

    Args:
        modes (Sequence[str]): subset of ``('all', 'indoor')``.
        shots (Sequence[str]): subset of ``('single', 'multi')``.
        num_trials (int): gallery draws per setting (10).
        seed (int): base seed of the draws.
        multi_shot_size (int): gallery images per (identity, camera) in
            multi-shot mode (10).
    """

    MODES = tuple(SYSU_MODE_CAMERAS)
    required_keys = ('camid', )
    selection_keys = ('modality', )

    def __init__(self,
                 modes: Sequence[str] = ('all', 'indoor'),
                 shots: Sequence[str] = SYSU_SHOTS,
                 num_trials: int = 10,
                 seed: int = 0,
                 multi_shot_size: int = 10) -> None:
        self.modes = _check_names(modes, self.MODES, 'modes')
        self.shots = _check_names(shots, SYSU_SHOTS, 'shots')
        self.num_trials = _check_int(num_trials, 'num_trials', 1)
        self.seed = _check_int(seed, 'seed', 0)
        self.multi_shot_size = _check_int(multi_shot_size, 'multi_shot_size',
                                          1)
        self.directions = tuple(f'{m}_{s}' for m in self.modes
                                for s in self.shots)

    def rule(self, mode: str, shot: str) -> SYSUMM01Setting:
        """The scoring rule of one (mode, shot) setting."""
        return SYSUMM01Setting(
            mode=mode,
            shot_size=1 if shot == 'single' else self.multi_shot_size,
            num_trials=self.num_trials,
            seed=self.seed)

    def ignore_mask(self, query: SampleMeta, gallery: SampleMeta) -> Tensor:
        """The rule of every setting (camera-2 gallery for camera-3
        queries)."""
        return (query['camid'] == 3)[:, None] & (gallery['camid'] == 2)[None]

    def gallery_trials(self, gallery: SampleMeta) -> None:
        raise ValueError(
            f'{self!r} has {len(self.directions)} settings '
            f'{self.directions}; evaluate_rank scores one. Use '
            "ReIDMetric(protocol='sysu') for all of them, or "
            "evaluate_rank(..., protocol=dict(type='sysu_setting', "
            "mode='all', shot_size=1)) for one.")

    def settings(self, samples: AllSampleMeta) -> List[EvalSetting]:
        modality = self.modality_array(samples)
        query = np.flatnonzero(samples['is_query'])
        gallery = np.flatnonzero(samples['is_gallery'])
        camid = samples.get('camid')
        if camid is None:
            raise KeyError(f'{self!r} needs every sample\'s camid (the SYSU '
                           'camera number 1..6).')
        for side, index, wanted, cams in (('query', query, 'ir',
                                           SYSU_IR_CAMERAS),
                                          ('gallery', gallery, 'vis',
                                           SYSU_MODE_CAMERAS['all'])):
            bad_modality = modality[index] != wanted
            bad_cam = ~np.isin(camid[index], cams)
            if bad_modality.any() or bad_cam.any():
                raise ValueError(
                    f'{self!r}: the {side} side (is_{side} samples) must be '
                    f"'{wanted}' images from cameras {cams}; it holds "
                    f'modalities {modality_counts(modality[index])} and '
                    f'cameras {sorted(set(camid[index].tolist()))}. Use the '
                    'SYSUMM01 test split (camid = SYSU camera number 1..6, '
                    'infrared queries, visible gallery candidates).')
        self._log_short_folders(samples['pid'][gallery], camid[gallery])
        settings = []
        for mode in self.modes:
            for shot in self.shots:
                cams = ', '.join(str(c) for c in SYSU_MODE_CAMERAS[mode])
                settings.append(
                    EvalSetting(
                        f'{mode}_{shot}', query, gallery,
                        self.rule(mode, shot), 'is_query samples (infrared)',
                        f'{self.num_trials} {shot}-shot galleries from the '
                        f'is_gallery samples of cameras {cams}'))
        return settings

    def _log_short_folders(self, pids: np.ndarray, camids: np.ndarray) -> None:
        """Say how many multi-shot folders are taken whole."""
        if 'multi' not in self.shots or self.multi_shot_size == 1:
            return
        _, counts = np.unique(
            np.stack([pids, camids], 1), axis=0, return_counts=True)
        short = int((counts < self.multi_shot_size).sum())
        if short:
            print_log(
                f'sysu multi-shot: {short} of {len(counts)} (identity, '
                f'camera) gallery folders hold fewer than '
                f'{self.multi_shot_size} images; every image of those '
                'folders is used in every trial.',
                logger='current',
                level=logging.INFO)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(modes={self.modes!r}, shots='
                f'{self.shots!r}, num_trials={self.num_trials}, seed='
                f'{self.seed}, multi_shot_size={self.multi_shot_size})')


@REID_PROTOCOLS.register_module(name='regdb')
class RegDBProtocol(BUPTCampusProtocol):
    """RegDB (one train/test split): visible<->thermal directions.

    The test samples are both ``is_query`` and ``is_gallery``; a direction
    picks its sides by modality:

    - ``'vis2ir'``: visible queries against the thermal gallery (AGW / CAJ
      default, CSDN ``v-t``);
    - ``'ir2vis'``: thermal queries against the visible gallery (AGW
      ``--tvsearch``, DEEN default, CSDN ``t-v``).

    No camera filtering (``eval_regdb``: every same-identity entry of the
    other modality is a positive), image-level CMC; the public code uses
    ``max_rank=20`` (set it on ``ReIDMetric``).  The 10 splits are
    separate trainings (``RegDB(trial=...)``), averaged by
    ``tools/regdb_trials.py``.

    Args:
        directions (Sequence[str]): subset of ``('vis2ir', 'ir2vis')``, in
            report order.
    """

    DIRECTIONS = ('vis2ir', 'ir2vis')
    DEFAULT_DIRECTIONS = DIRECTIONS

    def __init__(self, directions: Sequence[str] = DEFAULT_DIRECTIONS) -> None:
        self.directions = check_directions(directions, self.DIRECTIONS,
                                           'regdb')
