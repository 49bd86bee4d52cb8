# Copyright (c) mmreid_text contributors. All rights reserved.
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmreid_text.captions import load_caption_file
from mmreid_text.datasets.market_mm import MarketMM
from mmreid_text.datasets.msvr310 import MSVR310
from mmreid_text.datasets.rgbnt100 import RGBNT100
from mmreid_text.datasets.synthetic.identity import COLOUR_WORDS
from mmreid_text.datasets.synthetic.multispectral_layouts import (
    SYNTHETIC_LAYOUTS, ensure_synthetic_multispectral,
    make_synthetic_multispectral)
from mmreid_text.datasets.wmveid863 import WMVEID863
from mmreid_text.evaluation import evaluate_rank

VEHICLE_SIZE = (32, 64)
PERSON_SIZE = (64, 32)
LOADERS = dict(
    RGBNT100=RGBNT100, MSVR310=MSVR310, WMVEID863=WMVEID863, MarketMM=MarketMM)
SMALL = dict(
    RGBNT100=dict(num_train_ids=3, num_test_ids=3),
    MSVR310=dict(num_train_ids=3, num_test_ids=4, num_query_ids=2),
    WMVEID863=dict(num_train_ids=3, num_test_ids=3),
    MarketMM=dict(
        num_train_ids=3, num_test_ids=3, num_distractors=2, num_junk=2),
)


def generate(name, root, seed=0, **overrides):
    size = PERSON_SIZE if name == 'MarketMM' else VEHICLE_SIZE
    params = dict(SMALL[name], **overrides)
    return make_synthetic_multispectral(
        name, str(root), seed=seed, img_size=size, **params)


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def file_digests(folder):
    out = {}
    for dirpath, _, files in os.walk(folder):
        for name in files:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, folder)] = f.read()
    return out


@pytest.mark.parametrize('name', sorted(SYNTHETIC_LAYOUTS))
def test_layout_reads_with_the_real_loader(name, tmp_path):
    result = generate(name, tmp_path)
    assert result['generated']
    loader = LOADERS[name]
    train = loader(data_root=result['dataset_dir'], split='train')
    test = loader(data_root=result['dataset_dir'], split='test')
    assert train.num_ids == SMALL[name]['num_train_ids']
    data = infos(test)
    queries = [d for d in data if d['is_query']]
    gallery = [d for d in data if d['is_gallery']]
    assert queries and gallery
    # every query has a positive under the benchmark's protocol
    distmat = np.random.default_rng(0).random((len(queries), len(gallery)))
    protocol = 'msvr310' if name == 'MSVR310' else 'market'
    metrics = evaluate_rank(
        distmat, [d['pid'] for d in queries], [d['pid'] for d in gallery],
        [d['camid'] for d in queries], [d['camid'] for d in gallery],
        protocol=protocol,
        query_meta=dict(scene_id=[d['scene_id'] for d in queries]),
        gallery_meta=dict(scene_id=[d['scene_id'] for d in gallery]))
    assert metrics['num_valid_queries'] == len(queries)
    # ground-truth captions are keyed by the files the loader reads
    caption_dir = osp.join(result['dataset_dir'], 'captions')
    captions = {}
    for file_name in os.listdir(caption_dir):
        captions.update(
            load_caption_file(osp.join(caption_dir, file_name))['captions'])
    for d in infos(train) + data:
        for mod, rel in d['rel_img_path'].items():
            assert captions[rel][mod]['text']


