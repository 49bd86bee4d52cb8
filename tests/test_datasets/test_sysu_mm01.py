# Copyright (c) mmreid_text contributors. All rights reserved.
"""SYSUMM01 on hand-written tiny copies of the raw layout, its resize cache,
grey IR JPEGs, its base config and its synthetic captions."""
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from mmreid_text.datasets import SYSUMM01
from mmreid_text.datasets import resize_cache as cache_module
from mmreid_text.datasets import sysu_mm01 as sysu_module
from mmreid_text.datasets.resize_cache import ResizeCache
from mmreid_text.datasets.transforms import LoadCaptions, LoadMultiModalImages
from mmreid_text.registry import DATASETS
from mmreid_text.utils import register_all_modules

INFO_KEYS = {
    'img_path', 'rel_img_path', 'modalities', 'modality', 'stored_modalities',
    'pid', 'camid', 'scene_id', 'is_query', 'is_gallery'
}
CONFIG = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', '_base_', 'datasets',
    'sysu_mm01.py')
# pid -> {camera: number of images}; 7 and 12 are missing from some cameras
IMAGES = {
    3: {
        1: 2,
        3: 1,
        5: 1
    },
    7: {
        2: 1,
        6: 2
    },
    12: {
        1: 1,
        4: 1,
        3: 2,
        6: 1
    },
    20: {
        2: 2,
        3: 1
    },
    21: {
        5: 1,
        6: 1
    },
}
IDS = dict(train_id='12,3', val_id='7', test_id='20,21')


def write_sysu(root, images=IMAGES, ids=IDS, size=None):
    """Write cam1..cam6/<pid4>/<img4>.jpg (empty files, or real JPEGs of
    ``size`` (H, W): RGB for cams 1, 2, 4, 5, grey 'L' for cams 3, 6) and
    exp/*_id.txt; return ``root``."""
    for cam in range(1, 7):
        os.makedirs(osp.join(root, f'cam{cam}'), exist_ok=True)
    for pid, cams in images.items():
        for cam, count in cams.items():
            folder = osp.join(root, f'cam{cam}', f'{pid:04d}')
            os.makedirs(folder)
            for k in range(count, 0, -1):  # written out of order on purpose
                path = osp.join(folder, f'{k:04d}.jpg')
                if size is None:
                    open(path, 'w').close()
                    continue
                ir = cam in (3, 6)
                value = (pid * 10 + k) % 256
                pixels = np.full(size + (() if ir else (3, )), value, np.uint8)
                Image.fromarray(pixels, 'L' if ir else 'RGB').save(path)
    os.makedirs(osp.join(root, 'exp'), exist_ok=True)
    for name, text in ids.items():
        with open(osp.join(root, 'exp', f'{name}.txt'), 'w') as f:
            f.write(text + '\n')
    return root


@pytest.fixture
def sysu_root(tmp_path):
    return write_sysu(str(tmp_path / 'SYSU-MM01'))


def infos(ds):
    return [{
        k: v
        for k, v in ds.get_data_info(i).items() if k != 'sample_idx'
    } for i in range(len(ds))]


