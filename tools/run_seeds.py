# Copyright (c) mmreid_text contributors. All rights reserved.
"""Train and test one config under several seeds; mean ± std table.

    python tools/run_seeds.py CONFIG --seeds 0 1 2 [--work-dir DIR]
        [--cfg-options k=v ...] [--launcher pytorch --gpus N] [--resume]

For every seed ``s`` (one after the other) it runs

    python tools/train.py CONFIG --work-dir DIR/seed_s \\
        --cfg-options randomness.seed=s ...
    python tools/test.py CONFIG <last checkpoint> --work-dir DIR/seed_s/test \\
        --out-metrics DIR/seed_s/metrics.json --cfg-options ...

(``--launcher pytorch --gpus N``: both through ``torchrun
--nproc_per_node=N``). The tested checkpoint is the one the run reports,
the last one (``DIR/seed_s/last_checkpoint``; docs/evaluation.md, "Model
selection"), or ``--checkpoint NAME`` inside the seed's work dir.
Then it writes ``DIR/seeds.json`` (per-seed metrics, mean, sample standard
deviation, the commands) and ``DIR/seeds.md`` (a table: metric, mean ± std,
one column per seed). Metric names are kept whole (``reid/mAP``,
``reid/ir2vis/mAP``, ``reid/all_single/R1``; nested ``--missing`` results
are joined with ``/``). ``--resume`` skips seeds whose ``metrics.json``
exists and resumes an interrupted training from its last checkpoint.
"""
import argparse
import json
import math
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional, Sequence

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TRAIN = osp.join(REPO, 'tools', 'train.py')
TEST = osp.join(REPO, 'tools', 'test.py')
METRICS_FILE = 'metrics.json'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train and test a config under several seeds')
    parser.add_argument('config', help='config file')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument(
        '--work-dir',
        help='parent of the seed_<s> folders (default: '
        'work_dirs/<config name>_seeds)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='key=value overrides passed to train.py and test.py')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch'], default='none')
    parser.add_argument(
        '--gpus',
        type=int,
        default=1,
        help='processes per run with --launcher pytorch')
    parser.add_argument('--master-port', type=int, default=29500)
    parser.add_argument(
        '--resume',
        action='store_true',
        help='skip finished seeds, resume interrupted trainings')
    parser.add_argument(
        '--checkpoint',
        default='last',
        help='checkpoint to test: "last" (the reported one) or a file name '
        'in the seed work dir')
    parser.add_argument(
        '--amp', action='store_true', help='passed to train.py (CUDA only)')
    parser.add_argument(
        '--skip-test',
        action='store_true',
        help='only train (the val metrics are not collected)')
    args = parser.parse_args(argv)
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f'--seeds {args.seeds} repeats a seed')
    if any(o.split('=', 1)[0] == 'randomness.seed' for o in args.cfg_options):
        parser.error('--cfg-options randomness.seed=...: the seed comes from '
                     '--seeds')
    if args.launcher == 'none' and args.gpus != 1:
        parser.error('--gpus needs --launcher pytorch')
    return args


def launcher_prefix(args) -> List[str]:
    """The interpreter (and torchrun) that runs a tool."""
    if args.launcher == 'pytorch':
        return [
            sys.executable, '-m', 'torch.distributed.run',
            f'--nproc_per_node={args.gpus}',
            f'--master_port={args.master_port}'
        ]
    return [sys.executable]


def train_command(args, seed: int, work_dir: str, resume: bool) -> List[str]:
    cmd = launcher_prefix(args) + [
        TRAIN, args.config, '--work-dir', work_dir, '--launcher', args.launcher
    ]
    if resume:
        cmd.append('--resume')
    if args.amp:
        cmd.append('--amp')
    return cmd + ['--cfg-options', f'randomness.seed={seed}'] + list(
        args.cfg_options)


def test_command(args, checkpoint: str, work_dir: str) -> List[str]:
    cmd = launcher_prefix(args) + [
        TEST, args.config, checkpoint, '--work-dir',
        osp.join(work_dir, 'test'), '--out-metrics',
        osp.join(work_dir, METRICS_FILE), '--launcher', args.launcher
    ]
    if args.cfg_options:
        cmd += ['--cfg-options'] + list(args.cfg_options)
    return cmd


def run_command(cmd: List[str], log_file: str) -> None:
    """Run one tool, its output teed to ``log_file``; fail loudly."""
    os.makedirs(osp.dirname(log_file), exist_ok=True)
    print('$ ' + ' '.join(cmd), flush=True)
    with open(log_file, 'a') as log:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=os.getcwd())
        for line in proc.stdout:
            log.write(line)
            sys.stdout.write(line)
        code = proc.wait()
    if code != 0:
        tool = next((osp.basename(c) for c in cmd if c.endswith('.py')),
                    cmd[0])
        raise SystemExit(f'{tool} failed with exit code {code}; see '
                         f'{log_file}')


def find_checkpoint(work_dir: str, name: str) -> Optional[str]:
    """The checkpoint to test in a seed's work dir (None if absent)."""
    if name != 'last':
        path = name if osp.isabs(name) else osp.join(work_dir, name)
        return path if osp.isfile(path) else None
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        return None
    with open(marker) as f:
        path = f.read().strip()
    if path and not osp.isabs(path) and not osp.isfile(path):
        path = osp.join(work_dir, osp.basename(path))
    return path if path and osp.isfile(path) else None


