# Copyright (c) mmreid_text contributors. All rights reserved.
"""The picture tools on the tiny synthetic data with random-init models:
tools/visualizations/{vis_rank,vis_tsne,vis_attention}.py and
tools/analysis_tools/{deep_prompt_analysis,plot_curves}.py."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from mmreid_text.registry import MODELS
from mmreid_text.utils import load_config, register_all_modules
from mmreid_text.visualization.model_io import dump_test_features
from mmreid_text.visualization.retrieval_figure import CORRECT, WRONG
from .conftest import REPO, TINY_CONFIG, data_options

DEEP_TINY = osp.join(REPO, 'configs', 'deep',
                     'deep_tiny_synthetic_rgbnt201.py')


def _png(path, min_size=(60, 40)) -> np.ndarray:
    """Opens, is big enough and not one colour; the RGB pixels."""
    with Image.open(path) as img:
        assert img.format == 'PNG'
        assert img.size[0] >= min_size[0] and img.size[1] >= min_size[1]
        pixels = np.asarray(img.convert('RGB'))
    assert pixels.std() > 0, f'{path} is blank'
    return pixels


def _has_colour(pixels, colour) -> bool:
    return bool((pixels == np.array(colour, dtype=np.uint8)).all(-1).any())


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A random-init tiny baseline (clip-tiny ViT) checkpoint."""
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(load_config(TINY_CONFIG).model)
    path = tmp_path_factory.mktemp('vis_ckpt') / 'random.pth'
    torch.save(dict(state_dict=model.state_dict()), str(path))
    return str(path)


@pytest.fixture(scope='module')
def dump_file(checkpoint, tiny_data_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp('vis_dump')
    out = str(folder / 'feats.npz')
    options = dict(o.split('=', 1) for o in data_options(tiny_data_root))
    dump_test_features(TINY_CONFIG, checkpoint, out, str(folder / 'work'),
                       options)
    return out


def test_vis_rank_from_config_and_checkpoint(checkpoint, tiny_data_root,
                                             tmp_path, load_tool):
    tool = load_tool('tools/visualizations/vis_rank.py')
    written = tool.main([
        TINY_CONFIG, checkpoint, '--queries', '0', '3', '--topk', '5',
        '--size', '32', '16', '--out-dir',
        str(tmp_path), '--cfg-options', *data_options(tiny_data_root)
    ])
    assert [osp.basename(p)
            for p in written] == ['query_00000.png', 'query_00003.png']
    for path in written:
        pixels = _png(path, (5 * 3 * 16, 32))
        # every gallery entry is framed green (same id) or red
        assert _has_colour(pixels, CORRECT) or _has_colour(pixels, WRONG)


def test_vis_rank_from_a_dump(dump_file, tmp_path, load_tool):
    tool = load_tool('tools/visualizations/vis_rank.py')
    (path, ) = tool.main([
        '--dump', dump_file, '--queries', '1', '--topk', '3', '--out-dir',
        str(tmp_path)
    ])
    _png(path, (3 * 3 * 64, 128))
    with pytest.raises(SystemExit):
        tool.main(['--dump', dump_file, '--queries', '10000'])


def test_vis_rank_draws_seeded_random_queries(dump_file, tmp_path, load_tool):
    tool = load_tool('tools/visualizations/vis_rank.py')

    def rows(*extra):
        out = str(tmp_path / '_'.join(extra))
        paths = tool.main(
            ['--dump', dump_file, '--topk', '2', '--out-dir', out, *extra])
        return [
            int(osp.basename(p)[len('query_'):-len('.png')]) for p in paths
        ]

    first = rows('--num-queries', '3', '--seed', '1')
    assert len(set(first)) == 3 and first == sorted(first)
    assert rows('--num-queries', '3', '--seed', '1') == first
    draws = {
        tuple(rows('--num-queries', '3', '--seed', str(s)))
        for s in range(2, 6)
    }
    assert len(draws | {tuple(first)}) > 1  # the seed changes the rows
    num_query = len(np.load(dump_file)['query_pids'])
    assert rows('--num-queries', '1000') == list(range(num_query))
    with pytest.raises(SystemExit):
        tool.main(
            ['--dump', dump_file, '--queries', '0', '--num-queries', '2'])
    with pytest.raises(SystemExit):
        tool.main(['--dump', dump_file, '--num-queries', '0'])


def test_vis_tsne(dump_file, tmp_path, load_tool):
    tool = load_tool('tools/visualizations/vis_tsne.py')
    out = str(tmp_path / 'tsne.png')
    tool.main(['--dump', dump_file, '--out', out, '--iters', '300'])
    _png(out, (500, 400))
    data = np.load(dump_file)
    feats, pids, markers = tool.select_samples(
        dict(data), '', max_ids=2, max_points=5)
    assert len(feats) == 5 and len(np.unique(pids)) <= 2
    # fused triplets all have the same modalities: markers = query/gallery
    assert set(markers.tolist()) <= {'query', 'gallery'}


def test_vis_tsne_umap(dump_file, tmp_path, load_tool, monkeypatch, capsys):
    """--method umap uses umap-learn when it is installed, and says how to
    get it when it is not (it is not a requirement)."""
    import builtins
    import importlib.util
    tool = load_tool('tools/visualizations/vis_tsne.py')
    out = str(tmp_path / 'umap.png')
    if importlib.util.find_spec('umap') is not None:
        tool.main(['--dump', dump_file, '--out', out, '--method', 'umap'])
        _png(out, (500, 400))
        assert 'UMAP of' in capsys.readouterr().out
    real_import = builtins.__import__

    def no_umap(name, *args, **kwargs):
        if name == 'umap':
            raise ImportError('No module named umap')
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, '__import__', no_umap)
    with pytest.raises(SystemExit, match='pip install umap-learn'):
        tool.main(['--dump', dump_file, '--out', out, '--method', 'umap'])


