# Copyright (c) mmreid_text contributors. All rights reserved.
"""tools/extract_features.py and tools/search.py end to end on the tiny
synthetic RGBNT201 data with a checkpoint of a freshly built model."""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from .conftest import REPO, TINY_CONFIG, data_options


def _tool(name):
    path = osp.join(REPO, 'tools', name)
    spec = importlib.util.spec_from_file_location(name[:-3] + '_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXTRACT = _tool('extract_features.py')
SEARCH = _tool('search.py')


@pytest.fixture(scope='module')
def setup(tmp_path_factory, tiny_data_root):
    from mmreid_text.apis import ReIDInferencer
    work = tmp_path_factory.mktemp('extract')
    options = dict(o.split('=', 1) for o in data_options(tiny_data_root))
    torch.manual_seed(0)
    inferencer = ReIDInferencer(TINY_CONFIG, device='cpu', cfg_options=options)
    ckpt = str(work / 'model.pth')
    torch.save({'state_dict': inferencer.model.state_dict()}, ckpt)
    return work, ckpt, inferencer, options


@pytest.fixture(scope='module')
def dump(setup, tiny_data_root):
    work, ckpt, _, _ = setup
    out = str(work / 'feats.npz')
    EXTRACT.main([
        TINY_CONFIG, ckpt, '--split', 'test', '--out', out, '--batch-size',
        '5', '--device', 'cpu', '--cfg-options', *data_options(tiny_data_root)
    ])
    return out


def test_dump_holds_features_and_labels(setup, dump, tiny_data_root):
    _, ckpt, inferencer, _ = setup
    d = np.load(dump, allow_pickle=False)
    n = len(d['feats'])
    assert n == 16 and d['feats'].shape == (16, 384)
    assert d['feats'].dtype == np.float32
    for key in ('pids', 'camids', 'scene_ids', 'modality', 'modalities',
                'is_query', 'is_gallery', 'paths'):
        assert len(d[key]) == n, key
    assert d['is_query'].all() and d['is_gallery'].all()  # RGBNT201 test
    assert sorted(set(d['pids'].tolist())) == sorted(set(d['pids']))
    assert set(d['camids'].tolist()) <= {0, 1, 2, 3}
    assert json.loads(str(d['modalities'][0])) == ['rgb', 'nir', 'tir']
    paths = [json.loads(str(p)) for p in d['paths']]
    assert all(not osp.isabs(p['rgb']) for p in paths)
    assert str(d['data_root']) == osp.abspath(tiny_data_root)
    info = json.loads(str(d['info']))
    assert info['split'] == 'test' and info['metric'] == 'euclidean'
    assert info['feat_norm'] is True and info['checkpoint'] == ckpt
    # the same features as the inferencer on those files
    root = str(d['data_root'])
    samples = [{m: osp.join(root, v) for m, v in p.items()} for p in paths[:4]]
    np.testing.assert_allclose(inferencer(samples), d['feats'][:4], atol=1e-5)


def test_train_split_uses_the_test_pipeline(setup, tmp_path, tiny_data_root):
    _, ckpt, _, _ = setup
    out = str(tmp_path / 'train.npz')
    EXTRACT.main([
        TINY_CONFIG, ckpt, '--split', 'train', '--out', out, '--cfg-options',
        *data_options(tiny_data_root)
    ])
    d = np.load(out)
    assert len(d['feats']) > 16 and set(d['pids'].tolist()) == set(range(8))
    assert not d['is_query'].any()
    # no random augmentation: extracting twice gives the same features
    EXTRACT.main([
        TINY_CONFIG, ckpt, '--split', 'train', '--out', out + '2.npz',
        '--cfg-options', *data_options(tiny_data_root)
    ])
    np.testing.assert_array_equal(d['feats'], np.load(out + '2.npz')['feats'])


def _table(out):
    """The rows of the printed table (split on whitespace)."""
    lines = out.strip().splitlines()
    head = next(i for i, line in enumerate(lines)
                if line.split()[:2] == ['rank', 'pid'])
    assert 'distance' in lines[head] and 'match' in lines[head]
    return [
        line.split() for line in lines[head + 2:]
        if line.split() and line.split()[0].isdigit()
    ]


def test_search_by_index_prints_and_draws(dump, tmp_path, capsys):
    png = str(tmp_path / 'rank.png')
    SEARCH.main([dump, '--query-index', '2', '--topk', '5', '--draw', png])
    out = capsys.readouterr().out
    rows = _table(out)
    assert [r[0] for r in rows] == ['1', '2', '3', '4', '5']
    d = np.load(dump)
    q_pid, q_cam = d['pids'][2], d['camids'][2]
    # hand-computed ranking: normalised euclidean, market rule, no self
    f = d['feats'] / np.linalg.norm(d['feats'], axis=1, keepdims=True)
    dist = np.linalg.norm(f - f[2], axis=1)
    keep = ~((d['pids'] == q_pid) & (d['camids'] == q_cam))
    keep[2] = False
    rows_idx = np.flatnonzero(keep)
    expected = rows_idx[np.argsort(dist[rows_idx], kind='stable')[:5]]
    assert [int(r[1]) for r in rows] == d['pids'][expected].tolist()
    np.testing.assert_allclose([float(r[4]) for r in rows],
                               dist[expected],
                               atol=1e-3)
    assert [r[5] for r in rows
            ] == ['yes' if p == q_pid else 'no' for p in d['pids'][expected]]
    img = np.asarray(Image.open(png).convert('RGB'))
    # query + 5 samples, three modalities each
    assert img.shape[1] > 6 * 3 * 64 and img.std() > 10
    green = ((img[..., 1] > 150) & (img[..., 0] < 80)).any()
    red = ((img[..., 0] > 190) & (img[..., 1] < 60)).any()
    assert green or red


def test_search_with_a_new_query_triplet(setup, dump, capsys, tiny_data_root):
    _, ckpt, _, options = setup
    d = np.load(dump)
    paths = json.loads(str(d['paths'][5]))
    root = str(d['data_root'])
    SEARCH.main([
        dump, '--config', TINY_CONFIG, '--checkpoint', ckpt, '--device', 'cpu',
        '--topk', '3', '--query-image',
        *[f'{m}={osp.join(root, p)}' for m, p in paths.items()],
        '--cfg-options', *data_options(tiny_data_root)
    ])
    out = capsys.readouterr().out
    first = _table(out)[0]
    # the query is a gallery sample: it is found first at distance 0
    assert first[0] == '1' and int(first[1]) == d['pids'][5]
    assert float(first[4]) < 1e-3 and first[5] == '-'
    assert paths['rgb'] in out


def test_search_usage_errors(dump, tmp_path):
    search = SEARCH
    with pytest.raises(SystemExit):
        search.main([dump, '--query-image', 'rgb=a.jpg'])
    with pytest.raises(SystemExit, match='outside'):
        search.main([dump, '--query-index', '99'])
    np.savez(str(tmp_path / 'other.npz'), distmat=np.zeros((2, 2)))
    with pytest.raises(KeyError, match='not a dump of'):
        search.main([str(tmp_path / 'other.npz'), '--query-index', '0'])


SYSU_GENERATOR = dict(
    seed=0,
    img_size=(64, 32),
    num_train_ids=4,
    num_val_ids=2,
    num_test_ids=3,
    rgb_cameras_per_id=2,
    ir_cameras_per_id=2,
    images_per_camera=1)


def test_visible_infrared_dump_and_cross_modality_search(tmp_path, capsys):
    """Tiny EEES on synthetic SYSU-MM01: one modality per row; an infrared
    query ranks the visible gallery only."""
    from mmreid_text.apis import ReIDInferencer
    from mmreid_text.synthetic import ensure_synthetic
    ensure_synthetic(
        'SYSUMM01', str(tmp_path), progress=False, **SYSU_GENERATOR)
    config = osp.join(REPO, 'configs', 'eees', 'eees_tiny_synthetic_sysu.py')
    options = [f'test_dataloader.dataset.data_root={tmp_path}/SYSU-MM01'] + [
        f'test_dataloader.dataset.generator.{k}={v}'
        for k, v in SYSU_GENERATOR.items() if k != 'img_size'
    ]
    model = ReIDInferencer(config, device='cpu').model
    ckpt = str(tmp_path / 'eees.pth')
    torch.save({'state_dict': model.state_dict()}, ckpt)
    out = str(tmp_path / 'sysu.npz')
    EXTRACT.main(
        [config, ckpt, '--out', out, '--device', 'cpu', '--cfg-options'] +
        options)
    d = np.load(out)
    assert set(d['modality'].tolist()) == {'vis', 'ir'}
    # SYSU-MM01 test: infrared queries, visible gallery
    assert set(d['modality'][d['is_query']].tolist()) == {'ir'}
    assert set(d['modality'][d['is_gallery']].tolist()) == {'vis'}
    assert json.loads(str(d['modalities'][0])) in (['vis'], ['ir'])
    query = int(np.flatnonzero(d['is_query'])[0])
    SEARCH.main([out, '--query-index', str(query), '--topk', '3'])
    rows = _table(capsys.readouterr().out)
    assert len(rows) == 3 and {r[3] for r in rows} == {'vis'}
