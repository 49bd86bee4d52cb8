# Copyright (c) mmreid_text contributors. All rights reserved.
"""Train and test the 10 RegDB trials and average them.

RegDB's protocol trains one model per train/test split (``trial`` 1..10 of
the ``RegDB`` dataset) and reports the mean over the 10 splits. For each
trial this runs, in a work dir of its own (``WORK_DIR/trial_<t>``)::

    python tools/train.py CONFIG --work-dir WORK_DIR/trial_<t> \\
        --cfg-options <every RegDB dataset>.trial=<t> [CFG_OPTIONS]
    python tools/test.py CONFIG <last checkpoint> \\
        --work-dir WORK_DIR/trial_<t>/test \\
        --out-metrics WORK_DIR/trial_<t>/metrics.json --cfg-options ...

then prints one table per direction (``vis2ir``, ``ir2vis``: mAP, mINP,
R1, ...) with a row per trial and the mean ± std (population standard
deviation over the trials, ``ddof=0``), and writes
``WORK_DIR/summary.json`` and ``WORK_DIR/summary.md``.

The RegDB datasets of the config are found by their ``type='RegDB'`` (or
a ``trial`` key) under ``train_dataloader``, ``val_dataloader`` and
``test_dataloader`` (through dataset wrappers); each gets the trial. The
reported checkpoint of a trial is its last one (``last_checkpoint``, as
``tools/train.py`` reports): no model is selected on the test split.

Examples::

    python tools/regdb_trials.py configs/eees/eees_rn50_regdb.py \\
        --work-dir work_dirs/eees_regdb
    python tools/regdb_trials.py CONFIG --work-dir W --trials 1 2 \\
        --cfg-options train_cfg.max_epochs=1
    python tools/regdb_trials.py CONFIG --work-dir W --resume  # go on

``--resume`` skips trials whose ``metrics.json`` exists and re-tests
trained ones (``train.done``) without training them again; without it a
work dir that already holds a trial's results is an error.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

TOOLS = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(TOOLS)
NUM_TRIALS = 10
#: Metric names shown in the tables (last part of the metric key).
TABLE_METRICS = ('mAP', 'mINP', 'R1', 'R5', 'R10', 'R20')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


class TrialError(RuntimeError):
    """A trial's training or test failed, or its output is unusable."""


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train and test RegDB trials, average the metrics.')
    parser.add_argument('config', help='RegDB config (trains and tests)')
    parser.add_argument(
        '--work-dir', required=True, help='one trial_<t> folder per trial')
    parser.add_argument(
        '--trials',
        type=int,
        nargs='+',
        default=list(range(1, NUM_TRIALS + 1)),
        help='trials to run (1..10); default all 10')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='skip finished trials, test trained ones without training')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='key=value overrides passed to train.py and test.py')
    parser.add_argument(
        '--python', default=sys.executable, help='interpreter to run with')
    parser.add_argument('--train-script', default=osp.join(TOOLS, 'train.py'))
    parser.add_argument('--test-script', default=osp.join(TOOLS, 'test.py'))
    args = parser.parse_args(argv)
    bad = [t for t in args.trials if not 1 <= t <= NUM_TRIALS]
    if bad or len(set(args.trials)) != len(args.trials):
        parser.error(f'--trials must be distinct numbers in 1..{NUM_TRIALS},'
                     f' got {args.trials}')
    given = [o for o in args.cfg_options if '=' not in o]
    if given:
        parser.error(f'--cfg-options entries must be key=value, got {given}')
    fixed = [o for o in args.cfg_options if o.split('=')[0].endswith('trial')]
    if fixed:
        parser.error(f'--cfg-options {fixed}: the trial is set by --trials.')
    return args


def regdb_dataset_keys(cfg: dict) -> List[str]:
    """Dotted keys of the ``trial`` argument of every RegDB dataset.

    Looks under ``train_dataloader``, ``val_dataloader`` and
    ``test_dataloader`` for dicts with ``type='RegDB'`` or a ``trial`` key,
    following ``dataset`` / ``datasets`` of wrappers.

    Raises:
        ValueError: no RegDB dataset in the config.
    """
    keys = []

    def walk(node, path):
        if isinstance(node, dict):
            if node.get('type') == 'RegDB' or 'trial' in node:
                keys.append(f'{path}.trial')
                return
            for name in ('dataset', 'datasets'):
                if name in node:
                    walk(node[name], f'{path}.{name}')
        elif isinstance(node, (list, tuple)):
            for i, item in enumerate(node):
                walk(item, f'{path}.{i}')

    for loader in LOADERS:
        if isinstance(cfg.get(loader), dict):
            walk(cfg[loader].get('dataset'), f'{loader}.dataset')
    if not keys:
        raise ValueError(
            'regdb_trials: the config has no RegDB dataset (type="RegDB" or '
            f'a "trial" argument) under {", ".join(LOADERS)}; use a RegDB '
            'config (configs/_base_/datasets/regdb.py).')
    return keys