def flatten_metrics(metrics: dict, prefix: str = '') -> Dict[str, float]:
    """Numeric leaves of (nested) metrics as ``{'a/b': value}``; the keys
    of ``tools/test.py --out-metrics`` are kept whole."""
    flat = {}
    for key, value in metrics.items():
        name = f'{prefix}{key}'
        if isinstance(value, dict):
            flat.update(flatten_metrics(value, name + '/'))
        elif isinstance(value, bool):
            continue
        elif isinstance(value, (int, float)):
            flat[name] = float(value)
    return flat


def load_metrics(path: str) -> Dict[str, float]:
    with open(path) as f:
        metrics = json.load(f)
    if not isinstance(metrics, dict):
        raise ValueError(f'"{path}" holds no metrics dict.')
    return flatten_metrics(metrics)


def mean_std(values: Sequence[float]):
    """Mean and sample standard deviation (``n - 1``; None for one
    value)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    var = sum((v - mean)**2 for v in values) / (n - 1)
    return mean, math.sqrt(var)


def summarize(per_seed: Dict[int, Dict[str, float]]) -> Dict[str, dict]:
    """``{metric: {mean, std, n, values: {seed: v}}}`` over the seeds that
    report the metric (all of them for one config), metrics in the order
    of the first seed."""
    names: List[str] = []
    for metrics in per_seed.values():
        names += [k for k in metrics if k not in names]
    summary = {}
    for name in names:
        values = {s: m[name] for s, m in per_seed.items() if name in m}
        mean, std = mean_std(list(values.values()))
        summary[name] = dict(mean=mean, std=std, n=len(values), values=values)
    return summary


def _fmt(value: Optional[float]) -> str:
    return '—' if value is None else f'{value:.2f}'


def markdown_table(config: str, summary: Dict[str, dict],
                   seeds: Sequence[int]) -> str:
    lines = [
        f'# {osp.basename(config)}: {len(seeds)} seeds', '',
        f'Config `{config}`, seeds {", ".join(map(str, seeds))}; mean ± '
        'sample standard deviation (n - 1) over the seeds.', '',
        '| metric | mean ± std | ' + ' | '.join(f'seed {s}'
                                                for s in seeds) + ' |',
        '|---|---|' + '---|' * len(seeds)
    ]
    for name, row in summary.items():
        both = _fmt(row['mean']) + ('' if row['std'] is None else
                                    f' ± {_fmt(row["std"])}')
        cells = [_fmt(row['values'].get(s)) for s in seeds]
        lines.append(f'| {name} | {both} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def write_summary(work_dir: str, config: str, seeds: Sequence[int],
                  per_seed: Dict[int, Dict[str, float]],
                  commands: Dict[int, List[List[str]]]) -> Dict[str, dict]:
    summary = summarize(per_seed)
    out = dict(
        config=config,
        seeds=list(seeds),
        summary={
            k: dict(mean=v['mean'], std=v['std'], n=v['n'])
            for k, v in summary.items()
        },
        per_seed={str(s): per_seed[s]
                  for s in seeds},
        commands={str(s): commands.get(s, [])
                  for s in seeds})
    with open(osp.join(work_dir, 'seeds.json'), 'w') as f:
        json.dump(out, f, indent=2)
    with open(osp.join(work_dir, 'seeds.md'), 'w') as f:
        f.write(markdown_table(config, summary, seeds))
    return summary


def run_seed(args, seed: int, work_dir: str) -> List[List[str]]:
    """Train and test one seed; returns the commands run."""
    seed_dir = osp.join(work_dir, f'seed_{seed}')
    metrics_file = osp.join(seed_dir, METRICS_FILE)
    if args.resume and osp.isfile(metrics_file):
        print(f'seed {seed}: {metrics_file} exists, skipped (--resume)')
        done = osp.join(seed_dir, 'commands.json')
        if osp.isfile(done):
            with open(done) as f:
                return json.load(f)
        return []
    log = osp.join(seed_dir, 'run_seeds.log')
    commands = []
    resume = args.resume and find_checkpoint(seed_dir, 'last') is not None
    cmd = train_command(args, seed, seed_dir, resume)
    commands.append(cmd)
    run_command(cmd, log)
    if args.skip_test:
        return commands
    ckpt = find_checkpoint(seed_dir, args.checkpoint)
    if ckpt is None:
        raise SystemExit(f'seed {seed}: no checkpoint {args.checkpoint!r} in '
                         f'{seed_dir} after training (CheckpointHook off?); '
                         'give --checkpoint NAME.')
    cmd = test_command(args, ckpt, seed_dir)
    commands.append(cmd)
    run_command(cmd, log)
    if not osp.isfile(metrics_file):
        raise SystemExit(f'seed {seed}: tools/test.py wrote no {metrics_file}')
    with open(osp.join(seed_dir, 'commands.json'), 'w') as f:
        json.dump(commands, f, indent=2)
    return commands


def main(argv=None):
    args = parse_args(argv)
    work_dir = args.work_dir or osp.join(
        'work_dirs',
        osp.splitext(osp.basename(args.config))[0] + '_seeds')
    os.makedirs(work_dir, exist_ok=True)
    commands = {}
    for seed in args.seeds:
        commands[seed] = run_seed(args, seed, work_dir)
    if args.skip_test:
        print(f'trained seeds {args.seeds} in {work_dir} (--skip-test)')
        return None
    per_seed = {
        s: load_metrics(osp.join(work_dir, f'seed_{s}', METRICS_FILE))
        for s in args.seeds
    }
    summary = write_summary(work_dir, args.config, args.seeds, per_seed,
                            commands)
    print(markdown_table(args.config, summary, args.seeds))
    print(f'written: {osp.join(work_dir, "seeds.md")}, '
          f'{osp.join(work_dir, "seeds.json")}')
    return summary


if __name__ == '__main__':
    main()
