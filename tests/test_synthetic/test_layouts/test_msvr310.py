# Copyright (c) mmreid_text contributors. All rights reserved.
import os.path as osp

from mmreid_text.datasets import MSVR310
from ..conftest import generate_tiny


def test_query3_in_gallery_and_scenes(tmp_path):
    result = generate_tiny('MSVR310', tmp_path)
    test = MSVR310(data_root=result['dataset_dir'], split='test')
    data = [test.get_data_info(i) for i in range(len(test))]
    queries = [d for d in data if d['is_query']]
    gallery = [d for d in data if d['is_gallery']]
    gallery_keys = {(d['pid'], osp.basename(d['img_path']['rgb']))
                    for d in gallery}
    for d in queries:
        assert (d['pid'], osp.basename(d['img_path']['rgb'])) in gallery_keys
        scenes = {g['scene_id'] for g in gallery if g['pid'] == d['pid']}
        assert len(scenes) >= 2
    assert len({d['pid'] for d in queries}) == 2
    # the other test ids are single-scene distractors
    for pid in {d['pid'] for d in gallery} - {d['pid'] for d in queries}:
        assert len({g['scene_id'] for g in gallery if g['pid'] == pid}) == 1
    names = [osp.basename(d['img_path']['rgb']) for d in data]
    assert all(len(n) == 20 for n in names)
    assert result['splits']['bounding_box_test']['scenes'] >= 2
