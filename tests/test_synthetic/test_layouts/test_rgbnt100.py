# Copyright (c) mmreid_text contributors. All rights reserved.
import os
import os.path as osp

import numpy as np
from PIL import Image

from mmreid_text.captions.format import load_caption_file
from mmreid_text.synthetic import COLOUR_WORDS
from ..conftest import VEHICLE_SIZE, generate_tiny


def test_files_hold_three_tiles_and_queries_are_copies(tmp_path):
    result = generate_tiny('RGBNT100', tmp_path)
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
        assert image.shape == (VEHICLE_SIZE[0], 3 * VEHICLE_SIZE[1], 3)
    train_pids = {
        int(n[:4])
        for n in os.listdir(osp.join(image_dir, 'bounding_box_train'))
    }
    assert train_pids == {501, 503, 505}
    assert result['splits']['rgbir/query']['images'] == 6
    captions = load_caption_file(
        osp.join(result['dataset_dir'], 'captions', 'query.json'))['captions']
    key = f'rgbir/query/{query_names[0]}'
    assert set(captions[key]) == {'rgb', 'nir', 'tir'}
    for mod in ('nir', 'tir'):
        words = captions[key][mod]['text'].lower().replace('.', '').split()
        assert not set(words) & set(COLOUR_WORDS)
