# Copyright (c) mmreid_text contributors. All rights reserved.
"""Training curves from mmengine scalar logs and the embedding scatter."""
import json

import numpy as np
import pytest

from mmreid_text.visualization import (collect_curves, find_scalar_logs,
                                       load_scalars, plot_embedding,
                                       plot_training_curves)
from .conftest import assert_not_blank

TRAIN = [
    dict(
        lr=1e-4,
        base_lr=1e-4,
        data_time=0.1,
        loss=3.0,
        loss_id=2.0,
        loss_triplet=1.0,
        time=0.5,
        epoch=1,
        iter=10,
        memory=100,
        step=10),
    dict(
        lr=2e-4,
        base_lr=2e-4,
        data_time=0.1,
        loss=2.0,
        loss_id=1.5,
        loss_triplet=0.5,
        time=0.5,
        epoch=1,
        iter=20,
        memory=100,
        step=20),
]
VAL = [
    {
        'test-monitor/mAP': 10.0,
        'test-monitor/R1': 20.0,
        'test-monitor/num_queries': 8,
        'test-monitor/mAP_std': 0.1,
        'data_time': 0.1,
        'time': 0.2,
        'step': 1
    },
]


def _write_run(root, stamp, records):
    folder = root / stamp / 'vis_data'
    folder.mkdir(parents=True)
    with open(folder / 'scalars.json', 'w') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')
    return folder / 'scalars.json'


def test_curves_from_a_hand_written_log(tmp_path):
    later = _write_run(tmp_path, '20260102_000000', [dict(TRAIN[1], iter=30)])
    first = _write_run(tmp_path, '20260101_000000', TRAIN + VAL)
    assert find_scalar_logs(str(tmp_path)) == [str(first), str(later)]
    curves = collect_curves(load_scalars(find_scalar_logs(str(tmp_path))))
    assert set(curves) == {'loss', 'lr', 'metric'}
    assert set(curves['loss']) == {'loss', 'loss_id', 'loss_triplet'}
    assert curves['loss']['loss_id'] == ([10.0, 20.0, 30.0], [2.0, 1.5, 1.5])
    assert set(curves['lr']) == {'lr', 'base_lr'}
    # counts and trial spreads are not curves; steps of val = epochs
    assert curves['metric'] == {
        'test-monitor/mAP': ([1.0], [10.0]),
        'test-monitor/R1': ([1.0], [20.0])
    }
    only = collect_curves(load_scalars([str(first)]), include=['loss_id'])
    assert list(only) == ['loss'] and list(only['loss']) == ['loss_id']
    out = tmp_path / 'curves.png'
    assert plot_training_curves(curves, str(out)) == ['loss', 'lr', 'metric']
    pixels = assert_not_blank(out, (900, 300))
    # three subplots: each third of the figure holds drawn (non-white) ink
    thirds = np.array_split(pixels, 3, axis=1)
    assert all((t < 250).any() for t in thirds)


def test_missing_and_malformed_logs(tmp_path):
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        find_scalar_logs(str(tmp_path))
    bad = tmp_path / 'scalars.json'
    bad.write_text('{"loss": 1, "iter": 1}\nnot json\n')
    with pytest.raises(ValueError, match='scalars.json:2'):
        load_scalars([str(bad)])
    with pytest.raises(ValueError, match='no loss'):
        plot_training_curves({}, str(tmp_path / 'x.png'))


def test_embedding_scatter(tmp_path):
    rng = np.random.default_rng(0)
    points = rng.normal(size=(60, 2))
    pids = np.repeat(np.arange(6), 10)
    modalities = ['vis', 'ir'] * 30
    out = tmp_path / 'tsne.png'
    plot_embedding(points, pids, modalities, str(out))
    assert_not_blank(out, (500, 400))
    with pytest.raises(ValueError, match='one of each per sample'):
        plot_embedding(points, pids[:5], modalities, str(out))


def test_roc_plot(tmp_path):
    from mmreid_text.visualization.plots import plot_roc
    fpr = np.geomspace(1e-4, 1, 20)
    out = str(tmp_path / 'roc.png')
    plot_roc({'a': (fpr, np.sqrt(fpr)), 'b': (fpr, fpr)}, out)
    assert_not_blank(out, (600, 400))
    with pytest.raises(ValueError, match='positive FPRs'):
        plot_roc({'a': (np.zeros(3), np.zeros(3))}, out)
    with pytest.raises(ValueError, match='no curve'):
        plot_roc({}, out)
