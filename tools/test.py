# Copyright (c) mmreid_text contributors. All rights reserved.
"""Evaluate a ReID checkpoint: ``python tools/test.py CONFIG CHECKPOINT``.

``--dump FILE`` writes query/gallery features, labels and the distance
matrix (with ``--missing all``, one file per setting:
``FILE_missing-nir+tir.npz`` ...; with ``--missing-mode both`` the mode is
appended: ``FILE_missing-nir+tir_input.npz``); ``--missing`` runs the
missing-modality protocol (one modality setting, or ``all`` for every
non-empty proper subset) and prints a table. ``--missing-mode`` chooses the
protocol: ``input`` (default; DEEP Tables XIII / XIV: the missing spectra's
input images are blanked, the model runs unchanged), ``masked`` (the model
is also told which spectra are missing and leaves them out) or ``both``
(one table per mode). ``--out-metrics FILE.json`` writes the returned
metrics (``{"reid/mAP": ...}``; with ``--missing`` one entry per mode and
setting), e.g. for ``tools/regdb_trials.py``. Protocols with several
settings (``vcm``, ``bupt``, ``regdb``, ``sysu``) log one table of all of
them (``sysu``: ``mean ± std`` over the gallery trials).
"""
import argparse
import itertools
import json
import os
import os.path as osp
import re
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.dist import get_rank  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.model import is_model_wrapper  # noqa: E402

from mmreid_text.utils import load_config  # noqa: E402
from mmreid_text.utils.launch import setup_launcher  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from train import build_runner  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Evaluate a ReID model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save logs')
    parser.add_argument(
        '--dump',
        help='write features, labels and the distance matrix to this file '
        '(.npz)')
    parser.add_argument(
        '--out-metrics', help='write the metrics to this JSON file (rank 0)')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed-precision inference (CUDA only; ignored on CPU)')
    parser.add_argument(
        '--missing',
        default=None,
        help='missing-modality protocol: "all", or modalities to blank, '
        'e.g. "nir" or "nir,tir"')
    parser.add_argument(
        '--missing-mode',
        choices=['input', 'masked', 'both'],
        default=None,
        help='with --missing: "input" blanks the missing spectra\'s images '
        'only (the paper\'s protocol; default unless the config sets '
        'data_preprocessor.missing_mode), "masked" also names them in '
        'metainfo["missing_modalities"] so that the model leaves them out, '
        '"both" prints one table per mode')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings; unknown keys are an error')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def missing_settings(modalities, spec):
    """Modality subsets to blank: ``[()]`` or the requested ones."""
    if spec is None:
        return [()]
    if spec == 'all':
        if len(modalities) < 2:
            raise SystemExit(f'--missing all: the dataset has only '
                             f'{tuple(modalities)}; blanking spectra needs '
                             'at least two (drop --missing).')
        subsets = []
        for n in range(1, len(modalities)):
            subsets.extend(itertools.combinations(modalities, n))
        return subsets
    chosen = tuple(m.strip() for m in spec.split(',') if m.strip())
    unknown = set(chosen) - set(modalities)
    if unknown:
        raise SystemExit(f'--missing: unknown modalities {sorted(unknown)}; '
                         f'the dataset has {modalities}.')
    return [chosen]


MISSING_MODE_TITLES = dict(
    input='missing-mode input: missing spectra blanked at the input, model '
    'unchanged (DEEP Tables XIII/XIV)',
    masked='missing-mode masked: missing spectra blanked and masked in the '
    'model (metainfo["missing_modalities"])')


def missing_modes(spec, configured='input'):
    """Modes to run for ``--missing-mode``: ``[configured]``, one mode or
    ``['input', 'masked']`` for ``both``."""
    if spec is None:
        return [configured]
    return ['input', 'masked'] if spec == 'both' else [spec]


def dump_file(path, missing, mode, num_settings, num_modes):
    """Feature dump of one run: ``path`` with ``_missing-...`` when there
    are several settings and ``_<mode>`` when there are several modes."""
    stem, ext = osp.splitext(path)
    if num_settings > 1:
        stem += f'_missing-{"+".join(missing)}'
    if num_modes > 1:
        stem += f'_{mode}'
    return stem + ext


