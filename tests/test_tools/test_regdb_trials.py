# Copyright (c) mmreid_text contributors. All rights reserved.
"""tools/regdb_trials.py: per-trial train/test commands, resume, averages.

The train and test scripts are replaced by tiny fakes (``--train-script``
/ ``--test-script``) that record their arguments, write a checkpoint and
metrics depending on the trial, so the orchestration runs in seconds.
"""
import json
import os.path as osp
import sys

import numpy as np
import pytest
from mmengine.config import Config

from .conftest import REPO

sys.path.insert(0, osp.join(REPO, 'tools'))
import regdb_trials  # noqa: E402

REGDB_BASE = osp.join(REPO, 'configs', '_base_', 'datasets', 'regdb.py')
TRIAL_KEYS = [
    'train_dataloader.dataset.trial', 'val_dataloader.dataset.trial',
    'test_dataloader.dataset.trial'
]

FAKE_TRAIN = '''
import json, os, sys
args = sys.argv[1:]
work = args[args.index('--work-dir') + 1]
opts = args[args.index('--cfg-options') + 1:]
trial = int(opts[-1].split('=')[1])
with open(os.path.join(os.path.dirname(work), 'calls.txt'), 'a') as f:
    f.write(json.dumps(['train', trial, opts]) + '\\n')
if trial == int(os.environ.get('FAIL_TRIAL', 0)):
    print('boom: CUDA out of memory')
    sys.exit(3)
ckpt = os.path.join(work, 'epoch_2.pth')
open(ckpt, 'w').close()
with open(os.path.join(work, 'last_checkpoint'), 'w') as f:
    f.write(ckpt)
'''

FAKE_TEST = '''
import json, os, sys
args = sys.argv[1:]
ckpt = args[1]
out = args[args.index('--out-metrics') + 1]
opts = args[args.index('--cfg-options') + 1:]
trial = int(opts[-1].split('=')[1])
work = os.path.dirname(out)
with open(os.path.join(os.path.dirname(work), 'calls.txt'), 'a') as f:
    f.write(json.dumps(['test', trial, opts, ckpt]) + '\\n')
metrics = {'reid/vis2ir/mAP': 50.0 + trial, 'reid/vis2ir/R1': 60.0 + 2 * trial,
           'reid/ir2vis/mAP': 40.0 - trial, 'reid/ir2vis/R1': 45.0,
           'reid/vis2ir/num_queries': 2060}
with open(out, 'w') as f:
    json.dump(metrics, f)
'''


@pytest.fixture
def fakes(tmp_path):
    train, test = tmp_path / 'fake_train.py', tmp_path / 'fake_test.py'
    train.write_text(FAKE_TRAIN)
    test.write_text(FAKE_TEST)
    return ['--train-script', str(train), '--test-script', str(test)]


