# Copyright (c) mmreid_text contributors. All rights reserved.
import os
import os.path as osp
import random

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from mmreid_text.datasets.market_mm import MarketMM
from mmreid_text.registry import DATASETS
from mmreid_text.utils import register_all_modules

register_all_modules()

CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    '_base_', 'datasets', 'market_mm.py')
MODALITY_DIRS = ('RGB', 'NI', 'TI')

LAYOUT = {
    'train': [
        '0002_c1s1_000451_03.jpg', '0002_c2s1_000301_01.jpg',
        '0007_c6s3_087467_02.jpg', '0010_c3s2_012345_01.jpg'
    ],
    'query': ['0001_c1s1_001051_00.jpg', '0003_c4s1_000101_00.jpg'],
    'gallery': [
        '-1_c1s1_000401_03.jpg', '0000_c1s1_000151_01.jpg',
        '0001_c2s1_000201_01.jpg', '0003_c5s1_000301_02.jpg',
        '0003_c4s1_000101_00.jpg'
    ],
}


def name_code(name):
    return sum(map(ord, name)) % 200 + 20


def write_market_mm(root, layout=LAYOUT, size=(16, 8)):
    """Write ``<split>/{RGB,NI,TI}/<name>`` with pixels encoding the name.
    """
    for split, names in layout.items():
        for sub in MODALITY_DIRS:
            folder = osp.join(root, split, sub)
            os.makedirs(folder, exist_ok=True)
            for name in names:
                arr = np.full((*size, 3), name_code(name), np.uint8)
                Image.fromarray(arr).save(osp.join(folder, name), quality=100)
    return root


@pytest.fixture
def root(tmp_path):
    return write_market_mm(str(tmp_path / 'Market1501-MM'))


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def test_train_relabels_and_decrements_cameras(root):
    ds = MarketMM(data_root=root, split='train')
    assert ds.metainfo['modalities'] == ('rgb', 'nir', 'tir')
    assert ds.metainfo['classes'] == ('person', )
    data = infos(ds)
    expected = [(0, 0), (0, 1), (1, 5), (2, 2)]
    assert [(d['pid'], d['camid']) for d in data] == expected
    assert data[0]['rel_img_path'] == {
        'rgb': osp.join('train', 'RGB', '0002_c1s1_000451_03.jpg'),
        'nir': osp.join('train', 'NI', '0002_c1s1_000451_03.jpg'),
        'tir': osp.join('train', 'TI', '0002_c1s1_000451_03.jpg'),
    }


def test_test_split_skips_junk_keeps_distractors(root):
    data = infos(MarketMM(data_root=root, split='test'))
    queries = [d for d in data if d['is_query']]
    gallery = [d for d in data if d['is_gallery']]
    assert len(queries) == 2 and len(gallery) == 4  # junk -1 dropped
    assert not any(d['is_gallery'] for d in queries)
    assert sorted(d['pid'] for d in gallery) == [0, 1, 3, 3]
    assert all(d['pid'] != -1 for d in data)
    assert [(d['pid'], d['camid']) for d in queries] == [(1, 0), (3, 3)]


def test_pairs_by_name_whatever_the_listing_order(root, monkeypatch):
    real_listdir = os.listdir
    shuffler = random.Random(2)

    def shuffled_listdir(path):
        entries = real_listdir(path)
        shuffler.shuffle(entries)
        return entries

    monkeypatch.setattr(os, 'listdir', shuffled_listdir)
    for d in infos(MarketMM(data_root=root, split='test')):
        name = osp.basename(d['img_path']['rgb'])
        for path in d['img_path'].values():
            assert osp.basename(path) == name
            level = np.asarray(Image.open(path)).mean()
            assert abs(level - name_code(name)) < 2


def test_config_builds_person_pipeline(root):
    cfg = Config.fromfile(CONFIG)
    assert cfg.val_evaluator == dict(type='ReIDMetric', protocol='market')
    dataset_cfg = cfg.val_dataloader.dataset
    dataset_cfg.data_root = root
    packed = DATASETS.build(dataset_cfg)[0]
    assert tuple(packed['inputs'].shape) == (3, 3, 256, 128)


def test_disagreeing_spectra_name_the_files(root):
    os.remove(osp.join(root, 'gallery', 'NI', '0000_c1s1_000151_01.jpg'))
    with pytest.raises(RuntimeError) as err:
        MarketMM(data_root=root, split='test')
    assert '0000_c1s1_000151_01.jpg' in str(err.value)


def test_unparsable_name_and_missing_split_are_named(root):
    for sub in MODALITY_DIRS:
        folder = osp.join(root, 'train', sub)
        os.rename(
            osp.join(folder, '0007_c6s3_087467_02.jpg'),
            osp.join(folder, 'Thumbs_c.jpg'))
    with pytest.raises(ValueError, match='Thumbs_c.jpg'):
        MarketMM(data_root=root, split='train')
    os.rename(osp.join(root, 'gallery'), osp.join(root, 'bounding_box_test'))
    with pytest.raises(FileNotFoundError, match='gallery'):
        MarketMM(data_root=root, split='test')
