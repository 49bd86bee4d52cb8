# Copyright (c) mmreid_text contributors. All rights reserved.
"""The MSVR310 layout (vehicles, strict time-span protocol)."""
from typing import List

from .base import (FrameSpec, SyntheticLayout, check_int, pick_sorted,
                   query_copy, register_layout)


@register_layout
class MSVR310Layout(SyntheticLayout):
    """``MSVR310/{bounding_box_train,query3,bounding_box_test}/PPPP/
    {vis,ni,th}/PPPP_sSSS_vV_III.jpg``.

    Train pids are odd, test pids even. Every train id and each of the
    first ``num_query_ids`` test ids is shot in ``scenes_per_id`` (>= 2)
    scenes (time spans, 0..30); the other test ids appear in one scene only
    (distractors, as in the real set). Each scene is seen from
    ``views_per_scene`` of the views 0..7; a scene is at night or not for
    all of its frames. ``query3`` holds byte copies of the first frame of
    every scene of the query ids, so ``query3`` ⊂ ``bounding_box_test`` and
    each query has positives in another scene.
    """

    name = 'MSVR310'
    dataset_folder = 'MSVR310'
    loader = 'MSVR310'
    subject = 'vehicle'
    stream_id = 3
    default_img_size = (128, 256)
    split_folders = ('bounding_box_train', 'query3', 'bounding_box_test')
    modality_dirs = dict(rgb='vis', nir='ni', tir='th')
    path_template = '{folder}/{pid:04d}/{modality_dir}/{name}'
    num_scenes = 31

    def __init__(self,
                 num_train_ids: int = 16,
                 num_test_ids: int = 10,
                 num_query_ids: int = 5,
                 scenes_per_id: int = 2,
                 views_per_scene: int = 2,
                 images_per_view: int = 1,
                 night_fraction: float = 0.3) -> None:
        num_test_ids = check_int('num_test_ids', num_test_ids, 1, 4999)
        scenes_per_id = check_int('scenes_per_id', scenes_per_id, 2,
                                  self.num_scenes)
        views_per_scene = check_int('views_per_scene', views_per_scene, 1, 8)
        self._set_params(
            num_train_ids=check_int('num_train_ids', num_train_ids, 1, 4999),
            num_test_ids=num_test_ids,
            num_query_ids=check_int('num_query_ids', num_query_ids, 1,
                                    num_test_ids),
            scenes_per_id=scenes_per_id,
            views_per_scene=views_per_scene,
            images_per_view=check_int('images_per_view', images_per_view, 1,
                                      999 //
                                      (scenes_per_id * views_per_scene)),
            night_fraction=float(night_fraction))

    def plan(self, seed: int) -> List[FrameSpec]:
        night = {
            scene:
            bool(self.rng(seed, 0, scene).random() < self.night_fraction)
            for scene in range(self.num_scenes)
        }
        train = [1 + 2 * i for i in range(self.num_train_ids)]
        test = [2 + 2 * i for i in range(self.num_test_ids)]
        query_ids = set(test[:self.num_query_ids])
        specs, queries = [], []
        for pids, folder, role in ((train, 'bounding_box_train', 'train'),
                                   (test, 'bounding_box_test', 'gallery')):
            for pid in pids:
                rng = self.rng(seed, 1, pid)
                num_scenes = (
                    self.scenes_per_id
                    if role == 'train' or pid in query_ids else 1)
                index = 0
                for scene in pick_sorted(rng, range(self.num_scenes),
                                         num_scenes):
                    views = pick_sorted(rng, range(8), self.views_per_scene)
                    for view_rank, view in enumerate(views):
                        for frame in range(self.images_per_view):
                            spec = FrameSpec(
                                folder,
                                role,
                                pid,
                                view,
                                index,
                                scene=scene,
                                night=night[scene])
                            specs.append(spec)
                            index += 1
                            if (pid in query_ids and role == 'gallery'
                                    and view_rank == 0 and frame == 0):
                                queries.append(query_copy(spec, 'query3'))
        return specs + queries

    def file_name(self, spec: FrameSpec) -> str:
        return (f'{spec.pid:04d}_s{spec.scene:03d}_v{spec.cam}_'
                f'{spec.index:03d}.jpg')
