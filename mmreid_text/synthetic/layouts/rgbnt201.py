# Copyright (c) mmreid_text contributors. All rights reserved.
"""The RGBNT201 layout (persons)."""
from typing import List

import numpy as np

from .base import FrameSpec, SyntheticLayout, check_int, register_layout


@register_layout
class RGBNT201Layout(SyntheticLayout):
    """``RGBNT201/{train_171,test}/{RGB,NI,TI}/PPPPPP_camC_0_FF.jpg``.

    Like the real benchmark: train ids are seen by cameras 1-4, test ids by
    cameras 1 and 2 only (each test id by both), train and test ids are
    disjoint, and test pids continue after the train pids (raw, never
    relabelled). ``FF`` is a frame index in 00..29, distinct per
    (id, camera). Pids start at 1. The test split is query and gallery.

    Args:
        num_train_ids: Identities in ``train_171``.
        num_test_ids: Identities in ``test``.
        images_per_camera: Frames per (identity, camera), 1..30.
    """
    name = 'RGBNT201'
    dataset_folder = 'RGBNT201'
    loader = 'RGBNT201'
    subject = 'person'
    stream_id = 1
    default_img_size = (256, 128)
    split_folders = ('train_171', 'test')
    modality_dirs = {'rgb': 'RGB', 'nir': 'NI', 'tir': 'TI'}
    split_cameras = {'train_171': (1, 2, 3, 4), 'test': (1, 2)}
    max_frames = 30

    def __init__(self,
                 num_train_ids: int = 60,
                 num_test_ids: int = 20,
                 images_per_camera: int = 4) -> None:
        num_train_ids = check_int('num_train_ids', num_train_ids, 1, 999998)
        self._set_params(
            num_train_ids=num_train_ids,
            num_test_ids=check_int(
                'num_test_ids',
                num_test_ids,
                1,
                999999 - num_train_ids,
                hint='RGBNT201 pids have 6 digits.'),
            images_per_camera=check_int(
                'images_per_camera',
                images_per_camera,
                1,
                self.max_frames,
                hint='RGBNT201 file names hold a frame index 00..29, so at '
                'most 30 images per (identity, camera) are possible.'))

    def split_pids(self, split: str) -> List[int]:
        """Raw pids of a split (train 1..N, test N+1..N+M)."""
        if split == 'train_171':
            return list(range(1, self.num_train_ids + 1))
        if split == 'test':
            first = self.num_train_ids + 1
            return list(range(first, first + self.num_test_ids))
        raise KeyError(f'RGBNT201 has no split {split!r}; splits are '
                       f'{self.split_folders}.')

    def plan(self, seed: int) -> List[FrameSpec]:
        specs = []
        for split in self.split_folders:
            role = 'train' if split == 'train_171' else 'test'
            for pid in self.split_pids(split):
                for cam in self.split_cameras[split]:
                    frames = np.sort(
                        self.rng(seed, pid, cam).choice(
                            self.max_frames,
                            self.images_per_camera,
                            replace=False))
                    specs.extend(
                        FrameSpec(split, role, pid, cam, int(frame))
                        for frame in frames)
        return specs

    def file_name(self, spec: FrameSpec) -> str:
        """``PPPPPP_camC_0_FF.jpg`` (20 characters)."""
        return f'{spec.pid:06d}_cam{spec.cam}_0_{spec.index:02d}.jpg'
