# Copyright (c) mmreid_text contributors. All rights reserved.
"""The WMVEID863 layout (vehicles, day / night flag in the name)."""
from typing import List

from .base import (CameraPlanLayout, FrameSpec, pick_sorted, query_copy,
                   register_layout)


@register_layout
class WMVEID863Layout(CameraPlanLayout):
    """``WMVEID863/{train,query,test}/PPPP/{vis,ni,th}/
    v<C>_n<N>_s<SSS>_<IIII>.jpg``.

    ``C`` = camera 1..8, ``N`` = 1 at night (lit lamps flare in RGB),
    ``SSS`` = the session (rank of the camera for this id), ``IIII`` =
    index. Train pids 1..N, test pids follow. The query files are byte
    copies of the first frame of the first ``queries_per_id`` cameras of
    every test id.
    """

    name = 'WMVEID863'
    dataset_folder = 'WMVEID863'
    loader = 'WMVEID863'
    subject = 'vehicle'
    stream_id = 4
    default_img_size = (128, 256)
    split_folders = ('train', 'query', 'test')
    modality_dirs = dict(rgb='vis', nir='ni', tir='th')
    path_template = '{folder}/{pid:04d}/{modality_dir}/{name}'

    max_train_ids = 4999
    max_test_ids = 9999
    max_images = 9999
    test_pids_follow_train = True
    default_queries_per_id = 1
    default_night_fraction = 0.3

    def plan(self, seed: int) -> List[FrameSpec]:
        train = list(range(1, self.num_train_ids + 1))
        test = [self.num_train_ids + 1 + i for i in range(self.num_test_ids)]
        specs, queries = [], []
        for pids, folder, role in ((train, 'train', 'train'), (test, 'test',
                                                               'gallery')):
            for pid in pids:
                rng = self.rng(seed, pid)
                cams = pick_sorted(rng, range(1, 9), self.cameras_per_id)
                index = 1
                for session, cam in enumerate(cams, start=1):
                    night = bool(rng.random() < self.night_fraction)
                    for frame in range(self.images_per_camera):
                        spec = FrameSpec(
                            folder,
                            role,
                            pid,
                            cam,
                            index,
                            scene=session,
                            night=night)
                        specs.append(spec)
                        index += 1
                        if (role == 'gallery' and frame == 0
                                and session <= self.queries_per_id):
                            queries.append(query_copy(spec, 'query'))
        return specs + queries

    def file_name(self, spec: FrameSpec) -> str:
        return (f'v{spec.cam}_n{int(spec.night)}_s{spec.scene:03d}_'
                f'{spec.index:04d}.jpg')
