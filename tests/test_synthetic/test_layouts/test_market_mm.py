# Copyright (c) mmreid_text contributors. All rights reserved.
import os
import os.path as osp

from mmreid_text.datasets import MarketMM
from ..conftest import generate_tiny


def test_junk_on_disk_skipped_by_loader(tmp_path):
    result = generate_tiny('MarketMM', tmp_path)
    gallery_dir = osp.join(result['dataset_dir'], 'gallery', 'RGB')
    names = os.listdir(gallery_dir)
    assert sum(n.startswith('-1_') for n in names) == 2
    assert sum(n.startswith('0000_') for n in names) == 2
    test = MarketMM(data_root=result['dataset_dir'], split='test')
    data = [test.get_data_info(i) for i in range(len(test))]
    assert sum(d['pid'] == 0 for d in data) == 2
    assert all(d['pid'] != -1 for d in data)
    # query images are not gallery images (Market-1501)
    query = set(os.listdir(osp.join(result['dataset_dir'], 'query', 'RGB')))
    assert not query & set(names)
    assert result['splits']['gallery']['distractors'] == 2
    assert result['splits']['gallery']['junk'] == 2
