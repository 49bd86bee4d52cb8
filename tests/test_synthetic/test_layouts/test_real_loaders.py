# Copyright (c) mmreid_text contributors. All rights reserved.
"""Every layout is read by the real loader of its benchmark, every query
has a positive under the benchmark's protocol, the captions are keyed by
the files the loader reads, and NIR / TIR files are grey."""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmreid_text.captions.format import load_caption_file
from mmreid_text.evaluation import evaluate_rank
from mmreid_text.registry import DATASETS
from mmreid_text.synthetic import SYNTHETIC_LAYOUTS
from ..conftest import TINY, generate_tiny


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


@pytest.fixture(scope='module', params=sorted(SYNTHETIC_LAYOUTS))
def tiny_set(request, tmp_path_factory):
    name = request.param
    return name, generate_tiny(name, tmp_path_factory.mktemp(name))


def test_layout_reads_with_the_real_loader(tiny_set):
    name, result = tiny_set
    assert result['generated'] and result['dataset'] == name
    loader = DATASETS.get(SYNTHETIC_LAYOUTS[name].loader)
    train = loader(data_root=result['dataset_dir'], split='train')
    test = loader(data_root=result['dataset_dir'], split='test')
    assert train.num_ids == TINY[name]['num_train_ids']
    data = infos(test)
    queries = [d for d in data if d['is_query']]
    gallery = [d for d in data if d['is_gallery']]
    assert queries and gallery
    # one sample per image (per tracklet in the video layouts)
    assert len(infos(train)) + len(data) >= sum(
        s.get('tracks', s['samples'] - s['junk'])
        for s in result['splits'].values())
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
        data_file = load_caption_file(osp.join(caption_dir, file_name))
        assert data_file['dataset'] == name
        assert data_file['source'] == 'synthetic ground truth'
        captions.update(data_file['captions'])
    for d in infos(train) + data:
        for mod, rel in d['rel_img_path'].items():
            for frame in rel if isinstance(rel, list) else [rel]:
                assert captions[frame][mod]['text']


def test_nir_and_tir_are_grey_rgb_is_not(tiny_set):
    name, result = tiny_set
    layout = SYNTHETIC_LAYOUTS[name]
    test = DATASETS.get(layout.loader)(
        data_root=result['dataset_dir'], split='test')
    colourful = checked = 0
    data = infos(test)
    for info in data[::3 if len(data) > 12 else 1]:
        tiles = {}
        # the first frame of a tracklet (video layouts)
        paths = {
            m: p[0] if isinstance(p, list) else p
            for m, p in info['img_path'].items()
        }
        for mod, path in paths.items():
            with Image.open(path) as img:
                pixels = np.asarray(img, dtype=np.int16)
            if len(set(paths.values())) == 1 < len(paths):  # RGBNT100 tiles
                pixels = np.split(
                    pixels, 3, axis=1)[('rgb', 'nir', 'tir').index(mod)]
            tiles[layout.rendered.get(
                mod, mod)] = np.abs(pixels - pixels[..., :1]).max()
        assert all(tiles[m] <= 2 for m in ('nir', 'tir')
                   if m in tiles), (info, tiles)
        if 'rgb' in tiles:  # visible-infrared tracklets have one modality
            colourful += int(tiles['rgb'] > 10)
            checked += 1
    assert colourful == checked >= 3