def test_vis_attention(checkpoint, tiny_data_root, tmp_path, load_tool):
    tool = load_tool('tools/visualizations/vis_attention.py')
    written = tool.main([
        TINY_CONFIG, checkpoint, '--indices', '0', '--out-dir',
        str(tmp_path), '--cfg-options', *data_options(tiny_data_root)
    ])
    pixels = _png(written[0], (3 * 128, 2 * 256))
    # the overlay row differs from the image row (the heat map is drawn)
    half = pixels.shape[0] // 2
    assert not np.array_equal(pixels[:half], pixels[half:2 * half])
    images = [str(tmp_path / f'{m}.png') for m in ('rgb', 'nir', 'tir')]
    for index, path in enumerate(images):
        Image.new('RGB', (32, 64), (60 * index, 100, 200)).save(path)
    out = str(tmp_path / 'from_files.png')
    tool.main([
        TINY_CONFIG, checkpoint, '--images', *images, '--out', out,
        '--cfg-options', *data_options(tiny_data_root)
    ])
    _png(out, (3 * 128, 2 * 256))
    with pytest.raises(SystemExit, match='one image per modality'):
        tool.main([TINY_CONFIG, checkpoint, '--images', images[0]])


def test_deep_prompt_analysis(tmp_path, load_tool):
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(load_config(DEEP_TINY).model)
    ckpt = str(tmp_path / 'deep.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    vocab = tmp_path / 'words.txt'
    vocab.write_text('backpack\nhandbag\nsedan\n')
    tool = load_tool('tools/analysis_tools/deep_prompt_analysis.py')
    out = tmp_path / 'out'
    result = tool.main([
        DEEP_TINY, ckpt, '--out-dir',
        str(out), '--topk', '2', '--vocab',
        str(vocab)
    ])
    labels = result['labels']
    assert len(labels) == 3 * 4 and labels[4] == 'nir[0]'
    _png(out / 'similarity.png', (400, 400))
    rows = (out / 'similarity.csv').read_text().splitlines()
    assert rows[0].split(',')[1:] == labels
    # the matrix file is the cosine of the checkpoint's tokens
    tokens = model.necks[0].spectral_tokens.detach().reshape(12, -1)
    unit = torch.nn.functional.normalize(tokens, dim=1)
    values = np.array([r.split(',')[1:] for r in rows[1:]], dtype=float)
    np.testing.assert_allclose(values, (unit @ unit.T).numpy(), atol=1e-5)
    table = (out / 'nearest_words.md').read_text()
    assert '| rgb[0] |' in table
    words = {
        cell.split(' (')[0].strip()
        for line in table.splitlines()[2:]
        for cell in line.split('|')[2:-1]
    }
    assert words <= {'backpack', 'handbag', 'sedan'}
    assert (out / 'nearest_words.csv').exists()


def test_plot_curves(tmp_path, load_tool):
    folder = tmp_path / 'run' / '20260101_000000' / 'vis_data'
    folder.mkdir(parents=True)
    records = [
        dict(lr=1e-3, loss=2.0, loss_id=1.5, iter=1, epoch=1, step=1),
        dict(lr=5e-4, loss=1.0, loss_id=0.8, iter=2, epoch=1, step=2),
        {
            'test-monitor/mAP': 30.0,
            'step': 1
        },
    ]
    (folder /
     'scalars.json').write_text('\n'.join(json.dumps(r)
                                          for r in records) + '\n')
    tool = load_tool('tools/analysis_tools/plot_curves.py')
    out = tool.main([str(tmp_path / 'run')])
    assert out == str(tmp_path / 'run' / 'curves.png')
    _png(out, (900, 300))


def test_vis_rank_and_tsne_from_extracted_features(checkpoint, dump_file,
                                                   tiny_data_root, tmp_path,
                                                   load_tool):
    """``--feats``: the dump of tools/extract_features.py; its distances
    are the metric dump's (same features and metric)."""
    feats = str(tmp_path / 'split.npz')
    load_tool('tools/extract_features.py').main([
        TINY_CONFIG, checkpoint, '--split', 'test', '--out', feats, '--device',
        'cpu', '--cfg-options', *data_options(tiny_data_root)
    ])
    from mmreid_text.visualization.model_io import from_feature_dump
    converted = from_feature_dump(feats)
    metric_dump = dict(np.load(dump_file))
    for key in ('query_pids', 'gallery_pids', 'query_camids'):
        np.testing.assert_array_equal(converted[key], metric_dump[key])
    # a sample that is both query and gallery is at inf from itself
    finite = np.isfinite(converted['distmat'])
    assert (~finite).sum() == min(converted['distmat'].shape)
    np.testing.assert_allclose(
        converted['distmat'][finite],
        metric_dump['distmat'][finite],
        rtol=1e-4,
        atol=1e-4)
    assert osp.isabs(
        next(iter(json.loads(str(converted['query_img_paths'][0])).values())))
    rank = load_tool('tools/visualizations/vis_rank.py')
    (path, ) = rank.main([
        '--feats', feats, '--queries', '2', '--topk', '4', '--out-dir',
        str(tmp_path / 'rank')
    ])
    _png(path, (4 * 3 * 64, 128))
    out = str(tmp_path / 'tsne.png')
    load_tool('tools/visualizations/vis_tsne.py').main(
        ['--feats', feats, '--out', out, '--iters', '260'])
    _png(out, (500, 400))


def test_vis_roc_from_a_dump(dump_file, tmp_path, load_tool, capsys):
    """The curve is evaluate_roc's, the printed TPRs are its values."""
    from mmreid_text.evaluation.functional import evaluate_roc
    from mmreid_text.visualization.model_io import load_dump
    tool = load_tool('tools/visualizations/vis_roc.py')
    out = tool.main([
        '--dump', dump_file, '--out',
        str(tmp_path / 'roc.png'), '--points', '20'
    ])
    _png(out, (600, 400))
    dump = load_dump(dump_file)
    expected = evaluate_roc(
        dump['distmat'],
        dump['query_pids'],
        dump['gallery_pids'],
        dump['query_camids'],
        dump['gallery_camids'],
        fprs=(1e-2, ))
    printed = capsys.readouterr().out
    assert f'TPR@FPR=1e-02: {100 * expected["tpr"][0]:.2f}%' in printed
    assert "pair rule: protocol 'market'" in printed  # the dump's
    # a dump without the record falls back to market and says so
    old = dict(dump, info=np.asarray(json.dumps(dict(metric='euclidean'))))
    assert tool.dump_protocol(old) == 'market'
    assert '--protocol' in capsys.readouterr().out
    assert tool.dump_protocol(
        dict(info=np.asarray(json.dumps(dict(protocol_cfg=dict(
            type='vcm')))))) == dict(type='vcm')


def test_two_dumps_in_the_same_second(checkpoint, tiny_data_root, tmp_path,
                                      monkeypatch):
    """Runners started in the same second share mmengine's timestamp; the
    second dump must not reuse the first's Visualizer (whose work dir is
    gone) - dump_test_features names each run uniquely."""
    import shutil
    import time
    frozen = time.time()
    monkeypatch.setattr(time, 'time', lambda: frozen)
    options = dict(o.split('=', 1) for o in data_options(tiny_data_root))
    for index in range(2):
        work = tmp_path / f'work{index}'
        dump = dump_test_features(TINY_CONFIG, checkpoint,
                                  str(tmp_path / f'feats{index}.npz'),
                                  str(work), options)
        assert dump['distmat'].size
        shutil.rmtree(work)
