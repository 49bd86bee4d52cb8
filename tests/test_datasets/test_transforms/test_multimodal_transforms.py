# Copyright (c) mmreid_text contributors. All rights reserved.
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from PIL import Image

from mmreid_text.datasets import RGBNT201  # noqa: F401  (registers)
from mmreid_text.datasets.transforms import (BroadcastToModalities,
                                             LoadMultiModalImages,
                                             PackReIDInputs)
from mmreid_text.utils import register_all_modules

register_all_modules()


def _triplet_results(tmp_path, size=(40, 20), same=True):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (*size, 3), dtype=np.uint8)
    paths = {}
    for i, mod in enumerate(('rgb', 'nir', 'tir')):
        arr = base if same else rng.integers(0, 255, (*size, 3), np.uint8)
        p = str(tmp_path / f'{mod}.png')
        Image.fromarray(arr).save(p)
        paths[mod] = p
    return dict(
        img_path=paths,
        modalities=('rgb', 'nir', 'tir'),
        pid=3,
        camid=1,
        scene_id=-1,
        is_query=True,
        is_gallery=True,
        sample_idx=7)


def test_load_keeps_modality_order_and_rgb(tmp_path):
    res = LoadMultiModalImages()(_triplet_results(tmp_path, same=False))
    assert len(res['img']) == 3 and res['num_frames'] == 1
    for img, mod in zip(res['img'], ('rgb', 'nir', 'tir')):
        expect = np.asarray(Image.open(res['img_path'][mod]).convert('RGB'))
        np.testing.assert_array_equal(img, expect)


def test_broadcast_applies_one_decision_to_all_modalities(tmp_path):
    pipeline = Compose([
        dict(type='LoadMultiModalImages'),
        dict(
            type='BroadcastToModalities',
            transforms=[
                dict(type='Resize', scale=(16, 32)),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                dict(type='RandomCrop', crop_size=(32, 16), padding=4),
                dict(type='RandomErasing', erase_prob=0.5, mode='const'),
            ]),
        dict(type='PackReIDInputs'),
    ])
    results = _triplet_results(tmp_path, same=True)
    outs = [pipeline(dict(results))['inputs'] for _ in range(12)]
    for x in outs:
        assert x.shape == (3, 3, 32, 16) and x.dtype == torch.uint8
        # identical inputs + one shared decision -> identical outputs
        assert torch.equal(x[0], x[1]) and torch.equal(x[0], x[2])
    # and the decisions really are random across calls
    assert any(not torch.equal(outs[0], o) for o in outs[1:])


def test_pack_sets_metainfo_and_checks_shapes(tmp_path):
    res = LoadMultiModalImages()(_triplet_results(tmp_path))
    packed = PackReIDInputs()(dict(res))
    meta = packed['data_samples'].metainfo
    assert meta['pid'] == 3 and meta['camid'] == 1
    assert meta['modalities'] == ('rgb', 'nir', 'tir')
    assert meta['is_query'] and meta['sample_idx'] == 7
    res['img'][1] = res['img'][1][:10]
    with pytest.raises(ValueError, match='different shapes'):
        PackReIDInputs()(res)


def test_video_frames_are_packed_with_time_axis(tmp_path):
    frames = []
    for t in range(4):
        p = str(tmp_path / f'f{t}.png')
        Image.fromarray(np.full((8, 4, 3), t, np.uint8)).save(p)
        frames.append(p)
    res = dict(
        img_path=dict(vis=frames, ir=frames),
        modalities=('vis', 'ir'),
        pid=0,
        camid=0)
    res = LoadMultiModalImages()(res)
    x = PackReIDInputs()(res)['inputs']
    assert x.shape == (2, 4, 3, 8, 4)
    assert x[1, 2].float().mean() == 2


def test_tiles_cut_side_by_side_modalities(tmp_path):
    arr = np.concatenate(
        [np.full((8, 6, 3), v, np.uint8) for v in (10, 20, 30)], axis=1)
    p = str(tmp_path / 'cat.png')
    Image.fromarray(arr).save(p)
    res = dict(
        img_path=dict(rgb=p, nir=p, tir=p), modalities=('rgb', 'nir', 'tir'))
    out = LoadMultiModalImages(tiles=3)(res)
    assert [int(i.mean()) for i in out['img']] == [10, 20, 30]


def test_missing_and_corrupt_images_are_named(tmp_path):
    res = _triplet_results(tmp_path)
    bad = str(tmp_path / 'corrupt.jpg')
    with open(bad, 'wb') as f:
        f.write(b'\xff\xd8 definitely not a jpeg')
    res['img_path']['nir'] = bad
    with pytest.raises(OSError, match='corrupt.jpg'):
        LoadMultiModalImages()(dict(res))
    res['img_path']['nir'] = str(tmp_path / 'gone.jpg')
    with pytest.raises(FileNotFoundError, match='gone.jpg'):
        LoadMultiModalImages()(dict(res))


def test_pipeline_on_rgbnt201(rgbnt201_root):
    from mmreid_text.registry import DATASETS
    ds = DATASETS.build(
        dict(
            type='RGBNT201',
            data_root=rgbnt201_root,
            split='train',
            pipeline=[
                dict(type='LoadMultiModalImages'),
                BroadcastToModalities(
                    transforms=[dict(type='Resize', scale=(8, 16))]),
                dict(type='PackReIDInputs')
            ]))
    item = ds[0]
    assert item['inputs'].shape == (3, 3, 16, 8)
    assert osp.isfile(item['data_samples'].metainfo['img_path']['tir'])
