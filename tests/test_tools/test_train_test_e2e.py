# Copyright (c) mmreid_text contributors. All rights reserved.
"""End to end: train the tiny config, evaluate, test tools and checks."""
import os.path as osp
import re
import shutil

import numpy as np
import pytest
import torch

from .conftest import REPO, TINY_CONFIG, data_options, run_tool

TRAIN = osp.join(REPO, 'tools', 'train.py')
TEST = osp.join(REPO, 'tools', 'test.py')


@pytest.fixture(scope='module')
def trained(tmp_path_factory, tiny_data_root):
    work = tmp_path_factory.mktemp('e2e')
    out = run_tool([
        TRAIN, TINY_CONFIG, '--work-dir',
        str(work), '--cfg-options', *data_options(tiny_data_root)
    ],
                   cwd=work)
    return work, out


def test_training_logs_losses_and_evaluates(trained):
    work, out = trained
    assert re.search(r'loss_id: [\d.]+ +loss_triplet: [\d.]+', out)
    # the val loop runs on the test split: labelled as test monitoring
    assert 'The val loop evaluates the TEST split (SyntheticRGBNT201 ' \
        "split='test') for monitoring only" in out
    assert re.search(r'test-monitor/mAP: [\d.]+', out)
    assert not re.search(r'reid/mAP: [\d.]+', out)
    assert osp.isfile(work / 'epoch_2.pth')
    assert not list(work.glob('best_*.pth'))
    assert f'Reported result: the last epoch (2), {work / "epoch_2.pth"}' \
        in out


def test_test_tool_dumps_features_and_distances(trained, tmp_path,
                                                tiny_data_root):
    work, _ = trained
    dump = str(tmp_path / 'feats.npz')
    out = run_tool([
        TEST, TINY_CONFIG,
        str(work / 'epoch_2.pth'), '--work-dir',
        str(tmp_path), '--dump', dump, '--amp', '--cfg-options',
        *data_options(tiny_data_root)
    ],
                   cwd=tmp_path)
    assert re.search(r'reid/mAP: [\d.]+', out)
    assert f'Reported checkpoint: {work / "epoch_2.pth"} (epoch 2) on ' \
        'SyntheticRGBNT201 split=test.' in out
    if not torch.cuda.is_available():  # CPU: full precision, and says so
        assert '--amp ignored' in out
    d = np.load(dump)
    n_q, n_g = len(d['query_pids']), len(d['gallery_pids'])
    assert n_q == n_g == 16  # the tiny test split is query and gallery
    assert d['distmat'].shape == (n_q, n_g)
    assert d['query_feats'].shape[0] == n_q

    # ranked-list pictures from the dump
    out_dir = tmp_path / 'ranked'
    run_tool([
        osp.join(REPO, 'tools', 'visualizations', 'vis_rank.py'), '--dump',
        dump, '--out-dir',
        str(out_dir), '--queries', '0', '3', '--topk', '4'
    ],
             cwd=tmp_path)
    pngs = sorted(out_dir.iterdir())
    assert [p.name for p in pngs] == ['query_00000.png', 'query_00003.png']
    from PIL import Image
    img = Image.open(pngs[0])
    # query + 4 matches, each three modalities wide
    assert img.width > 5 * 3 * 64 and img.height > 128


def test_missing_modality_table(trained, tmp_path, tiny_data_root):
    work, _ = trained
    out = run_tool([
        TEST, TINY_CONFIG,
        str(work / 'epoch_2.pth'), '--work-dir',
        str(tmp_path), '--missing', 'all', '--dump',
        str(tmp_path / 'f.npz'), '--cfg-options', *data_options(tiny_data_root)
    ],
                   cwd=tmp_path)
    # the default protocol is the paper's: blank input, model unchanged
    assert 'missing-mode input' in out and 'missing-mode masked' not in out
    for setting in ('M(RGB)', 'M(NIR)', 'M(TIR)', 'M(RGB+NIR)', 'M(RGB+TIR)',
                    'M(NIR+TIR)', 'average'):
        assert setting in out, setting
    # blanking changes the features, so not every setting scores the same
    rows = re.findall(r'M\([A-Z+]+\)\s+([\d.]+)\s+([\d.]+)', out)
    assert len(rows) == 6 and len(set(rows)) > 1
    # one feature dump per setting
    assert osp.isfile(tmp_path / 'f_missing-nir+tir.npz')
    assert len(list(tmp_path.glob('f_missing-*.npz'))) == 6