def test_train_is_train_and_val_ids_relabelled(sysu_root):
    ds = SYSUMM01(data_root=sysu_root, split='train')
    data = infos(ds)
    assert ds.metainfo['modalities'] == ('vis', 'ir')
    assert not ds.test_mode
    assert {frozenset(d) for d in data} == {frozenset(INFO_KEYS)}
    # ids 3, 7, 12 -> 0, 1, 2; id, camera, file-name order
    rows = [(d['pid'], d['camid'], d['modality'],
             d['rel_img_path'][d['modality']]) for d in data]
    assert rows == [
        (0, 1, 'vis', 'cam1/0003/0001.jpg'),
        (0, 1, 'vis', 'cam1/0003/0002.jpg'),
        (0, 3, 'ir', 'cam3/0003/0001.jpg'),
        (0, 5, 'vis', 'cam5/0003/0001.jpg'),
        (1, 2, 'vis', 'cam2/0007/0001.jpg'),
        (1, 6, 'ir', 'cam6/0007/0001.jpg'),
        (1, 6, 'ir', 'cam6/0007/0002.jpg'),
        (2, 1, 'vis', 'cam1/0012/0001.jpg'),
        (2, 3, 'ir', 'cam3/0012/0001.jpg'),
        (2, 3, 'ir', 'cam3/0012/0002.jpg'),
        (2, 4, 'vis', 'cam4/0012/0001.jpg'),
        (2, 6, 'ir', 'cam6/0012/0001.jpg'),
    ]
    for d in data:
        mod = d['modality']
        assert d['modalities'] == (mod, )
        assert d['stored_modalities'] == ('vis', 'ir')
        assert d['img_path'] == {
            mod: osp.join(sysu_root, d['rel_img_path'][mod])
        }
        assert isinstance(d['img_path'][mod], str)  # an image, not frames
        assert (d['is_query'], d['is_gallery'], d['scene_id']) == (False,
                                                                   False, -1)
    assert ds.num_ids == 3 and ds.num_skipped_files == 0


def test_test_ir_queries_rgb_gallery_candidates(sysu_root):
    ds = SYSUMM01(data_root=sysu_root, split='test')
    data = infos(ds)
    assert ds.test_mode
    rows = [(d['pid'], d['camid'], d['modality'], d['is_query'],
             d['is_gallery']) for d in data]
    assert rows == [(20, 2, 'vis', False, True), (20, 2, 'vis', False, True),
                    (20, 3, 'ir', True, False), (21, 5, 'vis', False, True),
                    (21, 6, 'ir', True, False)]


def test_train_id_files_and_id_file_formats(sysu_root):
    only_train = SYSUMM01(
        data_root=sysu_root, split='train', train_id_files='train_id.txt')
    assert only_train.num_ids == 2
    # zero padding, spaces and a trailing comma parse; later lines ignored
    with open(osp.join(sysu_root, 'exp', 'train_id.txt'), 'w') as f:
        f.write('0012, 0003,\nignored\n')
    assert SYSUMM01(data_root=sysu_root, split='train').num_ids == 3


@pytest.mark.parametrize('content, match',
                         [('', 'expected comma-separated integer ids'),
                          ('3;12', 'expected comma-separated integer ids'),
                          ('3,x', 'expected comma-separated integer ids'),
                          ('3,12,3', r'lists ids \[3\] more than once')])
def test_malformed_id_file(sysu_root, content, match):
    with open(osp.join(sysu_root, 'exp', 'train_id.txt'), 'w') as f:
        f.write(content)
    with pytest.raises(ValueError, match=match) as err:
        SYSUMM01(data_root=sysu_root, split='train')
    assert 'train_id.txt' in str(err.value)


def test_missing_exp_file_names_it(sysu_root):
    os.remove(osp.join(sysu_root, 'exp', 'val_id.txt'))
    with pytest.raises(FileNotFoundError, match=r'exp/val_id\.txt" does not'):
        SYSUMM01(data_root=sysu_root, split='train')
    # the test split does not need it
    assert len(SYSUMM01(data_root=sysu_root, split='test')) == 5


def test_overlapping_id_files(sysu_root):
    with open(osp.join(sysu_root, 'exp', 'val_id.txt'), 'w') as f:
        f.write('7,20')
    with pytest.raises(ValueError, match=r'ids \[20\] are both training'):
        SYSUMM01(data_root=sysu_root, split='train')
    with open(osp.join(sysu_root, 'exp', 'val_id.txt'), 'w') as f:
        f.write('7,3')
    with pytest.raises(ValueError, match='id 3 is in both exp/train_id.txt'):
        SYSUMM01(data_root=sysu_root, split='train')


