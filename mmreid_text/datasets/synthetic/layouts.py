# Copyright (c) mmreid_text contributors. All rights reserved.
"""On-disk layouts of benchmarks, reproduced for synthetic data.

A layout decides which identities appear under which cameras in which split,
how files are named and where they are written.  It knows nothing about
rendering.  Only RGBNT201 is implemented; further layouts (RGBNT100's
concatenated 768x128 images, MSVR310, WMVEID863, Market-MM, video sets)
implement the same three methods: ``plan``, ``write`` and
``caption_file``.
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image

#: JPEG settings; fixed so that the same seed gives byte-identical files.
JPEG_QUALITY = 90
JPEG_SUBSAMPLING = 0  # 4:4:4, keeps grey images exactly grey


@dataclass(frozen=True)
class SampleSpec:
    """One frame to render: identity ``pid`` under camera ``cam``."""
    split: str
    pid: int
    cam: int
    frame: int


def save_jpeg(path: str, image: np.ndarray) -> None:
    """Write a ``[H, W, 3]`` uint8 array as a deterministic JPEG."""
    Image.fromarray(
        image, mode='RGB').save(
            path,
            format='JPEG',
            quality=JPEG_QUALITY,
            subsampling=JPEG_SUBSAMPLING,
            optimize=False)


class RGBNT201Layout:
    """``RGBNT201/{train_171,test}/{RGB,NI,TI}/PPPPPP_camC_0_FF.jpg``.

    Like the real benchmark: train ids are seen by cameras 1-4, test ids by
    cameras 1 and 2 only (each test id by both), train and test ids are
    disjoint, and test pids continue after the train pids (raw, never
    relabelled).  ``FF`` is a frame index in 00..29, distinct per
    (id, camera).  Pids start at 1.

    Args:
        num_train_ids: Identities in ``train_171``.
        num_test_ids: Identities in ``test`` (query = gallery).
        images_per_camera: Frames per (identity, camera), 1..30.
    """
    name = 'RGBNT201'
    modality_dirs = {'rgb': 'RGB', 'nir': 'NI', 'tir': 'TI'}
    train_split = 'train_171'
    test_split = 'test'
    split_cameras = {'train_171': (1, 2, 3, 4), 'test': (1, 2)}
    max_frames = 30

    def __init__(self, num_train_ids: int, num_test_ids: int,
                 images_per_camera: int) -> None:
        counts = dict(
            num_train_ids=num_train_ids,
            num_test_ids=num_test_ids,
            images_per_camera=images_per_camera)
        for key, value in counts.items():
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f'{key} must be an integer >= 1, got '
                                 f'{value!r}.')
        if images_per_camera > self.max_frames:
            raise ValueError(
                f'images_per_camera={images_per_camera} is too large: '
                f'RGBNT201 file names hold a frame index 00..'
                f'{self.max_frames - 1}, so at most {self.max_frames} '
                'images per (identity, camera) are possible.')
        if num_train_ids + num_test_ids > 999999:
            raise ValueError('RGBNT201 pids have 6 digits; use fewer than '
                             '1,000,000 identities in total.')
        self.num_train_ids = int(num_train_ids)
        self.num_test_ids = int(num_test_ids)
        self.images_per_camera = int(images_per_camera)

    @property
    def splits(self) -> Tuple[str, ...]:
        return (self.train_split, self.test_split)

    @property
    def cameras(self) -> Tuple[int, ...]:
        cameras = set()
        for split_cameras in self.split_cameras.values():
            cameras.update(split_cameras)
        return tuple(sorted(cameras))

    def split_pids(self, split: str) -> List[int]:
        """Raw pids of a split (train 1..N, test N+1..N+M)."""
        if split == self.train_split:
            return list(range(1, self.num_train_ids + 1))
        if split == self.test_split:
            first = self.num_train_ids + 1
            return list(range(first, first + self.num_test_ids))
        raise KeyError(f'RGBNT201 has no split {split!r}; splits are '
                       f'{self.splits}.')

    def plan(self, frame_rng) -> List[SampleSpec]:
        """All frames to render, in file-name order.

        Args:
            frame_rng: ``callable(pid, cam) -> np.random.Generator`` used to
                pick the frame indices of each (identity, camera).
        """
        specs = []
        for split in self.splits:
            for pid in self.split_pids(split):
                for cam in self.split_cameras[split]:
                    rng = frame_rng(pid, cam)
                    frames = np.sort(
                        rng.choice(
                            self.max_frames,
                            self.images_per_camera,
                            replace=False))
                    specs.extend(
                        SampleSpec(split, pid, cam, int(f)) for f in frames)
        return specs

    @staticmethod
    def file_name(pid: int, cam: int, frame: int) -> str:
        """``PPPPPP_camC_0_FF.jpg`` (20 characters)."""
        return f'{pid:06d}_cam{cam}_0_{frame:02d}.jpg'

    def rel_paths(self, spec: SampleSpec) -> Dict[str, str]:
        """Modality -> path relative to the dataset folder."""
        name = self.file_name(spec.pid, spec.cam, spec.frame)
        return {
            mod: f'{spec.split}/{folder}/{name}'
            for mod, folder in self.modality_dirs.items()
        }

    def make_dirs(self, dataset_dir: str) -> None:
        for split in self.splits:
            for folder in self.modality_dirs.values():
                os.makedirs(
                    osp.join(dataset_dir, split, folder), exist_ok=True)

    def write(self, dataset_dir: str, spec: SampleSpec,
              images: Dict[str, np.ndarray]) -> Dict[str, Sequence[str]]:
        """Save one frame; return ``{rel_path: modalities in that file}``.
        """
        written = {}
        for mod, rel_path in self.rel_paths(spec).items():
            save_jpeg(osp.join(dataset_dir, rel_path), images[mod])
            written[rel_path] = (mod, )
        return written

    def caption_file(self, split: str) -> str:
        """Caption file path relative to the dataset folder."""
        return f'captions/{split}.json'

    def managed_paths(self) -> Tuple[str, ...]:
        """Top-level entries of the dataset folder that the generator owns.
        """
        return self.splits + ('captions', )

    def params(self) -> Dict[str, int]:
        return {
            'num_train_ids': self.num_train_ids,
            'num_test_ids': self.num_test_ids,
            'images_per_camera': self.images_per_camera,
        }
