# Copyright (c) mmreid_text contributors. All rights reserved.
"""Retrieval figures drawn from a hand-made dump with coloured images."""
import json

import numpy as np
import pytest
from PIL import Image

from mmreid_text.visualization import (draw_retrieval, rank_gallery,
                                       sample_tiles)
from mmreid_text.visualization.retrieval_figure import CORRECT, QUERY, WRONG

MODS = ('rgb', 'nir', 'tir')
COLOURS = dict(rgb=(200, 50, 50), nir=(50, 200, 50), tir=(50, 50, 200))


def _images(tmp_path, name):
    paths = {}
    for mod in MODS:
        path = tmp_path / f'{name}_{mod}.png'
        Image.new('RGB', (8, 16), COLOURS[mod]).save(path)
        paths[mod] = str(path)
    return paths


@pytest.fixture
def dump(tmp_path):
    query = [_images(tmp_path, 'q0')]
    gallery = [_images(tmp_path, f'g{i}') for i in range(4)]
    return dict(
        distmat=np.array([[0.4, 0.1, 0.3, 0.2]]),
        query_pids=np.array([7]),
        query_camids=np.array([0]),
        gallery_pids=np.array([7, 7, 3, 7]),
        gallery_camids=np.array([1, 0, 1, 2]),
        query_img_paths=np.array([json.dumps(p) for p in query]),
        gallery_img_paths=np.array([json.dumps(p) for p in gallery]))


def test_rank_gallery_skips_same_camera_matches(dump):
    order, correct = rank_gallery(
        dump['distmat'][0],
        7,
        0,
        dump['gallery_pids'],
        dump['gallery_camids'],
        topk=3)
    # gallery 1 (d=0.1) is pid 7 in camera 0: ignored by the protocol
    assert order.tolist() == [3, 2, 0]
    assert correct.tolist() == [True, False, True]
    order, _ = rank_gallery(
        dump['distmat'][0],
        7,
        0,
        dump['gallery_pids'],
        dump['gallery_camids'],
        3,
        skip_same_camera=False)
    assert order.tolist() == [1, 3, 2]


def test_frames_and_modalities_of_each_tile(dump, tmp_path):
    img = draw_retrieval(dump, 0, topk=3, size=(16, 8), border=2)
    pixels = np.asarray(img)
    assert pixels.std() > 0
    # entries: query, #1 (gallery 3, correct), #2 (gallery 2, wrong), #3
    tile_w, gap, top = 3 * 8 + 4, 10, 26 + 4
    expected = [QUERY, CORRECT, WRONG, CORRECT]
    assert img.size == (4 * tile_w + 5 * gap, 16 + 4 + 26 + 8)
    for index, frame in enumerate(expected):
        x = gap + index * (tile_w + gap)
        assert tuple(pixels[top, x]) == frame  # frame corner
        for slot, mod in enumerate(MODS):  # modality images side by side
            centre = pixels[top + 2 + 8, x + 2 + slot * 8 + 4]
            assert tuple(centre) == COLOURS[mod]


def test_single_modality_and_tracklet_entries(tmp_path):
    paths = _images(tmp_path, 's')
    assert sample_tiles(json.dumps(paths['nir'])) == [('img', paths['nir'])]
    frames = [paths['rgb'], paths['nir'], paths['tir']]
    assert sample_tiles(json.dumps({'ir': frames})) == [('ir', paths['nir'])]
    assert sample_tiles(
        json.dumps({'ir': frames}), frame='first') == [('ir', paths['rgb'])]
    # a VI figure: the query has 'ir', the gallery 'vis'
    assert sample_tiles(json.dumps({'vis': paths['rgb']}),
                        ['vis', 'ir']) == [('vis', paths['rgb'])]


def test_missing_keys_name_the_prefix(dump):
    with pytest.raises(KeyError, match='ir2vis_distmat'):
        draw_retrieval(dump, 0, prefix='ir2vis_')
    with pytest.raises(IndexError):
        draw_retrieval(dump, 3)


def test_multi_setting_tracklet_dump(tmp_path):
    """A vcm-style dump: settings prefixed, infrared query tracklets
    against visible gallery tracklets, one tile (the middle frame) each."""
    from mmreid_text.visualization.model_io import dump_settings
    paths = _images(tmp_path, 't')
    frames = [paths['tir'], paths['nir'], paths['rgb']]  # middle = nir
    dump = dict(
        info=np.asarray(json.dumps(dict(settings=['ir2vis', 'vis2ir']))),
        ir2vis_distmat=np.array([[0.5, 0.2]]),
        ir2vis_query_pids=np.array([1]),
        ir2vis_query_camids=np.array([0]),
        ir2vis_gallery_pids=np.array([1, 2]),
        ir2vis_gallery_camids=np.array([1, 1]),
        ir2vis_query_img_paths=np.array([json.dumps({'ir': frames})]),
        ir2vis_gallery_img_paths=np.array([json.dumps({'vis': frames})] * 2))
    assert dump_settings(dump) == ['ir2vis_', 'vis2ir_']
    img = draw_retrieval(
        dump, 0, topk=2, prefix='ir2vis_', size=(16, 8), border=2)
    pixels = np.asarray(img)
    tile_w, gap, top = 8 + 4, 10, 30
    assert img.size == (3 * tile_w + 4 * gap, 16 + 4 + 26 + 8)
    for index, frame in enumerate([QUERY, WRONG, CORRECT]):
        x = gap + index * (tile_w + gap)
        assert tuple(pixels[top, x]) == frame
        assert tuple(pixels[top + 10, x + 6]) == COLOURS['nir']
    first = draw_retrieval(
        dump,
        0,
        topk=1,
        prefix='ir2vis_',
        size=(16, 8),
        border=2,
        frame='first')
    assert tuple(np.asarray(first)[top + 10, gap + 6]) == COLOURS['tir']
