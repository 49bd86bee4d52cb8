# Copyright (c) mmreid_text contributors. All rights reserved.
"""The SYSU-MM01 layout (visible-infrared person images)."""
import os
import os.path as osp
from typing import Dict, List, Tuple

import numpy as np

from .base import (FrameSpec, SyntheticLayout, check_int, pick_sorted,
                   register_layout)
from .hitsz_vcm import IR_SPECTRA, check_choice

RGB_CAMERAS = (1, 2, 4, 5)
IR_CAMERAS = (3, 6)
#: exp/ id file -> caption group of its ids.
ID_FILES = dict(train_id='train', val_id='train', test_id='test')


@register_layout
class SYSUMM01Layout(SyntheticLayout):
    """``SYSU-MM01/cam1..cam6/<pid4>/<img4>.jpg`` +
    ``exp/{available,train,val,test}_id.txt``.

    RGB cameras 1, 2, 4, 5 (daylight scenes) and infrared cameras 3, 6
    (dark scenes, ``night``; rendered as ``ir_spectrum``, by default NIR:
    SYSU's IR cameras are near-infrared, so the images are grey with
    colours lost and shapes and patterns kept). Each identity is seen by
    ``rgb_cameras_per_id`` of the four RGB cameras and ``ir_cameras_per_id``
    of the two IR ones (drawn per id, so some ids are missing from some
    cameras, as in the real set; with 3 or more RGB cameras every id has an
    indoor one, cam1 or cam2), with ``images_per_camera`` images each,
    named ``0001.jpg``, ``0002.jpg``... The ids ``1..N`` (N = training +
    test ids) are assigned to the three id files at random (interleaved
    like the real lists); every file holds one line of comma-separated
    ids.

    Captions (the per-image ground truth, no colour words for IR) go to
    ``captions/train.json`` (train and val ids: the training split) and
    ``captions/test.json``.

    Args:
        num_train_ids: Ids of the training split, ``train_id.txt`` and
            ``val_id.txt`` together (the real set: 395).
        num_val_ids: How many of them are in ``val_id.txt`` (at least one,
            and at least one stays in ``train_id.txt``).
        num_test_ids: Ids of ``test_id.txt``.
        rgb_cameras_per_id: RGB cameras per id, 1..4.
        ir_cameras_per_id: IR cameras per id, 1..2.
        images_per_camera: Images per (id, camera).
        ir_spectrum: ``'nir'`` (default) or ``'tir'``.
    """
    name = 'SYSUMM01'
    dataset_folder = 'SYSU-MM01'
    loader = 'SYSUMM01'
    subject = 'person'
    stream_id = 8
    default_img_size = (288, 144)
    modalities = ('vis', 'ir')
    rendered = {'vis': 'rgb', 'ir': 'nir'}
    split_folders = ('train', 'test')
    index_files = ('exp/available_id.txt', 'exp/train_id.txt',
                   'exp/val_id.txt', 'exp/test_id.txt')
    _plan_seed = None

    def __init__(self,
                 num_train_ids: int = 8,
                 num_val_ids: int = 2,
                 num_test_ids: int = 4,
                 rgb_cameras_per_id: int = 3,
                 ir_cameras_per_id: int = 2,
                 images_per_camera: int = 2,
                 ir_spectrum: str = 'nir') -> None:
        num_train_ids = check_int('num_train_ids', num_train_ids, 2, 9998)
        self._set_params(
            num_train_ids=num_train_ids,
            num_val_ids=check_int(
                'num_val_ids', num_val_ids, 1, num_train_ids - 1,
                'val_id.txt holds some of the training ids, train_id.txt '
                'the others; neither may be empty.'),
            num_test_ids=check_int('num_test_ids', num_test_ids, 1,
                                   9999 - num_train_ids,
                                   'SYSU-MM01 ids have 4 digits.'),
            rgb_cameras_per_id=check_int('rgb_cameras_per_id',
                                         rgb_cameras_per_id, 1,
                                         len(RGB_CAMERAS)),
            ir_cameras_per_id=check_int('ir_cameras_per_id', ir_cameras_per_id,
                                        1, len(IR_CAMERAS)),
            images_per_camera=check_int('images_per_camera', images_per_camera,
                                        1, 9999),
            ir_spectrum=check_choice('ir_spectrum', ir_spectrum, IR_SPECTRA))
        self.rendered = {'vis': 'rgb', 'ir': ir_spectrum}

    def id_files(self, seed: int) -> Dict[str, List[int]]:
        """``{'train_id': ids, 'val_id': ids, 'test_id': ids}`` (sorted)."""
        counts = (self.num_train_ids - self.num_val_ids, self.num_val_ids,
                  self.num_test_ids)
        order = self.rng(seed, 0).permutation(sum(counts)) + 1
        bounds = np.cumsum((0, ) + counts)
        return {
            name: sorted(int(v) for v in order[bounds[i]:bounds[i + 1]])
            for i, name in enumerate(ID_FILES)
        }

    @staticmethod
    def modality_of(cam: int) -> str:
        return 'ir' if cam in IR_CAMERAS else 'vis'

    def plan(self, seed: int) -> List[FrameSpec]:
        # write_index gets the plan only: it splits train / val ids again
        self._plan_seed = seed
        groups = {'train': [], 'test': []}
        for name, ids in self.id_files(seed).items():
            groups[ID_FILES[name]] += ids
        specs = []
        for folder, ids in groups.items():
            for pid in sorted(ids):
                rng = self.rng(seed, 1, pid)
                cams = sorted(
                    pick_sorted(rng, RGB_CAMERAS, self.rgb_cameras_per_id) +
                    pick_sorted(rng, IR_CAMERAS, self.ir_cameras_per_id))
                for cam in cams:
                    infrared = cam in IR_CAMERAS
                    role = 'train' if folder == 'train' else (
                        'query' if infrared else 'gallery')
                    specs.extend(
                        FrameSpec(folder, role, pid, cam, i, night=infrared)
                        for i in range(self.images_per_camera))
        return specs

    def file_name(self, spec: FrameSpec) -> str:
        return f'{spec.index + 1:04d}.jpg'

    def rel_paths(self, spec: FrameSpec) -> Dict[str, str]:
        return {
            self.modality_of(spec.cam):
            f'cam{spec.cam}/{spec.pid:04d}/{self.file_name(spec)}'
        }

    def managed_paths(self) -> Tuple[str, ...]:
        cams = tuple(f'cam{c}' for c in sorted(RGB_CAMERAS + IR_CAMERAS))
        return cams + ('captions', 'exp')

    def write_index(self, dataset_dir: str, specs: List[FrameSpec]) -> None:
        exp = osp.join(dataset_dir, 'exp')
        os.makedirs(exp, exist_ok=True)
        if self._plan_seed is None:
            raise RuntimeError('SYSUMM01 layout: call plan() before '
                               'write_index().')
        files = self.id_files(self._plan_seed)
        files['available_id'] = sorted(v for ids in files.values()
                                       for v in ids)
        for name, ids in files.items():
            with open(osp.join(exp, f'{name}.txt'), 'w') as f:
                f.write(','.join(str(v) for v in ids) + '\n')
