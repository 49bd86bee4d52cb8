# Copyright (c) mmreid_text contributors. All rights reserved.
"""Train a ReID model: ``python tools/train.py CONFIG [options]``."""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.hooks import CheckpointHook  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.runner import IterBasedTrainLoop, Runner  # noqa: E402

from mmreid_text.registry import RUNNERS  # noqa: E402
from mmreid_text.utils import load_config  # noqa: E402
from mmreid_text.utils.launch import setup_launcher  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Train a ReID model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision training (CUDA only; ignored on CPU)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate with the total batch size')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. train_cfg.max_epochs=2; '
        'unknown keys are an error')
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


def merge_args(cfg: Config, args) -> Config:
    """Apply the command-line options (except --cfg-options) to ``cfg``."""
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        if torch.cuda.is_available():
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:
            print_log(
                '--amp ignored: mixed precision needs CUDA.', logger='current')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    setup_launcher(cfg, args.launcher)
    return cfg


def reported_checkpoints(runner: Runner) -> str:
    """Which checkpoint the run reports (docs/evaluation.md)."""
    hook = next((h for h in runner.hooks if isinstance(h, CheckpointHook)),
                None)
    if hook is None:
        return 'No CheckpointHook: nothing was saved.'
    last_file = osp.join(hook.out_dir or runner.work_dir, 'last_checkpoint')
    lines = []
    if osp.isfile(last_file):
        with open(last_file) as f:
            last = f.read().strip()
        by_iter = isinstance(runner.train_loop, IterBasedTrainLoop)
        when = (f'iteration ({runner.iter})'
                if by_iter else f'epoch ({runner.epoch})')
        lines.append(f'Reported result: the last {when}, '
                     f'{last}; evaluate it with tools/test.py CONFIG {last}')
    best = [
        p for p in [
            getattr(hook, 'best_ckpt_path', None),
            *getattr(hook, 'best_ckpt_path_dict', {}).values()
        ] if p
    ]
    for path in best:
        lines.append(f'Model selected on the held-out validation split '
                     f'({", ".join(hook.save_best)}): {path}; report its '
                     'test result with tools/test.py CONFIG CHECKPOINT')
    return '\n'.join(lines) or 'No checkpoint was saved.'


def build_runner(cfg: Config) -> Runner:
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def main():
    args = parse_args()
    cfg = merge_args(load_config(args.config, args.cfg_options), args)
    runner = build_runner(cfg)
    runner.train()
    print_log(reported_checkpoints(runner), logger='current')


if __name__ == '__main__':
    main()
