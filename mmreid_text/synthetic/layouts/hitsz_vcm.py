# Copyright (c) mmreid_text contributors. All rights reserved.
"""The HITSZ-VCM layout (video visible-infrared persons)."""
import os
import os.path as osp
from itertools import groupby
from typing import Dict, List, Optional, Tuple, Union

from ..person.pose import VIEWS as WALK_VIEWS
from .base import (TWIN_ORDERS, FrameSpec, SyntheticLayout, check_int,
                   check_twin_counts, pick_sorted, register_layout,
                   twin_tracklets)

#: ``ir_spectrum`` values: what the infrared camera shows.
IR_SPECTRA = ('nir', 'tir')


def check_choice(name: str, value: str, choices: Tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else ``ValueError``."""
    if value not in choices:
        raise ValueError(f'{name} must be one of {choices}, got {value!r}.')
    return value


def set_twins(layout: SyntheticLayout, temporal_twins: Union[bool, str],
              **counts: int) -> None:
    """Check and store the ``temporal_twins`` option of a video layout
    (``False``, ``'reversed'`` (or ``True``) or ``'shuffled'``) as the twin
    frame order or None; it enters the manifest only when on (default
    output unchanged)."""
    if temporal_twins is True:
        temporal_twins = 'reversed'
    if temporal_twins is not False and temporal_twins not in TWIN_ORDERS:
        raise ValueError('temporal_twins must be False, True (= '
                         f"'reversed') or one of {TWIN_ORDERS}, got "
                         f'{temporal_twins!r}.')
    if temporal_twins:
        check_twin_counts(**counts)
        layout._params['temporal_twins'] = temporal_twins
    layout.temporal_twins = temporal_twins or None


#: The walk options of the video layouts and their defaults (the walk as
#: drawn; a set made with them equals one made without the options).
WALK_DEFAULTS = dict(
    walk_speed=1.0, walk_view=None, walk_facing=None, walk_drift=None)


def set_walk_options(layout: SyntheticLayout,
                     walk_speed: float = 1.0,
                     walk_view: Optional[str] = None,
                     walk_facing: Optional[int] = None,
                     walk_drift: Optional[float] = None) -> None:
    """Check and store the walk options of a video layout: ``walk_speed``
    (a factor > 0 on the motion between frames), ``walk_view`` (one view
    for every walk), ``walk_facing`` (``1`` / ``-1`` for every walk) and
    ``walk_drift`` (body drift per frame, a fraction of the width in
    ``(0, 0.4]``, for every walk).
    Each enters the manifest only when it is not the default (default
    output unchanged)."""
    walk_speed = float(walk_speed)
    if not 0 < walk_speed <= 10:
        raise ValueError(f'walk_speed must lie in (0, 10], got {walk_speed}.')
    if walk_view is not None and walk_view not in WALK_VIEWS:
        raise ValueError(f'walk_view must be None or one of {WALK_VIEWS}, '
                         f'got {walk_view!r}.')
    if walk_facing not in (None, 1, -1):
        raise ValueError('walk_facing must be None, 1 (right) or -1 (left), '
                         f'got {walk_facing!r}.')
    walk_facing = None if walk_facing is None else int(walk_facing)
    if walk_drift is not None:
        walk_drift = float(walk_drift)
        if not 0 < walk_drift <= 0.4:
            raise ValueError('walk_drift must be None or lie in (0, 0.4] '
                             '(body drift per frame, a fraction of the '
                             f'frame width), got {walk_drift}.')
    given = dict(
        walk_speed=walk_speed,
        walk_view=walk_view,
        walk_facing=walk_facing,
        walk_drift=walk_drift)
    options = {k: v for k, v in given.items() if v != WALK_DEFAULTS[k]}
    layout._params.update(options)
    layout.subject_options = options


def twins_of(layout: SyntheticLayout, seed: int, partner, pid: int):
    """The twin tracklets of identity ``pid`` (the second of its pair)."""
    return twin_tracklets(partner, pid, layout.temporal_twins,
                          layout.rng(seed, 2, pid))


def tracklet_lengths(rng, count: int, frames: int, min_frames) -> List[int]:
    """``count`` lengths: all ``frames``, or drawn in
    ``min_frames..frames``."""
    if min_frames is None or min_frames == frames:
        return [frames] * count
    return [int(n) for n in rng.integers(min_frames, frames + 1, count)]


@register_layout
class HITSZVCMLayout(SyntheticLayout):
    """``HITSZ-VCM/info/*.txt`` + ``Train|Test/<pid4>/{rgb,ir}/D<k>/<file>``
    (``folder_variant='split'``, VLD's) or ``<pid4>/{rgb,ir}/D<k>/<file>``
    (``'flat'``, MITML's).

    Cameras ``D1..D6`` record visible light by day and infrared by night
    (the same ``camid`` in both modalities, so the ``vcm`` protocol's
    same-pid-same-camera rule removes cross-modality pairs). Each identity
    is seen by ``cameras_per_id`` cameras, with ``tracklets_per_modality``
    visible tracklets (tracks ``1..K``, cameras in turn) and as many
    infrared ones (tracks ``K+1..2K``, cameras in turn starting at the
    second), so every infrared tracklet has a visible one of its identity
    under another camera and the other way round. A tracklet is one walk
    past the camera (``walking_person``): the body drifts, the background
    pans, the gait phase advances and the person grows (walking towards the
    camera) or shrinks. Train pids are ``1..N``, test pids follow.

    With ``temporal_twins`` the identities of each split come in pairs
    ``(2k-1, 2k)`` (counted within the split) that only temporal modelling
    can tell apart: every tracklet of the second is a byte copy of its
    partner's tracklet (same camera, modality and track number) with the
    frames in another order (:func:`.base.twin_tracklets`):
    ``'reversed'`` (walking backwards: body drift and background pan
    against the facing direction, front views shrinking) or
    ``'shuffled'`` (a scrambled walk: position, pan and scale jump back
    and forth). Per tracklet both twins have the same set of frames, so any
    function of the set of frames (a per-frame model followed by temporal
    pooling) gives them the same feature; the frame order is the only
    identity cue between them.

    Frame names are ``<pid4>M<1 IR | 2 RGB>D<k>T<track4>F<file>`` with
    ``<file> = <track3><frame3>.jpg`` (unique in its folder). The name
    lists hold the frames tracklet after tracklet; ``track_*_info.txt`` has
    ``modality start end pid camid`` (1-based, inclusive); ``query_IDX.txt``
    lists the (1-based) rows of the infrared test tracklets on one line.

    Args:
        num_train_ids: Identities in the train split.
        num_test_ids: Identities in the test split.
        cameras_per_id: Cameras (of 6) that see an identity, 2..6.
        tracklets_per_modality: Visible (and infrared) tracklets per id.
        frames_per_tracklet: Frames of a tracklet (the real set has 24).
        min_frames: If set, tracklet lengths are drawn in
            ``min_frames..frames_per_tracklet`` (below 12 the loader drops
            them by default).
        folder_variant: ``'split'`` or ``'flat'``.
        ir_spectrum: Rendering of the infrared camera, ``'nir'`` (HITSZ-VCM's
            night cameras are near-infrared) or ``'tir'``.
        temporal_twins: Pair the identities of each split as temporal
            twins, ``'reversed'`` (or True) or ``'shuffled'`` (needs even
            ``num_train_ids`` and ``num_test_ids``). False by default (the
            manifest then has no such key and the output is unchanged).
        walk_speed: Factor on the motion between frames (body drift,
            background pan, scale change; default 1.0, output unchanged):
            a stronger temporal cue for small frames, e.g. to probe
            temporal modelling with ``temporal_twins``.
        walk_view: One view (``'front'``, ``'back'``, ``'side'``) for
            every walk instead of one drawn per tracklet (default None).
        walk_facing: ``1`` (right) or ``-1`` (left) for every walk instead
            of one drawn per tracklet (default None). With ``'side'`` and
            ``temporal_twins``, "moving right" vs "moving left" separates
            the twins without depending on the facing of each tracklet.
        walk_drift: Body drift per frame as a fraction of the frame width,
            in the facing direction, for every walk instead of the drawn
            one (default None); the body then starts at the entry edge
            of its band (``0.3 w`` / ``0.7 w``) and crosses the crop,
            e.g. ``0.4 / 23`` crosses the whole band in 24 frames.
    """
    name = 'HITSZVCM'
    dataset_folder = 'HITSZ-VCM'
    loader = 'HITSZVCM'
    subject = 'walking_person'
    stream_id = 6
    default_img_size = (288, 144)
    modalities = ('vis', 'ir')
    rendered = {'vis': 'rgb', 'ir': 'nir'}
    split_folders = ('Train', 'Test')
    modality_dirs = {'vis': 'rgb', 'ir': 'ir'}
    modality_codes = {'vis': 2, 'ir': 1}
    index_files = ('info/train_name.txt', 'info/track_train_info.txt',
                   'info/test_name.txt', 'info/track_test_info.txt',
                   'info/query_IDX.txt')
    num_cameras = 6

    def __init__(self,
                 num_train_ids: int = 8,
                 num_test_ids: int = 6,
                 cameras_per_id: int = 2,
                 tracklets_per_modality: int = 2,
                 frames_per_tracklet: int = 24,
                 min_frames=None,
                 folder_variant: str = 'split',
                 ir_spectrum: str = 'nir',
                 temporal_twins: Union[bool, str] = False,
                 walk_speed: float = 1.0,
                 walk_view: Optional[str] = None,
                 walk_facing: Optional[int] = None,
                 walk_drift: Optional[float] = None) -> None:
        num_train_ids = check_int('num_train_ids', num_train_ids, 1, 9998)
        frames = check_int('frames_per_tracklet', frames_per_tracklet, 1, 999)
        self._set_params(
            num_train_ids=num_train_ids,
            num_test_ids=check_int('num_test_ids', num_test_ids, 1,
                                   9999 - num_train_ids, 'pids have 4 digits'),
            cameras_per_id=check_int('cameras_per_id', cameras_per_id, 2,
                                     self.num_cameras),
            tracklets_per_modality=check_int('tracklets_per_modality',
                                             tracklets_per_modality, 1, 499),
            frames_per_tracklet=frames,
            min_frames=None if min_frames is None else check_int(
                'min_frames', min_frames, 1, frames),
            folder_variant=check_choice('folder_variant', folder_variant,
                                        ('split', 'flat')),
            ir_spectrum=check_choice('ir_spectrum', ir_spectrum, IR_SPECTRA))
        set_twins(
            self,
            temporal_twins,
            num_train_ids=self.num_train_ids,
            num_test_ids=self.num_test_ids)
        set_walk_options(self, walk_speed, walk_view, walk_facing, walk_drift)
        self.rendered = {'vis': 'rgb', 'ir': ir_spectrum}
        self.path_template = ('{folder}/' if folder_variant == 'split' else
                              '') + '{pid:04d}/{modality_dir}/D{cam}/{name}'

    def split_pids(self) -> Dict[str, range]:
        first_test = self.num_train_ids + 1
        return {
            'Train': range(1, first_test),
            'Test': range(first_test, first_test + self.num_test_ids)
        }

    def modality_of(self, spec: FrameSpec) -> str:
        """``'vis'`` for tracks ``1..K``, ``'ir'`` for ``K+1..2K``."""
        return 'vis' if spec.track <= self.tracklets_per_modality else 'ir'

    def plan(self, seed: int) -> List[FrameSpec]:
        specs = []
        k = self.tracklets_per_modality
        for folder, pids in self.split_pids().items():
            partner: List[FrameSpec] = []
            for pid in pids:
                if self.temporal_twins and (pid - pids.start) % 2:
                    specs.extend(twins_of(self, seed, partner, pid))
                    continue
                first = len(specs)
                rng = self.rng(seed, 1, pid)
                cams = pick_sorted(rng, range(1, self.num_cameras + 1),
                                   self.cameras_per_id)
                lengths = tracklet_lengths(rng, 2 * k,
                                           self.frames_per_tracklet,
                                           self.min_frames)
                for track in range(1, 2 * k + 1):
                    infrared = track > k
                    # IR track i under camera i, visible track i under i-1
                    cam = cams[(track - k if infrared else track - 1) %
                               len(cams)]
                    role = 'train' if folder == 'Train' else (
                        'query' if infrared else 'gallery')
                    specs.extend(
                        FrameSpec(
                            folder,
                            role,
                            pid,
                            cam,
                            frame,
                            track=track,
                            night=infrared)
                        for frame in range(lengths[track - 1]))
                partner = specs[first:]
        return specs

    def file_name(self, spec: FrameSpec) -> str:
        return f'{spec.track:03d}{spec.index + 1:03d}.jpg'

    def frame_name(self, spec: FrameSpec) -> str:
        """The name written in ``*_name.txt``."""
        code = self.modality_codes[self.modality_of(spec)]
        return (f'{spec.pid:04d}M{code}D{spec.cam}T{spec.track:04d}'
                f'F{self.file_name(spec)}')

    def rel_paths(self, spec: FrameSpec) -> Dict[str, str]:
        mod = self.modality_of(spec)
        return {mod: super().rel_paths(spec)[mod]}

    def managed_paths(self) -> Tuple[str, ...]:
        tops = super().managed_paths()
        if self.folder_variant == 'flat':
            tops += tuple(f'{pid:04d}' for pids in self.split_pids().values()
                          for pid in pids)
        return tops

    def write_index(self, dataset_dir: str, specs: List[FrameSpec]) -> None:
        info = osp.join(dataset_dir, 'info')
        os.makedirs(info, exist_ok=True)
        for folder, split in (('Train', 'train'), ('Test', 'test')):
            frames = [s for s in specs if s.folder == folder]
            rows, start = [], 1
            for (pid, track), group in groupby(frames, lambda s:
                                               (s.pid, s.track)):
                group = list(group)
                code = self.modality_codes[self.modality_of(group[0])]
                end = start + len(group) - 1
                rows.append(f'{code} {start} {end} {pid} {group[0].cam}')
                start = end + 1
            self._write(info, f'{split}_name.txt',
                        [self.frame_name(s) for s in frames])
            self._write(info, f'track_{split}_info.txt', rows)
            if split == 'test':
                queries = [
                    str(i) for i, row in enumerate(rows, 1)
                    if row.startswith(f'{self.modality_codes["ir"]} ')
                ]
                self._write(info, 'query_IDX.txt', [' '.join(queries)])

    @staticmethod
    def _write(folder: str, name: str, lines: List[str]) -> None:
        with open(osp.join(folder, name), 'w', encoding='utf-8') as f:
            f.writelines(line + '\n' for line in lines)