def test_rgbnt100_files_hold_three_tiles_and_queries_are_copies(tmp_path):
    result = generate('RGBNT100', tmp_path)
    image_dir = osp.join(result['dataset_dir'], 'rgbir')
    query_names = sorted(os.listdir(osp.join(image_dir, 'query')))
    assert len(query_names) == 3 * 2
    for name in query_names:
        pid = int(name[:4])
        assert pid % 2 == 0 and len(name) == 18
        with open(osp.join(image_dir, 'query', name), 'rb') as f:
            query = f.read()
        with open(osp.join(image_dir, 'bounding_box_test', name), 'rb') as f:
            assert f.read() == query
        image = np.asarray(Image.open(osp.join(image_dir, 'query', name)))
        assert image.shape == (32, 3 * 64, 3)
    train_pids = {
        int(n[:4])
        for n in os.listdir(osp.join(image_dir, 'bounding_box_train'))
    }
    assert train_pids == {501, 503, 505}
    captions = load_caption_file(
        osp.join(result['dataset_dir'], 'captions', 'query.json'))['captions']
    key = f'rgbir/query/{query_names[0]}'
    assert set(captions[key]) == {'rgb', 'nir', 'tir'}
    for mod in ('nir', 'tir'):
        words = captions[key][mod]['text'].lower().replace('.', '').split()
        assert not set(words) & set(COLOUR_WORDS)


def test_msvr310_query3_in_gallery_and_scenes(tmp_path):
    result = generate('MSVR310', tmp_path)
    data = infos(MSVR310(data_root=result['dataset_dir'], split='test'))
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


def test_market_mm_junk_on_disk_skipped_by_loader(tmp_path):
    result = generate('MarketMM', tmp_path)
    gallery_dir = osp.join(result['dataset_dir'], 'gallery', 'RGB')
    names = os.listdir(gallery_dir)
    assert sum(n.startswith('-1_') for n in names) == 2
    assert sum(n.startswith('0000_') for n in names) == 2
    data = infos(MarketMM(data_root=result['dataset_dir'], split='test'))
    assert sum(d['pid'] == 0 for d in data) == 2
    assert all(d['pid'] != -1 for d in data)
    # query images are not gallery images (Market-1501)
    query = set(os.listdir(osp.join(result['dataset_dir'], 'query', 'RGB')))
    assert not query & set(names)


def test_deterministic_from_seed(tmp_path):
    first = file_digests(generate('WMVEID863', tmp_path / 'a')['dataset_dir'])
    again = file_digests(generate('WMVEID863', tmp_path / 'b')['dataset_dir'])
    other = file_digests(
        generate('WMVEID863', tmp_path / 'c', seed=1)['dataset_dir'])
    assert first == again
    assert first != other


def test_ensure_reuses_and_repairs(tmp_path):
    result = generate('MSVR310', tmp_path)
    size, params = VEHICLE_SIZE, SMALL['MSVR310']
    again = ensure_synthetic_multispectral(
        'MSVR310', str(tmp_path), img_size=size, **params)
    assert not again['generated']
    victim = next(
        osp.join(dirpath, name)
        for dirpath, _, files in os.walk(result['dataset_dir'])
        for name in files if name.endswith('.jpg'))
    os.remove(victim)
    repaired = ensure_synthetic_multispectral(
        'MSVR310', str(tmp_path), img_size=size, **params)
    assert repaired['generated'] and osp.isfile(victim)
    changed = ensure_synthetic_multispectral(
        'MSVR310',
        str(tmp_path),
        img_size=size,
        **dict(params, num_query_ids=1))
    assert changed['generated']
    with open(osp.join(result['dataset_dir'], 'synthetic_manifest.json')) as f:
        assert json.load(f)['params']['num_query_ids'] == 1


def test_never_overwrites_a_real_folder_and_checks_params(tmp_path):
    real = tmp_path / 'MSVR310'
    real.mkdir()
    (real / 'notes.txt').write_text('real data')
    with pytest.raises(RuntimeError, match='left untouched'):
        generate('MSVR310', tmp_path)
    assert (real / 'notes.txt').read_text() == 'real data'
    with pytest.raises(ValueError, match='scenes_per_id'):
        generate('MSVR310', tmp_path / 'x', scenes_per_id=1)
    with pytest.raises(ValueError, match='cameras_per_id'):
        generate('RGBNT100', tmp_path / 'x', cameras_per_id=9)
    with pytest.raises(KeyError, match='RGBNT201'):
        make_synthetic_multispectral('RGBNT201', str(tmp_path))
