# Copyright (c) mmreid_text contributors. All rights reserved.
"""The BUPTCampus layout (video visible-infrared persons, aligned pairs)."""
import json
import os.path as osp
from typing import Dict, List, Optional, Tuple, Union

from .base import (FrameSpec, SyntheticLayout, check_int, pick_sorted,
                   register_layout)
from .hitsz_vcm import (IR_SPECTRA, check_choice, set_twins, set_walk_options,
                        tracklet_lengths, twins_of)

#: Camera names of the real set, in camid order (FrameSpec.cam = index + 1).
CAMERAS = ('LS3', 'G25', 'CQ1', 'W4', 'TSG1', 'TSG2')
LIST_FILES = {
    'train': 'train.txt',
    'train_auxiliary': 'train_auxiliary.txt',
    'query': 'query.txt',
    'gallery': 'gallery.txt'
}


@register_layout
class BUPTCampusLayout(SyntheticLayout):
    """``BUPTCampus/DATA/<obj4>/{RGB,IR}/<camera>/<tracklet3>/<frame4>.jpg``
    + ``data_paths.json`` + ``train.txt``, ``train_auxiliary.txt``,
    ``query.txt``, ``gallery.txt``.

    Every tracklet is a pixel-aligned visible / infrared pair (one render,
    two files), one walk past the camera (``walking_person``). Train and
    test identities are seen by ``cameras_per_id`` of the six cameras,
    auxiliary identities (the real set's single-camera ones) by one;
    ``tracklets_per_camera`` tracklets per (id, camera). The list files
    hold ``obj_id modality camera tracklet_id`` lines: ``RGB/IR`` for train
    and auxiliary tracklets; for a test id, its first camera's tracklets go
    to ``query.txt`` and the others' to ``gallery.txt``, each as one
    ``RGB`` and one ``IR`` line, so every query has a cross-modality
    positive under another camera and no query is the aligned twin of a
    gallery entry. Obj ids: train ``1..N``, auxiliary and test follow.

    ``temporal_twins`` pairs the identities of each list (train, auxiliary,
    test) as in :class:`.HITSZVCMLayout`: obj ``2k`` of a list is obj
    ``2k-1`` with the frames of every aligned pair in another order (same
    cameras; ``'reversed'`` or ``'shuffled'``).

    Args:
        num_train_ids: Identities of ``train.txt``.
        num_auxiliary_ids: Identities of ``train_auxiliary.txt``.
        num_test_ids: Identities of ``query.txt`` / ``gallery.txt``.
        cameras_per_id: Cameras that see a train / test id, 2..6.
        tracklets_per_camera: Tracklets per (id, camera).
        frames_per_tracklet: Frames of a tracklet.
        min_frames: If set, lengths are drawn in
            ``min_frames..frames_per_tracklet``.
        ir_spectrum: Rendering of the infrared camera, ``'nir'`` or
            ``'tir'``.
        temporal_twins: Temporal-twin identity pairs, ``'reversed'`` (or
            True) or ``'shuffled'`` (needs even identity counts; False by
            default, output unchanged).
        walk_speed, walk_view, walk_facing, walk_drift: The walk options of
            :class:`.HITSZVCMLayout` (defaults: output unchanged).
    """
    name = 'BUPTCampus'
    dataset_folder = 'BUPTCampus'
    loader = 'BUPTCampus'
    subject = 'walking_person'
    stream_id = 7
    default_img_size = (288, 144)
    modalities = ('vis', 'ir')
    rendered = {'vis': 'rgb', 'ir': 'nir'}
    split_folders = ('train', 'train_auxiliary', 'test')
    modality_dirs = {'vis': 'RGB', 'ir': 'IR'}
    index_files = ('data_paths.json', ) + tuple(LIST_FILES.values())

    def __init__(self,
                 num_train_ids: int = 8,
                 num_auxiliary_ids: int = 2,
                 num_test_ids: int = 6,
                 cameras_per_id: int = 3,
                 tracklets_per_camera: int = 1,
                 frames_per_tracklet: int = 12,
                 min_frames=None,
                 ir_spectrum: str = 'nir',
                 temporal_twins: Union[bool, str] = False,
                 walk_speed: float = 1.0,
                 walk_view: Optional[str] = None,
                 walk_facing: Optional[int] = None,
                 walk_drift: Optional[float] = None) -> None:
        num_train_ids = check_int('num_train_ids', num_train_ids, 1, 9998)
        num_aux = check_int('num_auxiliary_ids', num_auxiliary_ids, 0,
                            9998 - num_train_ids)
        frames = check_int('frames_per_tracklet', frames_per_tracklet, 1, 9999)
        self._set_params(
            num_train_ids=num_train_ids,
            num_auxiliary_ids=num_aux,
            num_test_ids=check_int('num_test_ids', num_test_ids, 1,
                                   9999 - num_train_ids - num_aux,
                                   'obj ids have 4 digits'),
            cameras_per_id=check_int('cameras_per_id', cameras_per_id, 2,
                                     len(CAMERAS)),
            tracklets_per_camera=check_int('tracklets_per_camera',
                                           tracklets_per_camera, 1, 999),
            frames_per_tracklet=frames,
            min_frames=None if min_frames is None else check_int(
                'min_frames', min_frames, 1, frames),
            ir_spectrum=check_choice('ir_spectrum', ir_spectrum, IR_SPECTRA))
        set_twins(
            self,
            temporal_twins,
            num_train_ids=num_train_ids,
            num_auxiliary_ids=num_aux,
            num_test_ids=self.num_test_ids)
        set_walk_options(self, walk_speed, walk_view, walk_facing, walk_drift)
        self.rendered = {'vis': 'rgb', 'ir': ir_spectrum}

    def plan(self, seed: int) -> List[FrameSpec]:
        first_aux = self.num_train_ids + 1
        first_test = first_aux + self.num_auxiliary_ids
        groups = (('train', range(1, first_aux), self.cameras_per_id),
                  ('train_auxiliary', range(first_aux, first_test), 1),
                  ('test', range(first_test, first_test + self.num_test_ids),
                   self.cameras_per_id))
        specs = []
        for folder, pids, num_cams in groups:
            partner: List[FrameSpec] = []
            for pid in pids:
                if self.temporal_twins and (pid - pids.start) % 2:
                    specs.extend(twins_of(self, seed, partner, pid))
                    continue
                first = len(specs)
                rng = self.rng(seed, 1, pid)
                cams = pick_sorted(rng, range(1, len(CAMERAS) + 1), num_cams)
                lengths = tracklet_lengths(
                    rng, num_cams * self.tracklets_per_camera,
                    self.frames_per_tracklet, self.min_frames)
                track = 0
                for rank, cam in enumerate(cams):
                    role = 'train' if folder != 'test' else (
                        'query' if rank == 0 else 'gallery')
                    for _ in range(self.tracklets_per_camera):
                        track += 1
                        specs.extend(
                            FrameSpec(
                                folder, role, pid, cam, frame, track=track)
                            for frame in range(lengths[track - 1]))
                partner = specs[first:]
        return specs

    def file_name(self, spec: FrameSpec) -> str:
        return f'{spec.index:04d}.jpg'

    @staticmethod
    def tracklet_key(spec: FrameSpec) -> Tuple[str, str, str]:
        """``(obj_id, camera, tracklet_id)`` as the list files write them."""
        return f'{spec.pid:04d}', CAMERAS[spec.cam - 1], f'{spec.track:03d}'

    def rel_paths(self, spec: FrameSpec) -> Dict[str, str]:
        obj, camera, tracklet = self.tracklet_key(spec)
        return {
            mod: f'DATA/{obj}/{sub}/{camera}/{tracklet}/{self.file_name(spec)}'
            for mod, sub in self.modality_dirs.items()
        }

    def managed_paths(self) -> Tuple[str, ...]:
        return tuple(sorted(set(super().managed_paths()) | {'DATA'}))

    def write_index(self, dataset_dir: str, specs: List[FrameSpec]) -> None:
        paths: Dict[str, dict] = {}
        lines: Dict[str, List[str]] = {role: [] for role in LIST_FILES}
        for spec in specs:
            obj, camera, tracklet = self.tracklet_key(spec)
            for mod, rel in self.rel_paths(spec).items():
                paths.setdefault(
                    obj, {}).setdefault(self.modality_dirs[mod],
                                        {}).setdefault(camera, {}).setdefault(
                                            tracklet,
                                            []).append(rel[len('DATA/'):])
            if spec.index > 0:
                continue
            role = 'train_auxiliary' if spec.folder == 'train_auxiliary' else (
                spec.role)
            if spec.role == 'train':
                lines[role].append(f'{obj} RGB/IR {camera} {tracklet}')
            else:
                lines[role] += [
                    f'{obj} RGB {camera} {tracklet}',
                    f'{obj} IR {camera} {tracklet}'
                ]
        with open(
                osp.join(dataset_dir, 'data_paths.json'), 'w',
                encoding='utf-8') as f:
            json.dump(paths, f, indent=1, sort_keys=True)
        for role, file_name in LIST_FILES.items():
            with open(
                    osp.join(dataset_dir, file_name), 'w',
                    encoding='utf-8') as f:
                f.writelines(line + '\n' for line in lines[role])
