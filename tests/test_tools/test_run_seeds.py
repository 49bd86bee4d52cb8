# Copyright (c) mmreid_text contributors. All rights reserved.
"""tools/run_seeds.py: the per-seed commands, --resume, the mean ± std
table; once with the real tools/test.py on checkpoints of freshly built
tiny models."""
import importlib.util
import json
import math
import os
import os.path as osp

import pytest
import torch

from .conftest import REPO, TINY_CONFIG, data_options


def _load():
    path = osp.join(REPO, 'tools', 'run_seeds.py')
    spec = importlib.util.spec_from_file_location('run_seeds_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RUN_SEEDS = _load()

#: Fake test results per seed: a multi-setting protocol (vcm) and a nested
#: --missing result.
FAKE = {
    0: {
        'reid/ir2vis/mAP': 50.0,
        'reid/ir2vis/R1': 60.0,
        'reid/vis2ir/mAP': 40.0
    },
    1: {
        'reid/ir2vis/mAP': 54.0,
        'reid/ir2vis/R1': 61.0,
        'reid/vis2ir/mAP': 44.0
    },
    2: {
        'reid/ir2vis/mAP': 58.0,
        'reid/ir2vis/R1': 65.0,
        'reid/vis2ir/mAP': 42.0
    },
}


class FakeTools:
    """Stands in for run_command: train writes a checkpoint and
    last_checkpoint, test writes the FAKE metrics of the seed."""

    def __init__(self):
        self.calls = []

    def __call__(self, cmd, log_file):
        self.calls.append(cmd)
        work_dir = cmd[cmd.index('--work-dir') + 1]
        if cmd[1].endswith('train.py') or 'train.py' in ' '.join(cmd[:6]):
            seed = int(
                next(c for c in cmd if c.startswith('randomness.seed='))[16:])
            os.makedirs(work_dir, exist_ok=True)
            ckpt = osp.join(work_dir, 'epoch_2.pth')
            open(ckpt, 'w').close()
            with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
                f.write(ckpt)
            with open(osp.join(work_dir, 'seed.txt'), 'w') as f:
                f.write(str(seed))
        else:
            seed_dir = osp.dirname(work_dir)
            with open(osp.join(seed_dir, 'seed.txt')) as f:
                seed = int(f.read())
            out = cmd[cmd.index('--out-metrics') + 1]
            with open(out, 'w') as f:
                json.dump(FAKE[seed], f)


def test_commands_table_and_resume(tmp_path, monkeypatch, capsys):
    fake = FakeTools()
    monkeypatch.setattr(RUN_SEEDS, 'run_command', fake)
    work = str(tmp_path / 'seeds')
    summary = RUN_SEEDS.main([
        'cfg.py', '--seeds', '0', '1', '2', '--work-dir', work,
        '--cfg-options', 'train_cfg.max_epochs=2'
    ])
    assert len(fake.calls) == 6
    train0, test0 = fake.calls[:2]
    assert train0[1:3] == [RUN_SEEDS.TRAIN, 'cfg.py']
    assert train0[-2:] == ['randomness.seed=0', 'train_cfg.max_epochs=2']
    assert '--resume' not in train0
    assert test0[1:4] == [
        RUN_SEEDS.TEST, 'cfg.py',
        osp.join(work, 'seed_0', 'epoch_2.pth')
    ]
    assert test0[-1] == 'train_cfg.max_epochs=2'
    # mean and sample std (n - 1), keys kept whole
    row = summary['reid/ir2vis/mAP']
    assert row['mean'] == pytest.approx(54.0)
    assert row['std'] == pytest.approx(4.0)
    assert summary['reid/vis2ir/mAP']['std'] == pytest.approx(2.0)
    assert summary['reid/ir2vis/R1']['std'] == pytest.approx(
        math.sqrt(((60 - 62)**2 + (61 - 62)**2 + (65 - 62)**2) / 2))
    md = open(osp.join(work, 'seeds.md')).read()
    assert '| metric | mean ± std | seed 0 | seed 1 | seed 2 |' in md
    assert '| reid/ir2vis/mAP | 54.00 ± 4.00 | 50.00 | 54.00 | 58.00 |' in md
    saved = json.load(open(osp.join(work, 'seeds.json')))
    assert saved['per_seed']['1']['reid/vis2ir/mAP'] == 44.0
    assert saved['summary']['reid/ir2vis/mAP']['n'] == 3
    assert saved['commands']['2'][0][-2] == 'randomness.seed=2'

    # --resume: finished seeds are skipped, an interrupted one resumes
    os.remove(osp.join(work, 'seed_1', 'metrics.json'))
    fake.calls.clear()
    RUN_SEEDS.main(
        ['cfg.py', '--seeds', '0', '1', '2', '--work-dir', work, '--resume'])
    assert len(fake.calls) == 2
    assert '--resume' in fake.calls[0]
    assert 'randomness.seed=1' in fake.calls[0]
    saved = json.load(open(osp.join(work, 'seeds.json')))
    assert saved['commands']['0'][0][-1] == 'train_cfg.max_epochs=2'
    assert 'seed 0: ' in capsys.readouterr().out


def test_torchrun_and_usage_errors(tmp_path, monkeypatch):
    fake = FakeTools()
    monkeypatch.setattr(RUN_SEEDS, 'run_command', fake)
    RUN_SEEDS.main([
        'cfg.py', '--seeds', '0', '1', '--work-dir',
        str(tmp_path), '--launcher', 'pytorch', '--gpus', '2'
    ])
    train = fake.calls[0]
    assert train[1:4] == ['-m', 'torch.distributed.run', '--nproc_per_node=2']
    assert train[train.index('--launcher') + 1] == 'pytorch'
    for bad in (['--seeds', '1',
                 '1'], ['--gpus', '2'], ['--cfg-options',
                                         'randomness.seed=3']):
        with pytest.raises(SystemExit):
            RUN_SEEDS.main(['cfg.py', '--work-dir', str(tmp_path), *bad])


def test_nested_metrics_are_flattened(tmp_path):
    path = tmp_path / 'm.json'
    path.write_text(
        json.dumps({
            'input/M(NIR)': {
                'reid/mAP': 1.5,
                'reid/R1': 2
            },
            'flag': True
        }))
    assert RUN_SEEDS.load_metrics(str(path)) == {
        'input/M(NIR)/reid/mAP': 1.5,
        'input/M(NIR)/reid/R1': 2.0
    }
    assert RUN_SEEDS.mean_std([3.0]) == (3.0, None)


def test_real_test_tool_metrics(tmp_path, monkeypatch, tiny_data_root):
    """Training is replaced by checkpoints of freshly built models (one
    per seed); tools/test.py runs for real and its metric files are
    aggregated."""
    from mmreid_text.apis import ReIDInferencer
    real_run = RUN_SEEDS.run_command
    options = data_options(tiny_data_root)

    def run(cmd, log_file):
        if 'train.py' not in ' '.join(cmd[:3]):
            return real_run(cmd, log_file)
        work_dir = cmd[cmd.index('--work-dir') + 1]
        seed = int(
            next(c for c in cmd if c.startswith('randomness.seed='))[16:])
        torch.manual_seed(seed)
        model = ReIDInferencer(
            TINY_CONFIG,
            device='cpu',
            cfg_options=dict(o.split('=', 1) for o in options)).model
        os.makedirs(work_dir, exist_ok=True)
        ckpt = osp.join(work_dir, 'epoch_0.pth')
        torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
        with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
            f.write(ckpt)

    monkeypatch.setattr(RUN_SEEDS, 'run_command', run)
    monkeypatch.chdir(tmp_path)
    work = str(tmp_path / 'seeds')
    summary = RUN_SEEDS.main([
        TINY_CONFIG, '--seeds', '0', '1', '--work-dir', work, '--cfg-options',
        *options
    ])
    per_seed = [
        json.load(open(osp.join(work, f'seed_{s}', 'metrics.json')))
        for s in (0, 1)
    ]
    assert set(per_seed[0]) >= {'reid/mAP', 'reid/R1', 'reid/mINP'}
    values = [m['reid/mAP'] for m in per_seed]
    assert values[0] != values[1]  # different models
    assert summary['reid/mAP']['mean'] == pytest.approx(sum(values) / 2)
    assert summary['reid/mAP']['std'] == pytest.approx(
        abs(values[0] - values[1]) / math.sqrt(2))
    assert 'reid/mAP' in open(osp.join(work, 'seeds.md')).read()