def trial_options(keys: Sequence[str], trial: int) -> List[str]:
    return [f'{key}={trial}' for key in keys]


def train_command(args: argparse.Namespace, keys: Sequence[str], trial: int,
                  work_dir: str) -> List[str]:
    return [
        args.python, args.train_script, args.config, '--work-dir', work_dir,
        '--cfg-options', *args.cfg_options, *trial_options(keys, trial)
    ]


def test_command(args: argparse.Namespace, keys: Sequence[str], trial: int,
                 work_dir: str, checkpoint: str) -> List[str]:
    return [
        args.python, args.test_script, args.config, checkpoint, '--work-dir',
        osp.join(work_dir, 'test'), '--out-metrics',
        osp.join(work_dir, 'metrics.json'), '--cfg-options', *args.cfg_options,
        *trial_options(keys, trial)
    ]


def run_logged(cmd: List[str], log_file: str, what: str) -> None:
    """Run ``cmd`` with its output in ``log_file``; raise on failure."""
    with open(log_file, 'w') as log:
        log.write(' '.join(cmd) + '\n')
        log.flush()
        code = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
    if code != 0:
        with open(log_file) as log:
            tail = ''.join(log.readlines()[-30:])
        raise TrialError(f'{what} failed (exit code {code}); command:\n  '
                         f'{" ".join(cmd)}\nlog: {log_file}, last lines:\n'
                         f'{tail}')


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint named in ``work_dir/last_checkpoint``."""
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(path):
        raise TrialError(f'{work_dir}: training finished but wrote no '
                         'last_checkpoint file (is the CheckpointHook on?).')
    with open(path) as f:
        checkpoint = f.read().strip()
    if not osp.isabs(checkpoint):
        checkpoint = osp.join(work_dir, checkpoint)
    if not osp.isfile(checkpoint):
        raise TrialError(f'{path} names {checkpoint}, which does not exist.')
    return checkpoint


def run_trial(args: argparse.Namespace, keys: Sequence[str],
              trial: int) -> Dict[str, float]:
    """Train (unless done) and test one trial; return its metrics."""
    work_dir = osp.join(args.work_dir, f'trial_{trial}')
    metrics_file = osp.join(work_dir, 'metrics.json')
    done_file = osp.join(work_dir, 'train.done')
    if osp.exists(metrics_file) or osp.exists(done_file):
        if not args.resume:
            raise TrialError(
                f'{work_dir} already holds results of trial {trial}; pass '
                '--resume to keep them or choose another --work-dir.')
    if args.resume and osp.isfile(metrics_file):
        print(f'trial {trial}: finished, read {metrics_file}', flush=True)
        return read_metrics(metrics_file)
    os.makedirs(work_dir, exist_ok=True)
    if args.resume and osp.isfile(done_file):
        print(f'trial {trial}: trained, testing again', flush=True)
    else:
        print(f'trial {trial}: training ({work_dir}/train.log)', flush=True)
        run_logged(
            train_command(args, keys, trial, work_dir),
            osp.join(work_dir, 'train.log'), f'trial {trial} training')
        with open(done_file, 'w') as f:
            f.write(last_checkpoint(work_dir) + '\n')
    checkpoint = last_checkpoint(work_dir)
    print(f'trial {trial}: testing {checkpoint}', flush=True)
    run_logged(
        test_command(args, keys, trial, work_dir, checkpoint),
        osp.join(work_dir, 'test.log'), f'trial {trial} test')
    return read_metrics(metrics_file)


def read_metrics(path: str) -> Dict[str, float]:
    if not osp.isfile(path):
        raise TrialError(f'{path} was not written by the test run.')
    with open(path) as f:
        metrics = json.load(f)
    numeric = {
        k: float(v)
        for k, v in metrics.items() if isinstance(v, (int, float))
    } if isinstance(metrics, dict) else {}
    if not numeric:
        raise TrialError(f'{path} holds no numeric metrics: {metrics!r}')
    return numeric


def aggregate(
    per_trial: Dict[int, Dict[str, float]]
) -> Tuple[Dict[str, float], Dict[str, float]]:
    """Mean and population std (``ddof=0``) of every key over the trials.

    Raises:
        TrialError: the trials do not have the same metric keys.
    """
    keys = None
    for trial, metrics in per_trial.items():
        if keys is None:
            keys = set(metrics)
        elif set(metrics) != keys:
            raise TrialError(
                f'trial {trial} has metric keys {sorted(metrics)}, others '
                f'{sorted(keys)}; all trials must be tested alike.')
    mean, std = {}, {}
    for key in sorted(keys or ()):
        values = np.array([m[key] for m in per_trial.values()], np.float64)
        mean[key], std[key] = float(values.mean()), float(values.std())
    return mean, std


def split_key(key: str) -> Tuple[str, str]:
    """``'reid/vis2ir/mAP'`` -> ``('reid/vis2ir', 'mAP')``."""
    head, _, name = key.rpartition('/')
    return head, name


def format_tables(per_trial: Dict[int, Dict[str, float]],
                  mean: Dict[str, float],
                  std: Dict[str, float],
                  markdown: bool = False) -> str:
    """One table per setting (direction): rows = trials + mean ± std."""
    groups: Dict[str, List[str]] = {}
    for key in mean:
        head, name = split_key(key)
        if name in TABLE_METRICS:
            groups.setdefault(head, []).append(key)
    blocks = []
    for head, keys in groups.items():
        keys.sort(key=lambda k: TABLE_METRICS.index(split_key(k)[1]))
        names = ['trial'] + [split_key(k)[1] for k in keys]
        rows = [[str(t)] + [f'{per_trial[t][k]:.2f}' for k in keys]
                for t in sorted(per_trial)]
        rows.append(['mean ± std'] +
                    [f'{mean[k]:.2f} ± {std[k]:.2f}' for k in keys])
        title = f'{head or "metrics"} ({len(per_trial)} trials)'
        if markdown:
            lines = [
                f'### {title}', '', '| ' + ' | '.join(names) + ' |',
                '|' + '---|' * len(names)
            ]
            lines += ['| ' + ' | '.join(r) + ' |' for r in rows]
        else:
            widths = [
                max(len(n), *(len(r[i]) for r in rows)) + 2
                for i, n in enumerate(names)
            ]
            lines = [title, ''.join(n.rjust(w) for n, w in zip(names, widths))]
            lines += [
                ''.join(c.rjust(w) for c, w in zip(r, widths)) for r in rows
            ]
        blocks.append('\n'.join(lines))
    return '\n\n'.join(blocks)


def write_summary(args: argparse.Namespace, per_trial: Dict[int, Dict[str,
                                                                      float]],
                  mean: Dict[str, float], std: Dict[str, float]) -> None:
    summary = dict(
        config=args.config,
        trials=sorted(per_trial),
        std='population standard deviation over the trials (ddof=0)',
        mean=mean,
        std_dev=std,
        per_trial={str(t): per_trial[t]
                   for t in sorted(per_trial)})
    with open(osp.join(args.work_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    with open(osp.join(args.work_dir, 'summary.md'), 'w') as f:
        f.write(f'# RegDB: {args.config}, trials '
                f'{", ".join(str(t) for t in sorted(per_trial))}\n\n'
                'Last checkpoint of each trial; mean ± population std over '
                'the trials.\n\n')
        f.write(format_tables(per_trial, mean, std, markdown=True) + '\n')


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Dict]:
    args = parse_args(argv)
    sys.path.insert(0, REPO)
    from mmengine.config import Config
    if not osp.isfile(args.config):
        raise SystemExit(f'regdb_trials: config {args.config} not found.')
    try:
        keys = regdb_dataset_keys(Config.fromfile(args.config).to_dict())
    except ValueError as err:
        raise SystemExit(str(err))
    os.makedirs(args.work_dir, exist_ok=True)
    print(f'RegDB trials {args.trials}: setting {", ".join(keys)}', flush=True)
    per_trial = {}
    try:
        for trial in args.trials:
            per_trial[trial] = run_trial(args, keys, trial)
        mean, std = aggregate(per_trial)
    except TrialError as err:
        raise SystemExit(f'regdb_trials: {err}')
    print(format_tables(per_trial, mean, std))
    write_summary(args, per_trial, mean, std)
    print(f'Summary: {osp.join(args.work_dir, "summary.json")}, '
          f'{osp.join(args.work_dir, "summary.md")}')
    return dict(per_trial=per_trial, mean=mean, std=std)


if __name__ == '__main__':
    main()
