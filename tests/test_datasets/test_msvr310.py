# Copyright (c) mmreid_text contributors. All rights reserved.
import os
import os.path as osp
import random

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from mmreid_text.datasets.msvr310 import MSVR310
from mmreid_text.evaluation import build_protocol
from mmreid_text.registry import DATASETS
from mmreid_text.utils import register_all_modules

register_all_modules()

CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    '_base_', 'datasets', 'msvr310.py')
MODALITY_DIRS = ('vis', 'ni', 'th')

LAYOUT = {
    'bounding_box_train': {
        '0001': ['0001_s001_v0_000.jpg', '0001_s002_v3_001.jpg'],
        '0003': ['0003_s005_v7_000.jpg'],
    },
    'query3': {
        '0002': ['0002_s004_v1_000.jpg'],
        '0004': ['0004_s010_v2_003.jpg'],
    },
    'bounding_box_test': {
        '0002': [
            '0002_s004_v1_000.jpg', '0002_s004_v5_001.jpg',
            '0002_s006_v1_002.jpg'
        ],
        '0004': ['0004_s010_v2_003.jpg', '0004_s011_v6_000.jpg'],
        '0006': ['0006_s003_v4_000.jpg'],
    },
}


def name_code(name):
    """A grey level that identifies a file name."""
    return sum(map(ord, name)) % 200 + 20


def write_msvr310(root, layout=LAYOUT, size=(8, 16)):
    """Write ``<split>/<vid>/{vis,ni,th}/<name>``; the pixels of every file
    encode its name (same grey level in all three modality folders)."""
    for split, ids in layout.items():
        for vid, names in ids.items():
            for sub in MODALITY_DIRS:
                folder = osp.join(root, split, vid, sub)
                os.makedirs(folder, exist_ok=True)
                for name in names:
                    arr = np.full((*size, 3), name_code(name), np.uint8)
                    Image.fromarray(arr).save(
                        osp.join(folder, name), quality=100)
    return root


@pytest.fixture
def root(tmp_path):
    return write_msvr310(str(tmp_path / 'MSVR310'))


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def test_train_parses_scene_and_raw_view_and_relabels(root):
    ds = MSVR310(data_root=root, split='train')
    assert ds.metainfo['modalities'] == ('rgb', 'nir', 'tir')
    assert ds.metainfo['classes'] == ('vehicle', )
    data = infos(ds)
    expected = [(0, 1, 0), (0, 2, 3), (1, 5, 7)]
    assert [(d['pid'], d['scene_id'], d['camid']) for d in data] == expected
    first = data[0]
    name = '0001_s001_v0_000.jpg'
    assert first['rel_img_path'] == {
        mod: osp.join('bounding_box_train', '0001', sub, name)
        for mod, sub in zip(('rgb', 'nir', 'tir'), MODALITY_DIRS)
    }
    assert not first['is_query'] and not first['is_gallery']


def test_test_split_flags_query3_and_gallery(root):
    ds = MSVR310(data_root=root, split='test')
    data = infos(ds)
    queries = [d for d in data if d['is_query']]
    gallery = [d for d in data if d['is_gallery']]
    assert len(queries) == 2 and len(gallery) == 6
    assert not any(d['is_gallery'] for d in queries)
    assert [(d['pid'], d['scene_id'], d['camid'])
            for d in queries] == [(2, 4, 1), (4, 10, 2)]
    assert all(
        osp.join('query3', '') in d['rel_img_path']['rgb'] for d in queries)
    # query3 is a subset of bounding_box_test
    gallery_names = {osp.basename(d['img_path']['rgb']) for d in gallery}
    assert {osp.basename(d['img_path']['rgb'])
            for d in queries} <= gallery_names


def test_scene_protocol_on_loaded_meta(root):
    data = infos(MSVR310(data_root=root, split='test'))

    def meta(rows):
        return {
            key: torch.tensor([d[key] for d in rows])
            for key in ('pid', 'camid', 'scene_id')
        }

    queries = [d for d in data if d['is_query']]
    gallery = [d for d in data if d['is_gallery']]
    mask = build_protocol('msvr310').ignore_mask(meta(queries), meta(gallery))
    ignored = {(gallery[j]['pid'], gallery[j]['scene_id'], gallery[j]['camid'])
               for j in torch.nonzero(mask[0]).flatten().tolist()}
    # same pid and same scene, whatever the view
    assert ignored == {(2, 4, 1), (2, 4, 5)}


def test_pairs_by_name_whatever_the_listing_order(root, monkeypatch):
    real_listdir = os.listdir
    shuffler = random.Random(0)

    def shuffled_listdir(path):
        entries = real_listdir(path)
        shuffler.shuffle(entries)
        return entries

    monkeypatch.setattr(os, 'listdir', shuffled_listdir)
    for split in ('train', 'test'):
        for d in infos(MSVR310(data_root=root, split=split)):
            name = osp.basename(d['img_path']['rgb'])
            for path in d['img_path'].values():
                assert osp.basename(path) == name
                level = np.asarray(Image.open(path)).mean()
                assert abs(level - name_code(name)) < 2


def test_config_builds_vehicle_pipeline_and_scene_metric(root):
    cfg = Config.fromfile(CONFIG)
    assert cfg.val_evaluator == dict(type='ReIDMetric', protocol='msvr310')
    dataset_cfg = cfg.val_dataloader.dataset
    dataset_cfg.data_root = root
    packed = DATASETS.build(dataset_cfg)[0]
    assert tuple(packed['inputs'].shape) == (3, 3, 128, 256)
    assert packed['data_samples'].metainfo['scene_id'] == 4


def test_disagreeing_spectra_name_the_file(root):
    os.remove(
        osp.join(root, 'bounding_box_test', '0004', 'th',
                 '0004_s011_v6_000.jpg'))
    with pytest.raises(RuntimeError) as err:
        MSVR310(data_root=root, split='test')
    assert '0004_s011_v6_000.jpg' in str(err.value)
    assert 'th' in str(err.value)


def test_bad_names_and_folders_are_named(tmp_path):
    bad_name = write_msvr310(
        str(tmp_path / 'a' / 'MSVR310'), {
            'bounding_box_train': {
                '0001': ['0001_s001_v0_000.jpg', '0001_front.jpg']
            }
        })
    with pytest.raises(ValueError, match='0001_front.jpg'):
        MSVR310(data_root=bad_name, split='train')
    wrong_folder = write_msvr310(
        str(tmp_path / 'b' / 'MSVR310'),
        {'bounding_box_train': {
            '0001': ['0009_s001_v0_000.jpg']
        }})
    with pytest.raises(ValueError, match='0009_s001_v0_000.jpg'):
        MSVR310(data_root=wrong_folder, split='train')
    not_an_id = write_msvr310(
        str(tmp_path / 'c' / 'MSVR310'),
        {'bounding_box_train': {
            'car1': ['0001_s001_v0_000.jpg']
        }})
    with pytest.raises(ValueError, match='car1'):
        MSVR310(data_root=not_an_id, split='train')
    with pytest.raises(FileNotFoundError, match='query3'):
        MSVR310(data_root=bad_name, split='test')
