# Copyright (c) mmreid_text contributors. All rights reserved.
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from mmreid_text.datasets.rgbnt100 import RGBNT100
from mmreid_text.registry import DATASETS
from mmreid_text.utils import register_all_modules

register_all_modules()

CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    '_base_', 'datasets', 'rgbnt100.py')

TILE_H, TILE_W = 8, 16
#: tile colours (RGB | NIR | TIR) of every synthetic file
TILE_COLOURS = ((250, 0, 0), (0, 250, 0), (0, 0, 250))

TRAIN = [
    '0501_c0001_000.jpg', '0501_c0002_001.jpg', '0503_c0003_000.jpg',
    '0505_c0008_004.jpg', '-1_c0001_000.jpg'
]
GALLERY = [
    '0502_c0001_000.jpg', '0502_c0002_001.jpg', '0504_c0003_002.jpg',
    '0504_c0001_003.jpg'
]
QUERY = ['0502_c0001_000.jpg', '0504_c0003_002.jpg']


def write_rgbnt100(root, splits=None, size=(TILE_H, TILE_W)):
    """Write ``rgbir/<split>/<name>`` files of three side-by-side tiles."""
    if splits is None:
        splits = dict(
            bounding_box_train=TRAIN, query=QUERY, bounding_box_test=GALLERY)
    h, w = size
    image = np.zeros((h, 3 * w, 3), np.uint8)
    for index, colour in enumerate(TILE_COLOURS):
        image[:, index * w:(index + 1) * w] = colour
    for split, names in splits.items():
        folder = osp.join(root, 'rgbir', split)
        os.makedirs(folder, exist_ok=True)
        for name in names:
            Image.fromarray(image).save(osp.join(folder, name), quality=100)
    return root


@pytest.fixture
def root(tmp_path):
    # the parent folder name looks like a Market file name: parsing must
    # only look at the file name
    return write_rgbnt100(str(tmp_path / '0007_c0005_x' / 'RGBNT100'))


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def test_train_relabels_skips_junk_and_shares_one_file(root):
    ds = RGBNT100(data_root=root, split='train')
    assert ds.metainfo['modalities'] == ('rgb', 'nir', 'tir')
    assert ds.metainfo['classes'] == ('vehicle', )
    data = infos(ds)
    assert len(data) == 4  # the -1 junk file is skipped
    assert [d['pid'] for d in data] == [0, 0, 1, 2]
    assert [d['camid'] for d in data] == [0, 1, 2, 7]
    for d in data:
        assert len(set(d['img_path'].values())) == 1
        assert d['scene_id'] == -1
        assert not d['is_query'] and not d['is_gallery']
    assert data[0]['rel_img_path'] == {
        m: osp.join('rgbir', 'bounding_box_train', '0501_c0001_000.jpg')
        for m in ('rgb', 'nir', 'tir')
    }
    assert ds.num_ids == 3


def test_test_split_is_query_then_gallery_with_raw_ids(root):
    ds = RGBNT100(data_root=root, split='test')
    data = infos(ds)
    assert len(data) == len(QUERY) + len(GALLERY)
    queries = [d for d in data if d['is_query']]
    gallery = [d for d in data if d['is_gallery']]
    assert [d['is_query'] for d in data] == [True] * 2 + [False] * 4
    assert not any(d['is_gallery'] for d in queries)
    assert [(d['pid'], d['camid']) for d in queries] == [(502, 0), (504, 2)]
    expected = [(502, 0), (502, 1), (504, 0), (504, 2)]
    assert sorted((d['pid'], d['camid']) for d in gallery) == expected
    assert all('/query/' in d['img_path']['rgb'] for d in queries)
    assert ds.test_mode


def test_config_pipeline_cuts_three_tiles(root):
    cfg = Config.fromfile(CONFIG)
    assert cfg.val_evaluator == dict(type='ReIDMetric', protocol='market')
    dataset_cfg = cfg.val_dataloader.dataset
    dataset_cfg.data_root = root
    ds = DATASETS.build(dataset_cfg)
    packed = ds[0]
    inputs = packed['inputs']
    assert tuple(inputs.shape) == (3, 3, 128, 256)  # vehicles: 128x256
    mean_colour = inputs.float().mean(dim=(2, 3))
    for index, colour in enumerate(TILE_COLOURS):
        assert mean_colour[index].argmax().item() == int(np.argmax(colour))
    train_cfg = cfg.train_dataloader.dataset
    train_cfg.data_root = root
    train = DATASETS.build(train_cfg)
    assert tuple(train[0]['inputs'].shape) == (3, 3, 128, 256)


def test_unparsable_name_is_named(root):
    bad = osp.join(root, 'rgbir', 'bounding_box_train', 'car_front.jpg')
    Image.new('RGB', (3 * TILE_W, TILE_H)).save(bad)
    with pytest.raises(ValueError, match='car_front.jpg'):
        RGBNT100(data_root=root, split='train')


def test_bad_camera_is_named(root):
    bad = osp.join(root, 'rgbir', 'query', '0502_c0000_009.jpg')
    Image.new('RGB', (3 * TILE_W, TILE_H)).save(bad)
    with pytest.raises(ValueError, match='0502_c0000_009.jpg'):
        RGBNT100(data_root=root, split='test')


def test_missing_folders_are_explained(tmp_path, root):
    with pytest.raises(FileNotFoundError, match='contains rgbir'):
        RGBNT100(data_root=osp.join(root, 'rgbir'), split='train')
    os.rename(osp.join(root, 'rgbir', 'query'), osp.join(root, 'rgbir', 'q'))
    with pytest.raises(FileNotFoundError, match='query'):
        RGBNT100(data_root=root, split='test')


def test_modality_subset_cuts_the_right_tiles(root):
    """Table IX subsets: NIR + TIR of a side-by-side file are tiles 1 and
    2 of the stored RGB | NIR | TIR order, not the first two tiles."""
    cfg = Config.fromfile(CONFIG)
    dataset_cfg = cfg.val_dataloader.dataset
    dataset_cfg.update(data_root=root, modalities=('nir', 'tir'))
    ds = DATASETS.build(dataset_cfg)
    assert ds.metainfo['modalities'] == ('nir', 'tir')
    packed = ds[0]
    assert tuple(packed['inputs'].shape) == (2, 3, 128, 256)
    assert packed['data_samples'].metainfo['modalities'] == ('nir', 'tir')
    mean_colour = packed['inputs'].float().mean(dim=(2, 3))
    assert [mean_colour[i].argmax().item() for i in range(2)] == [1, 2]