def calls(work):
    path = osp.join(work, 'calls.txt')
    if not osp.isfile(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_finds_every_regdb_dataset_of_the_config():
    cfg = Config.fromfile(REGDB_BASE).to_dict()
    assert regdb_trials.regdb_dataset_keys(cfg) == TRIAL_KEYS
    wrapped = dict(
        train_dataloader=dict(
            dataset=dict(
                type='ConcatDataset',
                datasets=[dict(
                    type='Other'), dict(type='RegDB')])),
        val_dataloader=None)
    assert regdb_trials.regdb_dataset_keys(wrapped) == [
        'train_dataloader.dataset.datasets.1.trial'
    ]
    with pytest.raises(ValueError, match='no RegDB dataset'):
        regdb_trials.regdb_dataset_keys(
            dict(train_dataloader=dict(dataset=dict(type='SYSUMM01'))))


def test_trains_tests_and_averages(tmp_path, fakes, capsys):
    work = str(tmp_path / 'work')
    out = regdb_trials.main([
        REGDB_BASE, '--work-dir', work, '--trials', '1', '2', '4',
        '--cfg-options', 'train_cfg.max_epochs=2', *fakes
    ])
    log = calls(work)
    assert [c[:2] for c in log] == [['train', 1], ['test', 1], ['train', 2],
                                    ['test', 2], ['train', 4], ['test', 4]]
    # user options first, then the trial of every RegDB dataset
    assert log[2][2] == ['train_cfg.max_epochs=2'
                         ] + [f'{k}=2' for k in TRIAL_KEYS]
    assert log[3][3] == osp.join(work, 'trial_2', 'epoch_2.pth')
    trials = (1, 2, 4)
    mean, std = out['mean'], out['std']
    assert mean['reid/vis2ir/mAP'] == pytest.approx(50 + np.mean(trials))
    assert std['reid/vis2ir/mAP'] == pytest.approx(np.std(trials))
    assert std['reid/vis2ir/R1'] == pytest.approx(2 * np.std(trials))
    assert mean['reid/ir2vis/R1'] == 45 and std['reid/ir2vis/R1'] == 0
    printed = capsys.readouterr().out
    assert 'reid/vis2ir (3 trials)' in printed
    assert f'{50 + np.mean(trials):.2f} ± {np.std(trials):.2f}' in printed
    with open(osp.join(work, 'summary.json')) as f:
        summary = json.load(f)
    assert summary['trials'] == [1, 2, 4]
    assert summary['per_trial']['4']['reid/ir2vis/mAP'] == 36
    assert summary['mean'] == pytest.approx(mean)
    with open(osp.join(work, 'summary.md')) as f:
        markdown = f.read()
    assert '| trial | mAP | R1 |' in markdown
    assert '| 4 | 54.00 | 68.00 |' in markdown


def test_resume_skips_finished_trials_and_retests_trained_ones(
        tmp_path, fakes, monkeypatch):
    work = str(tmp_path / 'work')
    regdb_trials.main(
        [REGDB_BASE, '--work-dir', work, '--trials', '1', *fakes])
    # a rerun without --resume refuses to overwrite
    with pytest.raises(SystemExit, match='--resume'):
        regdb_trials.main(
            [REGDB_BASE, '--work-dir', work, '--trials', '1', *fakes])
    # trial 2 fails in training: a clear error with the log tail
    monkeypatch.setenv('FAIL_TRIAL', '2')
    with pytest.raises(SystemExit) as err:
        regdb_trials.main([
            REGDB_BASE, '--work-dir', work, '--trials', '1', '2', '--resume',
            *fakes
        ])
    message = str(err.value)
    assert 'trial 2 training failed (exit code 3)' in message
    assert 'boom: CUDA out of memory' in message
    assert osp.join(work, 'trial_2', 'train.log') in message
    monkeypatch.delenv('FAIL_TRIAL')
    # trial 3 trained but not tested (e.g. interrupted): test only
    regdb_trials.main(
        [REGDB_BASE, '--work-dir', work, '--trials', '3', *fakes])
    (tmp_path / 'work' / 'trial_3' / 'metrics.json').unlink()
    before = len(calls(work))
    out = regdb_trials.main([
        REGDB_BASE, '--work-dir', work, '--trials', '1', '2', '3', '--resume',
        *fakes
    ])
    assert [c[:2] for c in calls(work)[before:]] == [['train', 2], ['test', 2],
                                                     ['test', 3]]
    assert sorted(out['per_trial']) == [1, 2, 3]


def test_bad_arguments(tmp_path, fakes):
    work = str(tmp_path / 'work')
    for bad in (['--trials', '0'], ['--trials', '1', '1'],
                ['--cfg-options', 'train_dataloader.dataset.trial=3'
                 ], ['--cfg-options', 'max_epochs']):
        with pytest.raises(SystemExit):
            regdb_trials.parse_args([REGDB_BASE, '--work-dir', work, *bad])
    other = tmp_path / 'other.py'
    other.write_text("train_dataloader = dict(dataset=dict(type='SYSUMM01'))")
    with pytest.raises(SystemExit, match='no RegDB dataset'):
        regdb_trials.main([str(other), '--work-dir', work, *fakes])


def test_test_tool_writes_metrics_json(tmp_path):
    """tools/test.py --out-metrics (read by regdb_trials): the returned
    metrics as JSON, numpy scalars included."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'test_tool', osp.join(REPO, 'tools', 'test.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    path = tmp_path / 'sub' / 'metrics.json'
    tool.write_metrics(
        str(path), {
            'reid/vis2ir/mAP': np.float64(51.5),
            'reid/vis2ir/num_queries': 2060
        })
    assert regdb_trials.read_metrics(str(path)) == {
        'reid/vis2ir/mAP': 51.5,
        'reid/vis2ir/num_queries': 2060.0
    }
