# Copyright (c) mmreid_text contributors. All rights reserved.
"""The Market1501-MM layout (persons, distractors and junk)."""
from typing import List

from .base import (FrameSpec, SyntheticLayout, check_int, pick_sorted,
                   register_layout)


@register_layout
class MarketMMLayout(SyntheticLayout):
    """``Market1501-MM/{train,query,gallery}/{RGB,NI,TI}/
    PPPP_cCsS_FFFFFF_NN.jpg`` (persons, cameras 1..6).

    Train pids 1..N, test pids follow. Each test id has one query image
    (its first camera) rendered apart from its gallery images, as in
    Market-1501. The gallery also holds ``num_distractors`` images of
    other people under pid 0 and ``num_junk`` background-only crops under
    pid -1 (skipped by the loader).
    """

    name = 'MarketMM'
    dataset_folder = 'Market1501-MM'
    loader = 'MarketMM'
    subject = 'person'
    stream_id = 5
    default_img_size = (128, 64)
    split_folders = ('train', 'query', 'gallery')
    modality_dirs = dict(rgb='RGB', nir='NI', tir='TI')

    def __init__(self,
                 num_train_ids: int = 16,
                 num_test_ids: int = 8,
                 cameras_per_id: int = 3,
                 images_per_camera: int = 2,
                 num_distractors: int = 4,
                 num_junk: int = 2) -> None:
        num_train_ids = check_int('num_train_ids', num_train_ids, 1, 4999)
        self._set_params(
            num_train_ids=num_train_ids,
            num_test_ids=check_int('num_test_ids', num_test_ids, 1,
                                   9999 - num_train_ids),
            cameras_per_id=check_int('cameras_per_id', cameras_per_id, 2, 6),
            images_per_camera=check_int('images_per_camera', images_per_camera,
                                        1, 1000),
            num_distractors=check_int('num_distractors', num_distractors, 0,
                                      10**5),
            num_junk=check_int('num_junk', num_junk, 0, 10**5))

    def plan(self, seed: int) -> List[FrameSpec]:
        train = list(range(1, self.num_train_ids + 1))
        test = [self.num_train_ids + 1 + i for i in range(self.num_test_ids)]
        specs = []
        for pids, folder, role in ((train, 'train', 'train'), (test, 'gallery',
                                                               'gallery')):
            for pid in pids:
                cams = pick_sorted(
                    self.rng(seed, pid), range(1, 7), self.cameras_per_id)
                index = 0
                if role == 'gallery':
                    specs.append(FrameSpec('query', 'query', pid, cams[0], 0))
                    index += 1
                for cam in cams:
                    for _ in range(self.images_per_camera):
                        specs.append(FrameSpec(folder, role, pid, cam, index))
                        index += 1
        rng = self.rng(seed, 0)
        for k in range(self.num_distractors):
            specs.append(
                FrameSpec(
                    'gallery',
                    'gallery',
                    0,
                    int(rng.integers(1, 7)),
                    k,
                    render_id=100000 + k))
        for k in range(self.num_junk):
            specs.append(
                FrameSpec(
                    'gallery',
                    'gallery',
                    -1,
                    int(rng.integers(1, 7)),
                    k,
                    render_id=-1))
        return specs

    def file_name(self, spec: FrameSpec) -> str:
        frame = 25 * spec.index + 1
        pid = '-1' if spec.pid < 0 else f'{spec.pid:04d}'
        return f'{pid}_c{spec.cam}s1_{frame:06d}_01.jpg'