def test_missing_modality_table_both_modes(trained, tmp_path, tiny_data_root):
    work, _ = trained
    out = run_tool([
        TEST, TINY_CONFIG,
        str(work / 'epoch_2.pth'), '--work-dir',
        str(tmp_path), '--missing', 'nir', '--missing-mode', 'both', '--dump',
        str(tmp_path / 'f.npz'), '--cfg-options', *data_options(tiny_data_root)
    ],
                   cwd=tmp_path)
    tables = out[out.index('missing-mode input'):]
    assert 'missing-mode masked' in tables
    first, second = tables.split('missing-mode masked')
    rows = [
        re.findall(r'M\(NIR\)\s+([\d.]+)\s+([\d.]+)', part)
        for part in (first, second)
    ]
    # the baseline reads no presence mask: both protocols score the same
    assert len(rows[0]) == len(rows[1]) == 1 and rows[0] == rows[1]
    assert sorted(p.name for p in tmp_path.glob('f*.npz')) == [
        'f_input.npz', 'f_masked.npz'
    ]
    with pytest.raises(AssertionError, match='needs --missing'):
        run_tool([
            TEST, TINY_CONFIG,
            str(work / 'epoch_2.pth'), '--missing-mode', 'masked'
        ],
                 cwd=tmp_path)


def test_unknown_config_key_fails_early(tmp_path, tiny_data_root):
    with pytest.raises(AssertionError) as err:
        run_tool([
            TRAIN, TINY_CONFIG, '--cfg-options', 'train_cfgg.max_epochs=1',
            *data_options(tiny_data_root)
        ],
                 cwd=tmp_path)
    assert 'train_cfgg' in str(err.value) and 'train_cfg' in str(err.value)


def test_check_dataset_reports_corrupt_image(tmp_path, tiny_data_root):
    root = tmp_path / 'RGBNT201'
    shutil.copytree(tiny_data_root, root)
    victim = sorted((root / 'test' / 'NI').iterdir())[0]
    victim.write_bytes(b'not an image')
    options = [
        f'train_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}'
    ]
    tool = osp.join(REPO, 'tools', 'misc', 'check_dataset.py')
    with pytest.raises(AssertionError) as err:
        run_tool([tool, TINY_CONFIG, '--cfg-options', *options], cwd=tmp_path)
    assert victim.name in str(err.value)
    good = run_tool([
        tool, TINY_CONFIG, '--cfg-options', *data_options(tiny_data_root)[::2]
    ],
                    cwd=tmp_path)
    assert 'OK' in good


def test_chance_level_tool(tmp_path, tiny_data_root):
    out = run_tool([
        osp.join(REPO, 'tools', 'analysis_tools',
                 'chance_level.py'), TINY_CONFIG, '--trials', '5',
        '--cfg-options', f'test_dataloader.dataset.data_root={tiny_data_root}'
    ],
                   cwd=tmp_path)
    found = dict(re.findall(r'(mAP|R1)\s+([\d.]+)', out))
    assert 0 < float(found['mAP']) < 100


def test_missing_settings_of_spectra_subsets(load_tool):
    tool = load_tool('tools/test.py')
    assert tool.missing_settings(('rgb', 'tir'), 'all') == [('rgb', ),
                                                            ('tir', )]
    assert tool.missing_settings(('rgb', 'tir'), None) == [()]
    # a Table IX single-spectrum model has nothing to blank
    with pytest.raises(SystemExit, match='only'):
        tool.missing_settings(('tir', ), 'all')
    with pytest.raises(SystemExit, match='unknown modalities'):
        tool.missing_settings(('rgb', 'tir'), 'nir')