def format_missing_table(rows, modalities, title=None) -> str:
    """Table shaped like DEEP Tables XIII/XIV: mAP / R-1 per setting, with
    an optional title line."""
    head = f'{"setting":<22}{"mAP":>8}{"R-1":>8}'
    lines = [head, '-' * len(head)]
    if title:
        lines.insert(0, title)
    for missing, metrics in rows:
        name = 'M(' + '+'.join(m.upper() for m in missing) + ')'
        lines.append(f'{name:<22}{metrics["mAP"]:>8.1f}{metrics["R1"]:>8.1f}')
    if len(rows) > 1:
        avg_map = sum(m['mAP'] for _, m in rows) / len(rows)
        avg_r1 = sum(m['R1'] for _, m in rows) / len(rows)
        lines.append('-' * len(head))
        lines.append(f'{"average":<22}{avg_map:>8.1f}{avg_r1:>8.1f}')
    return '\n'.join(lines)


def write_metrics(path, metrics) -> None:
    """``metrics`` (floats, ints or nested dicts of them) as JSON."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, 'w') as f:
        json.dump(metrics, f, indent=2, default=float)
    print_log(f'Metrics written to {path}', logger='current')


def describe_checkpoint(path: str) -> str:
    """How a checkpoint was chosen, from mmengine's file names."""
    name = osp.basename(path)
    epoch = re.fullmatch(r'epoch_(\d+)\.pth', name)
    if epoch:
        return f'epoch {epoch.group(1)}'
    if name.startswith('best_'):
        return ('best on the metric named in the file name; only valid if '
                'that was a held-out validation split')
    return 'chosen by the user'


def describe_split(runner) -> str:
    """Name and split of the test dataset, for the report line."""
    dataset = runner.test_dataloader.dataset
    split = getattr(dataset, 'split', None)
    holdout = getattr(dataset, 'holdout', None)
    if holdout is not None:
        split = f'{split} (held-out {holdout["part"]} part)'
    return f'{type(dataset).__name__} split={split}'


def main():
    args = parse_args()
    if args.missing is None and args.missing_mode is not None:
        raise SystemExit('--missing-mode needs --missing (e.g. --missing all)')
    cfg = load_config(args.config, args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs',
        osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.dump:
        cfg.test_evaluator['out_file'] = args.dump
    if args.amp:
        if torch.cuda.is_available():
            cfg.setdefault('test_cfg', {})['fp16'] = True
        else:
            print_log(
                '--amp ignored: mixed precision needs CUDA.', logger='current')
    setup_launcher(cfg, args.launcher)
    runner = build_runner(cfg)
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    modalities = tuple(runner.test_dataloader.dataset.metainfo['modalities'])
    preprocessor = model.data_preprocessor
    settings = missing_settings(modalities, args.missing)
    modes = missing_modes(args.missing_mode,
                          getattr(preprocessor, 'missing_mode', 'input'))
    if args.missing is not None and not hasattr(preprocessor, 'missing_mode'):
        raise SystemExit(
            f'--missing needs ReIDDataPreprocessor; the model has '
            f'{type(preprocessor).__name__}.')
    tables = []
    all_metrics = {}
    for mode in modes:
        if args.missing is not None:
            preprocessor.missing_mode = mode
        rows = []
        for missing in settings:
            preprocessor.missing_modalities = missing
            if args.dump and len(settings) * len(modes) > 1:
                for metric in runner.test_loop.evaluator.metrics:
                    metric.out_file = dump_file(args.dump, missing, mode,
                                                len(settings), len(modes))
            metrics = runner.test()
            name = 'M(' + '+'.join(m.upper() for m in missing) + ')'
            all_metrics[f'{mode}/{name}'] = metrics
            rows.append((missing, {
                k.split('/')[-1]: v
                for k, v in metrics.items()
            }))
        tables.append(
            format_missing_table(rows, modalities, MISSING_MODE_TITLES[mode]))
    if args.missing is not None and get_rank() == 0:
        print('\n\n'.join(tables))
    if args.out_metrics and get_rank() == 0:
        write_metrics(args.out_metrics,
                      all_metrics if args.missing is not None else metrics)
    how = describe_checkpoint(args.checkpoint)
    print_log(
        f'Reported checkpoint: {args.checkpoint} ({how}) on '
        f'{describe_split(runner)}.',
        logger='current')


if __name__ == '__main__':
    main()
