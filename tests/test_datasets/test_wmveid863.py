# Copyright (c) mmreid_text contributors. All rights reserved.
import os
import os.path as osp
import random

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from mmreid_text.datasets.wmveid863 import WMVEID863
from mmreid_text.registry import DATASETS
from mmreid_text.utils import register_all_modules

register_all_modules()

CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    '_base_', 'datasets', 'wmveid863.py')
MODALITY_DIRS = ('vis', 'ni', 'th')

LAYOUT = {
    'train': {
        '0010': ['v1_n0_s001_0001.jpg', 'v3_n1_s001_0002.jpg'],
        '0012': ['v7_n0_s002_0001.jpg'],
        '0020': ['v0_n0_s004_0007.jpg'],
    },
    'query': {
        '0011': ['v2_n0_s003_0001.jpg'],
    },
    'test': {
        '0011': ['v2_n0_s003_0001.jpg', 'v5_n1_s003_0004.jpg'],
        '0013': ['v4_n0_s006_0002.jpg'],
    },
}


def name_code(folder, name):
    """A grey level that identifies a file (folder + name)."""
    return sum(map(ord, folder + name)) % 200 + 20


def write_wmveid863(root, layout=LAYOUT, size=(8, 16)):
    """Write ``<split>/<vid>/{vis,ni,th}/<name>`` with pixels that encode
    the file (the same grey level in all three modality folders)."""
    for split, ids in layout.items():
        for vid, names in ids.items():
            for sub in MODALITY_DIRS:
                folder = osp.join(root, split, vid, sub)
                os.makedirs(folder, exist_ok=True)
                for name in names:
                    arr = np.full((*size, 3), name_code(vid, name), np.uint8)
                    Image.fromarray(arr).save(
                        osp.join(folder, name), quality=100)
    return root


@pytest.fixture
def root(tmp_path):
    # 'v9' in the root must not be taken for a camera
    return write_wmveid863(str(tmp_path / 'v9_data' / 'WMVEID863'))


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def test_train_pid_from_folder_cam_from_v_digit(root):
    ds = WMVEID863(data_root=root, split='train')
    assert ds.metainfo['modalities'] == ('rgb', 'nir', 'tir')
    assert ds.metainfo['classes'] == ('vehicle', )
    data = infos(ds)
    expected = [(0, 1), (0, 3), (1, 7), (2, 0)]
    assert [(d['pid'], d['camid']) for d in data] == expected
    assert all(d['scene_id'] == -1 for d in data)
    assert data[0]['rel_img_path']['tir'] == osp.join('train', '0010', 'th',
                                                      'v1_n0_s001_0001.jpg')
    assert ds.num_ids == 3


def test_test_split_flags_query_and_gallery(root):
    data = infos(WMVEID863(data_root=root, split='test'))
    assert [(d['pid'], d['camid'], d['is_query'], d['is_gallery'])
            for d in data] == [(11, 2, True, False), (11, 2, False, True),
                               (11, 5, False, True), (13, 4, False, True)]
    assert data[0]['img_path']['rgb'].startswith(osp.join(root, 'query'))


def test_pairs_by_name_whatever_the_listing_order(root, monkeypatch):
    real_listdir = os.listdir
    shuffler = random.Random(1)

    def shuffled_listdir(path):
        entries = real_listdir(path)
        shuffler.shuffle(entries)
        return entries

    monkeypatch.setattr(os, 'listdir', shuffled_listdir)
    for split in ('train', 'test'):
        for d in infos(WMVEID863(data_root=root, split=split)):
            rgb = d['img_path']['rgb']
            vid = osp.basename(osp.dirname(osp.dirname(rgb)))
            name = osp.basename(rgb)
            for path in d['img_path'].values():
                assert osp.basename(path) == name
                level = np.asarray(Image.open(path)).mean()
                assert abs(level - name_code(vid, name)) < 2


def test_config_builds_vehicle_pipeline(root):
    cfg = Config.fromfile(CONFIG)
    assert cfg.val_evaluator == dict(type='ReIDMetric', protocol='market')
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = root
    packed = DATASETS.build(dataset_cfg)[0]
    assert tuple(packed['inputs'].shape) == (3, 3, 128, 256)


def test_disagreeing_spectra_name_the_files(root):
    folder = osp.join(root, 'train', '0010', 'ni')
    os.rename(
        osp.join(folder, 'v3_n1_s001_0002.jpg'),
        osp.join(folder, 'v3_n1_s001_0009.jpg'))
    with pytest.raises(RuntimeError) as err:
        WMVEID863(data_root=root, split='train')
    msg = str(err.value)
    assert 'v3_n1_s001_0002.jpg' in msg and 'v3_n1_s001_0009.jpg' in msg


def test_name_without_camera_is_named(tmp_path):
    root = write_wmveid863(
        str(tmp_path / 'WMVEID863'), {'train': {
            '0001': ['n0_s001_0001.jpg']
        }})
    with pytest.raises(ValueError, match='n0_s001_0001.jpg'):
        WMVEID863(data_root=root, split='train')
    with pytest.raises(FileNotFoundError, match='query'):
        WMVEID863(data_root=root, split='test')
