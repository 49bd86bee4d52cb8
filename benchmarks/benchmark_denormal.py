# Copyright (c) mmreid_text contributors. All rights reserved.
"""Training iterations on CPU with and without flushing denormal floats.

Builds CONFIG's model, optimizer and training data loader (no worker
processes) and trains on its data; every iteration switches between
``torch.set_flush_denormal(True)`` and ``False`` (the order alternates:
on off, off on, ...), so both modes see the same model state and load.
Reports the median seconds of each mode, their ratio, and with
``--count`` where the denormals are: the number of nonzero float32 values
below 1.18e-38 in each leaf module's output gradients and forward
outputs over ``--count`` extra iterations (denormals kept)::

    python benchmarks/benchmark_denormal.py \\
        configs/vld/vld_tiny_synthetic_hitszvcm.py --iters 40 --count 4 \\
        --checkpoint work_dirs/vld_tiny_synthetic_hitszvcm/iter_1500.pth

(the optimizer state starts fresh).
"""
import argparse
import collections
import statistics
import time

import torch

from mmreid_text.engine import ReIDRunner
from mmreid_text.engine.denormal import FLOAT32_TINY
from mmreid_text.registry import MODELS
from mmreid_text.utils import load_config, register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument(
        '--iters',
        type=int,
        default=40,
        help='timed iterations (half of them per mode)')
    parser.add_argument('--warmup', type=int, default=4)
    parser.add_argument(
        '--count',
        type=int,
        default=0,
        help='extra iterations that count denormals')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--checkpoint',
        help='start from these weights (e.g. a training checkpoint: '
        'denormals appear as the model trains)')
    return parser.parse_args()


def subnormals(t: torch.Tensor) -> int:
    if not torch.is_tensor(t) or t.dtype != torch.float32:
        return 0
    t = t.detach()
    return int(((t != 0) & (t.abs() < FLOAT32_TINY)).sum())


def add_counting_hooks(model, counts):
    handles = []
    for name, module in model.named_modules():
        if next(module.children(), None) is not None:
            continue

        def fwd(mod, inp, out, name=name):
            for o in out if isinstance(out, (tuple, list)) else [out]:
                counts[f'forward  {name}'] += subnormals(o)

        def bwd(mod, grad_in, grad_out, name=name):
            for g in grad_out:
                counts[f'backward {name}'] += subnormals(g)

        handles.append(module.register_forward_hook(fwd))
        handles.append(module.register_full_backward_hook(bwd))
    return handles


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    register_all_modules()
    cfg = load_config(
        args.config, {
            'train_dataloader.num_workers': 0,
            'train_dataloader.persistent_workers': False
        })
    model = MODELS.build(cfg.model)
    if args.checkpoint:
        from mmengine.runner import load_checkpoint
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.train()
    from mmengine.optim import build_optim_wrapper
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    loader = ReIDRunner.build_dataloader(cfg.train_dataloader, seed=args.seed)

    def batches():
        while True:
            yield from loader

    data = batches()
    times = {True: [], False: []}
    for i in range(args.warmup + args.iters):
        flush = (i % 2 == 0) != ((i // 2) % 2 == 0)  # on off, off on, ...
        torch.set_flush_denormal(flush)
        batch = next(data)
        start = time.perf_counter()
        model.train_step(batch, optim)
        if i >= args.warmup:
            times[flush].append(time.perf_counter() - start)
    torch.set_flush_denormal(False)
    on, off = (statistics.median(times[m]) for m in (True, False))
    print(f'{args.config}: {args.iters} iterations after {args.warmup} '
          f'warm-up, {args.threads} thread(s)')
    print(f'median s/iter: flushed {on:.3f}, kept {off:.3f}, kept / flushed '
          f'{off / on:.2f}x')
    print('flushed:', ' '.join(f'{t:.3f}' for t in times[True]))
    print('kept:   ', ' '.join(f'{t:.3f}' for t in times[False]))
    if args.count:
        counts = collections.Counter()
        handles = add_counting_hooks(model, counts)
        for _ in range(args.count):
            model.train_step(next(data), optim)
        for h in handles:
            h.remove()
        total = sum(counts.values())
        print(f'denormals over {args.count} iterations (kept): {total}')
        for key, n in counts.most_common(12):
            if n:
                print(f'{n:>9} {key}')


if __name__ == '__main__':
    main()
