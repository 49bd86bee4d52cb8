# Copyright (c) mmreid_text contributors. All rights reserved.
"""The RGBNT100 layout (vehicles, one tiled file per sample)."""
from typing import List

from .base import (CameraPlanLayout, FrameSpec, pick_sorted, query_copy,
                   register_layout)


@register_layout
class RGBNT100Layout(CameraPlanLayout):
    """``RGBNT100/rgbir/{bounding_box_train,query,bounding_box_test}/
    PPPP_cCCCC_III.jpg``, one ``H x 3W`` image = RGB | NIR | TIR.

    Train pids are odd (501, 503, ...), test pids even (502, ...) as in the
    real set; each identity is seen by ``cameras_per_id`` of the cameras
    1..8; the query files are byte copies of gallery files (the first
    frame of the first ``queries_per_id`` cameras of each test id).
    """

    name = 'RGBNT100'
    dataset_folder = 'RGBNT100'
    loader = 'RGBNT100'
    subject = 'vehicle'
    stream_id = 2
    default_img_size = (128, 256)
    split_folders = ('rgbir/bounding_box_train', 'rgbir/query',
                     'rgbir/bounding_box_test')
    path_template = '{folder}/{name}'  # the three modalities share a file

    max_train_ids = 4000
    max_test_ids = 4000
    max_images = 999
    default_queries_per_id = 2
    default_night_fraction = 0.1

    def plan(self, seed: int) -> List[FrameSpec]:
        train = [501 + 2 * i for i in range(self.num_train_ids)]
        test = [502 + 2 * i for i in range(self.num_test_ids)]
        specs, queries = [], []
        for pids, folder, role in ((train, 'rgbir/bounding_box_train',
                                    'train'), (test, 'rgbir/bounding_box_test',
                                               'gallery')):
            for pid in pids:
                rng = self.rng(seed, pid)
                cams = pick_sorted(rng, range(1, 9), self.cameras_per_id)
                index = 0
                for cam_rank, cam in enumerate(cams):
                    for frame in range(self.images_per_camera):
                        night = bool(rng.random() < self.night_fraction)
                        spec = FrameSpec(
                            folder, role, pid, cam, index, night=night)
                        specs.append(spec)
                        index += 1
                        if (role == 'gallery' and frame == 0
                                and cam_rank < self.queries_per_id):
                            queries.append(query_copy(spec, 'rgbir/query'))
        return specs + queries

    def file_name(self, spec: FrameSpec) -> str:
        return f'{spec.pid:04d}_c{spec.cam:04d}_{spec.index:03d}.jpg'