def test_missing_camera_and_id_folders(tmp_path):
    root = write_sysu(str(tmp_path / 'a'))
    with open(osp.join(root, 'exp', 'test_id.txt'), 'w') as f:
        f.write('20,21,99')
    with pytest.raises(FileNotFoundError, match='id 99 .*test_id.txt'):
        SYSUMM01(data_root=root, split='test')
    root = write_sysu(str(tmp_path / 'b'))
    for name in os.listdir(osp.join(root, 'cam4', '0012')):
        os.remove(osp.join(root, 'cam4', '0012', name))
    os.rmdir(osp.join(root, 'cam4', '0012'))
    os.rmdir(osp.join(root, 'cam4'))
    with pytest.raises(FileNotFoundError, match='camera folder .*cam4'):
        SYSUMM01(data_root=root, split='train')


def test_empty_folder_is_an_error_other_files_are_counted(
        sysu_root, monkeypatch):
    os.makedirs(osp.join(sysu_root, 'cam2', '0003'))
    with pytest.raises(RuntimeError, match=r'cam2/0003" holds no image'):
        SYSUMM01(data_root=sysu_root, split='train')
    open(osp.join(sysu_root, 'cam2', '0003', '0001.png'), 'w').close()
    open(osp.join(sysu_root, 'cam2', '0003', 'Thumbs.db'), 'w').close()
    logged = []
    monkeypatch.setattr(sysu_module, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    ds = SYSUMM01(data_root=sysu_root, split='train')
    assert len(ds) == 13 and ds.num_skipped_files == 1
    assert len(logged) == 1 and 'skipped 1 files' in logged[0]
    assert 'Thumbs.db' in logged[0]


def test_grey_ir_jpeg_loads_as_three_channels(tmp_path):
    root = write_sysu(str(tmp_path / 'SYSU-MM01'), size=(12, 6))
    with Image.open(osp.join(root, 'cam3', '0003', '0001.jpg')) as img:
        assert img.mode == 'L'
    ds = SYSUMM01(data_root=root, split='train')
    ir = [d for d in infos(ds) if d['modality'] == 'ir'][0]
    out = LoadMultiModalImages()(dict(ir))
    (img, ) = out['img']
    assert img.shape == (12, 6, 3) and img.dtype == np.uint8
    assert (img == img[..., :1]).all()
    assert abs(int(img[0, 0, 0]) - 31) <= 2  # pid 3, image 1


def _cached_shapes(ds):
    shapes = []
    for d in infos(ds):
        path = d['img_path'][d['modality']]
        with Image.open(path) as img:
            shapes.append((img.size, img.mode))
    return shapes


def test_resize_cache_builds_reuses_and_rebuilds_when_stale(
        tmp_path, monkeypatch):
    root = write_sysu(str(tmp_path / 'SYSU-MM01'), size=(20, 10))
    cache_dir = str(tmp_path / 'cache')
    counts = []
    real_build = ResizeCache.build

    def build(self, data_root, rel_paths):
        counts.append(real_build(self, data_root, rel_paths))
        return counts[-1]

    monkeypatch.setattr(ResizeCache, 'build', build)
    cfg = dict(size=(8, 4), cache_dir=cache_dir)
    ds = SYSUMM01(data_root=root, split='train', resize_cache=cfg)
    assert counts[-1] == (12, 0)
    plain = SYSUMM01(data_root=root, split='train')
    for d, p in zip(infos(ds), infos(plain)):
        mod = d['modality']
        assert d['rel_img_path'] == p['rel_img_path']  # captions still match
        assert d['img_path'][mod] == osp.join(cache_dir,
                                              p['rel_img_path'][mod] + '.png')
    assert set(_cached_shapes(ds)) == {((4, 8), 'RGB')}  # IR: 3 channels
    out = LoadMultiModalImages()(dict(infos(ds)[2]))  # cam3 = IR
    assert out['img'][0].shape == (8, 4, 3)

    cached = infos(ds)[0]['img_path']['vis']
    mtime = os.stat(cached).st_mtime_ns
    SYSUMM01(data_root=root, split='train', resize_cache=cfg)
    assert counts[-1] == (0, 12) and os.stat(cached).st_mtime_ns == mtime
    # the test split shares the cache and keeps the train entries
    SYSUMM01(data_root=root, split='test', resize_cache=cfg)
    assert counts[-1] == (5, 0)
    SYSUMM01(data_root=root, split='train', resize_cache=cfg)
    assert counts[-1] == (0, 12)

    # a newer source: only that image is rebuilt
    source = osp.join(root, 'cam1', '0003', '0001.jpg')
    Image.fromarray(np.zeros((20, 10, 3), np.uint8)).save(source)
    st = os.stat(source)
    os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    SYSUMM01(data_root=root, split='train', resize_cache=cfg)
    assert counts[-1] == (1, 11)
    with Image.open(cached) as img:
        assert np.asarray(img).max() == 0
    # a deleted cached file is rebuilt
    os.remove(cached)
    SYSUMM01(data_root=root, split='train', resize_cache=cfg)
    assert counts[-1] == (1, 11) and osp.isfile(cached)
    # other parameters: everything is rebuilt
    other = SYSUMM01(
        data_root=root,
        split='train',
        resize_cache=dict(cfg, size=(10, 6), interpolation='bilinear'))
    assert counts[-1] == (12, 0)
    assert set(_cached_shapes(other)) == {((6, 10), 'RGB')}
    SYSUMM01(data_root=root, split='train', resize_cache=cfg)
    assert counts[-1] == (12, 0)


def test_resize_cache_default_folder_jpg_and_bad_arguments(tmp_path):
    root = write_sysu(str(tmp_path / 'SYSU-MM01'), size=(20, 10))
    ds = SYSUMM01(
        data_root=root,
        split='test',
        resize_cache=dict(size=(8, 4), format='jpg', workers=1))
    path = infos(ds)[0]['img_path']['vis']
    assert path == osp.join(root, 'resized_8x4', 'cam2', '0020',
                            '0001.jpg.jpg')
    assert osp.isfile(osp.join(root, 'resized_8x4', 'cache_manifest.json'))
    for cfg, match in [((8, 4), 'must be a dict'),
                       (dict(cache_dir='x'), 'must be a dict'),
                       (dict(size=(8, 4), colour=1), 'unknown resize_cache'),
                       (dict(size=(0, 4)), 'size must be'),
                       (dict(size=(8, 4), format='gif'), 'format must'),
                       (dict(size=(8, 4),
                             interpolation='x'), 'interpolation')]:
        with pytest.raises(ValueError, match=match):
            SYSUMM01(data_root=root, split='test', resize_cache=cfg)


def test_resize_cache_logs_counts(tmp_path, monkeypatch):
    root = write_sysu(str(tmp_path / 'SYSU-MM01'), size=(20, 10))
    logged = []
    monkeypatch.setattr(cache_module, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    SYSUMM01(data_root=root, split='test', resize_cache=dict(size=(8, 4)))
    assert len(logged) == 1 and 'rebuilt 5, up to date 0' in logged[0]


def test_base_config_and_synthetic_captions(tmp_path):
    from mmreid_text.synthetic import make_synthetic
    register_all_modules()
    cfg = Config.fromfile(CONFIG)
    assert cfg.img_size == (288, 144)
    loader = cfg.train_dataloader
    assert loader.batch_size == 64
    assert loader.sampler == dict(
        type='CrossModalityIdentitySampler',
        num_instances=4,
        modalities=('vis', 'ir'))
    types = [t['type'] for t in loader.dataset.pipeline]
    assert types == [
        'LoadMultiModalImages', 'LoadCaptions', 'BroadcastToModalities',
        'PackReIDInputs'
    ]
    augment = loader.dataset.pipeline[2]['transforms']
    assert augment[0]['scale'] == (144, 288)
    assert augment[1] == dict(
        type='RandomCrop', crop_size=(288, 144), padding=10)
    assert loader.dataset.pipeline[1]['caption_file'] == cfg.caption_file
    test_types = [t['type'] for t in cfg.test_dataloader.dataset.pipeline]
    assert 'LoadCaptions' not in test_types
    assert cfg.test_dataloader.dataset.pipeline[1]['transforms'] == [
        dict(type='Resize', scale=(144, 288))
    ]
    assert cfg.test_evaluator['protocol'] == 'sysu'
    from mmreid_text.registry import METRICS, REID_PROTOCOLS
    if 'sysu' in REID_PROTOCOLS.module_dict:  # the protocol is registered
        METRICS.build(cfg.test_evaluator)

    result = make_synthetic(
        'SYSUMM01',
        str(tmp_path),
        img_size=(64, 32),
        num_train_ids=3,
        num_val_ids=1,
        num_test_ids=2,
        images_per_camera=1)
    root = result['dataset_dir']
    caption_file = osp.join(root, 'captions', 'train.json')
    pipeline = [
        dict(t, caption_file=caption_file)
        if t['type'] == 'LoadCaptions' else t for t in loader.dataset.pipeline
    ]
    ds = DATASETS.build(
        dict(loader.dataset, data_root=root, pipeline=pipeline))
    assert ds.num_ids == 3
    sample = ds[0]
    assert sample['inputs'].shape == (1, 3, 288, 144)
    meta = sample['data_samples'].metainfo
    assert set(meta['captions']) == {meta['modality']}
    load = LoadCaptions(caption_file=caption_file)
    for d in infos(ds):
        text = load(dict(d))['captions'][d['modality']]
        assert text.strip()
    test = DATASETS.build(dict(cfg.test_dataloader.dataset, data_root=root))
    assert test[0]['inputs'].shape == (1, 3, 288, 144)
    load = LoadCaptions(caption_file=osp.join(root, 'captions', 'test.json'))
    assert all(load(dict(d))['captions'] for d in infos(test))


def test_cross_modality_batches_of_synthetic_sysu(tmp_path):
    """P x (K vis + K ir) identity-major batches through the sampler, the
    collate function and the data preprocessor: inputs [B, 1, 3, H, W]."""
    import torch
    from mmengine.dataset import pseudo_collate

    from mmreid_text.datasets.samplers import CrossModalityIdentitySampler
    from mmreid_text.models.data_preprocessors import ReIDDataPreprocessor
    from mmreid_text.synthetic import make_synthetic
    register_all_modules()
    root = make_synthetic(
        'SYSUMM01',
        str(tmp_path),
        img_size=(32, 16),
        num_train_ids=4,
        num_val_ids=1,
        num_test_ids=1,
        images_per_camera=2)['dataset_dir']
    ds = DATASETS.build(
        dict(
            type='SYSUMM01',
            data_root=root,
            split='train',
            pipeline=[
                dict(type='LoadMultiModalImages'),
                dict(
                    type='LoadCaptions',
                    caption_file=osp.join(root, 'captions', 'train.json')),
                dict(type='PackReIDInputs'),
            ]))
    sampler = CrossModalityIdentitySampler(
        ds, batch_size=8, num_instances=2, seed=0)
    batch = list(sampler)[:8]
    infos_ = [ds.get_data_info(i) for i in batch]
    assert [d['modality'] for d in infos_] == ['vis', 'vis', 'ir', 'ir'] * 2
    assert infos_[0]['pid'] == infos_[3]['pid'] != infos_[4]['pid']
    data = ReIDDataPreprocessor(
        mean=[0, 0, 0], std=[1, 1,
                             1])(pseudo_collate([ds[i] for i in batch]),
                                 training=True)
    assert data['inputs'].shape == (8, 1, 3, 32, 16)
    assert data['inputs'].dtype == torch.float32
    metas = [s.metainfo for s in data['data_samples']]
    assert [m['modality'] for m in metas] == ['vis', 'vis', 'ir', 'ir'] * 2
    assert [m['modalities'] for m in metas] == [(m['modality'], )
                                                for m in metas]
    assert all(set(m['captions']) == {m['modality']} for m in metas)
    assert [
        m['camid'] in ((3, 6) if m['modality'] == 'ir' else (1, 2, 4, 5))
        for m in metas
    ] == [True] * 8
