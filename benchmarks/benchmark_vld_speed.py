# Copyright (c) mmreid_text contributors. All rights reserved.
"""VLD vs the same model without the hub and STA: parameters, FLOPs, speed.

Builds the configs with random weights (real CLIP ViT-B/16 and text
encoder, no weight file needed) and measures, in one run on the same random
batch of visible-infrared tracklets ``[B, 1, T, 3, H, W]``:

- learnable and total parameters, also per model part, and fvcore GFLOPs
  per frame (one tracklet at test time / T, as the VLD paper's Table X and
  ``tools/analysis_tools/get_flops.py``), also per part;
- the time of one training iteration: ``model.loss`` with all loss terms of
  the config, backward, and one step of the config's optimizer (AdamW,
  prompt tokens at 25x the lr) built with mmengine's
  ``build_optim_wrapper``.

Models (``--models``): ``vld`` (hub + STA + IMLP), ``imlp`` (Table III
"B + IMLP": no hub, no STA; the reference of the 1.1x goal) and optionally
``baseline`` (Table III "B": no text encoder either). The models take turns
every iteration, in alternating order (A B, B A, ...), so that background
load on a shared machine hits all alike; medians over ``--iters`` timed
iterations are reported, and the median of the per-iteration ratios.
Denormal floats are flushed to zero on CPU unless ``--keep-denormals``
(the L_v2t gradients produce them, and x86 CPUs are many times slower on
them; docs/benchmarks.md).

Example (the numbers of docs/benchmarks.md)::

    python benchmarks/benchmark_vld_speed.py --ids 2 --tracklets 1 \
        --warmup 1 --iters 5 --threads 1
    python benchmarks/benchmark_vld_speed.py --models vld imlp baseline \
        --warmup 1 --iters 5 --threads 1 --no-flops
"""
import argparse
import json
import os.path as osp
import statistics
import sys
from typing import Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import speed_common  # noqa: E402  (benchmarks/speed_common.py)
import torch  # noqa: E402
from fvcore.nn import FlopCountAnalysis  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from torch import nn  # noqa: E402

from mmreid_text.analysis import RetrievalForward  # noqa: E402
from mmreid_text.analysis import count_flops  # noqa: E402
from mmreid_text.analysis.complexity import counting_mode  # noqa: E402
from mmreid_text.structures import ReIDDataSample  # noqa: E402
from mmreid_text.utils import register_all_modules  # noqa: E402

#: name -> default config
DEFAULT_CONFIGS = dict(
    vld='configs/vld/vld_vitb16_hitszvcm.py',
    imlp='configs/vld/ablations/vld_vitb16_hitszvcm_t3b_imlp.py',
    baseline='configs/vld/ablations/vld_vitb16_hitszvcm_t3a_baseline.py')
#: the model the goal compares against, and the goal
REFERENCE = 'imlp'
GOAL = 1.1
#: VLD paper, Table X: plain ViT-B/16 at 288x144 and what VLD adds
PAPER = dict(
    base_params_m=86.17,
    base_gflops=13.96,
    added_params_m=2.39,
    added_gflops=0.12)
MODALITIES = ('vis', 'ir')


def make_vi_samples(num_ids: int, tracklets: int,
                    num_frames: int) -> List[ReIDDataSample]:
    """A cross-modality batch: for every identity ``tracklets`` visible
    then ``tracklets`` infrared tracklets of ``num_frames`` frames (meta
    ``pid``, ``camid``, ``modality``, ``modalities``, ``num_frames``), as
    the ``CrossModalityIdentitySampler`` gives."""
    if num_ids < 2 or tracklets < 1:
        raise ValueError(f'need >= 2 identities (WRT loss negatives) and >= '
                         f'1 tracklet per modality, got {num_ids} and '
                         f'{tracklets}.')
    samples = []
    for pid in range(num_ids):
        for camid, modality in enumerate(MODALITIES):
            for _ in range(tracklets):
                samples.append(
                    ReIDDataSample(
                        metainfo=dict(
                            pid=pid,
                            camid=camid,
                            modality=modality,
                            modalities=(modality, ),
                            num_frames=num_frames)))
    return samples


def part_flops(model: nn.Module, inputs: torch.Tensor,
               samples: list) -> Dict[str, float]:
    """fvcore default MACs per part (``backbone``, ``necks.i``, ``head``,
    ...) of ``model(inputs, samples, mode='tensor')`` at test time."""
    wrapper = RetrievalForward(model, samples)
    with counting_mode(model):
        analysis = FlopCountAnalysis(wrapper, (inputs, ))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        analysis.tracer_warnings('none')
        by_module = analysis.by_module()
    parts = {}
    for key, flops in by_module.items():
        names = key.split('.')
        if names[0] != 'model' or len(names) < 2:
            continue
        depth = 3 if names[1] == 'necks' else 2
        if len(names) == depth and flops:
            parts['.'.join(names[1:])] = float(flops)
    return parts


def complexity(model: nn.Module, img_size: Tuple[int, int],
               num_frames: int) -> dict:
    """Params (M) and GFLOPs per frame of one visible tracklet, test time;
    the totals with ``mmreid_text.analysis.count_flops`` (as get_flops)."""
    samples = make_vi_samples(2, 1, num_frames)[:1]
    inputs = torch.randn(1, 1, num_frames, 3, *img_size)
    result = count_flops(RetrievalForward(model, samples), inputs)
    flops = part_flops(model, inputs, samples)
    total = dict(speed_common.part_params(model, learnable_only=False))
    return dict(
        params_m=result.params / 1e6,
        learnable_params_m=result.learnable_params / 1e6,
        gflops_per_frame=result.flops_per_frame / 1e9,
        gflops_full_per_frame=result.flops_full_per_frame / 1e9,
        part_params=total,
        part_learnable_params=speed_common.part_params(model),
        part_gflops_per_frame={
            k: v / num_frames / 1e9
            for k, v in flops.items()
        })


def labelled_parts(model: nn.Module, entry: dict) -> Dict[str, tuple]:
    """``{'<part> (<class>)': (params, GFLOPs per frame)}`` of one model
    (the class in the label, since ``necks.i`` differ between models)."""
    types = {
        key: type(module).__name__
        for key, module in model.named_modules() if key.count('.') <= 1
    }
    keys = set(entry['part_params']) | set(entry['part_gflops_per_frame'])
    return {
        f'{key} ({types.get(key, "?")})':
        (entry['part_params'].get(key, 0),
         entry['part_gflops_per_frame'].get(key, 0.0))
        for key in keys
    }


def print_parts(results: dict, names: Sequence[str]) -> None:
    """One row per model part: params and GFLOPs/frame of every model."""
    labels = set()
    for name in names:
        labels |= set(results[name]['parts'])
    print(f'  {"part":44s}' +
          ''.join(f' {name + " params":>16s} {"GFLOPs/fr":>9s}'
                  for name in names))
    for label in sorted(labels, key=lambda k: (k.count('.'), k)):
        row = f'  {label:44s}'
        for name in names:
            params, flops = results[name]['parts'].get(label, (0, 0.0))
            row += f' {params:16,d} {flops:9.3f}'
        print(row)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    for name, config in DEFAULT_CONFIGS.items():
        parser.add_argument(
            f'--{name}-config', default=config, help=f'{name} config')
    parser.add_argument(
        '--models',
        nargs='+',
        choices=tuple(DEFAULT_CONFIGS),
        default=['vld', 'imlp'],
        help='models to time (imlp, the reference, is always included)')
    parser.add_argument(
        '--ids', type=int, default=2, help='identities in the batch')
    parser.add_argument(
        '--tracklets',
        type=int,
        default=1,
        help='tracklets per identity and modality (batch = ids x 2 x this)')
    speed_common.add_timing_args(parser, warmup=1)
    parser.add_argument(
        '--keep-denormals',
        action='store_true',
        help='do not flush denormal floats to zero on CPU (by default they '
        'are: the L_v2t gradients over all identities underflow to denormals, '
        'which makes CPU matrix products many times slower, unlike a GPU)')
    parser.add_argument(
        '--no-flops', action='store_true', help='skip the fvcore counts')
    parser.add_argument(
        '--quiet', action='store_true', help='no per-iteration lines')
    parser.add_argument(
        '--json', action='store_true', help='last line: JSON results')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    flush = not args.keep_denormals and torch.set_flush_denormal(True)
    register_all_modules()
    init_default_scope('mmreid_text')
    MMLogger.get_current_instance().setLevel('WARNING')
    device = torch.device(args.device)
    names = [REFERENCE] + [m for m in args.models if m != REFERENCE]
    names = sorted(names, key=list(DEFAULT_CONFIGS).index)
    results = dict(
        machine=speed_common.machine_info(device),
        torch=torch.__version__,
        load_average_start=speed_common.load_average(),
        flush_denormal=bool(flush),
        ids=args.ids,
        tracklets_per_modality=args.tracklets,
        iters=args.iters,
        warmup=args.warmup)
    models, optimizers, inputs, samples, shape = {}, {}, None, None, None
    for name in names:
        config = getattr(args, f'{name}_config')
        torch.manual_seed(args.seed)
        model, cfg = speed_common.build_random_model(config, device)
        img_size = tuple(cfg.model.backbone.img_size)
        num_frames = int(cfg.num_frames)
        if shape is None:
            shape = (img_size, num_frames)
            samples = make_vi_samples(args.ids, args.tracklets, num_frames)
            generator = torch.Generator().manual_seed(args.seed)
            inputs = torch.randn(
                len(samples), 1, num_frames, 3, *img_size,
                generator=generator).to(device)
            results.update(
                batch_shape=list(inputs.shape),
                img_size=list(img_size),
                num_frames=num_frames)
        elif shape != (img_size, num_frames):
            raise SystemExit(f'{config} uses {img_size} / T={num_frames} but '
                             f'the first model {shape}: the compared models '
                             'must take the same input.')
        entry = dict(
            config=config,
            learnable_params_m=speed_common.learnable_params(model) / 1e6,
            loss_terms=[term.name for term in model.loss_terms])
        if not args.no_flops:
            entry.update(complexity(model, img_size, num_frames))
            entry['parts'] = labelled_parts(model, entry)
        results[name] = entry
        models[name] = model
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel('ERROR')  # one line per frozen text parameter
        try:
            optimizers[name] = build_optim_wrapper(model, cfg.optim_wrapper)
        finally:
            logger.setLevel(level)

    def step(name):
        return lambda: dict(
            train=speed_common.training_step(models[name], optimizers[name],
                                             inputs, samples, device))

    times = speed_common.interleaved_timings(
        {name: step(name)
         for name in names},
        args.warmup,
        args.iters,
        alternate=True,
        progress=None if args.quiet else
        (lambda line: print(line, file=sys.stderr, flush=True)))
    medians = speed_common.median_times(times)
    results['load_average_end'] = speed_common.load_average()
    for name in names:
        entry = results[name]
        entry['train_iter_s'] = medians[name]['train']
        entry['train_times_s'] = times[name]['train']
        entry['train_time_ratio'] = (
            medians[name]['train'] / medians[REFERENCE]['train'])
        entry['paired_ratio_median'] = statistics.median(
            speed_common.paired_ratios(times, name, REFERENCE, 'train'))
    report(results, names, args)
    if args.json:
        printable = {
            k: v
            for k, v in results.items() if not isinstance(v, dict)
        }
        for name in names:
            printable[name] = {
                k: v
                for k, v in results[name].items() if k != 'parts'
            }
        print(json.dumps(printable))
    return results


def report(results: dict, names: Sequence[str],
           args: argparse.Namespace) -> None:
    shape = 'x'.join(str(s) for s in results['batch_shape'])
    print(f'machine: {results["machine"]}, torch {results["torch"]}, load '
          f'average (1/5/15 min) {results["load_average_start"]} at start, '
          f'{results["load_average_end"]} at end, denormals flushed to zero: '
          f'{results["flush_denormal"]}')
    print(f'batch {shape} (B x M x T x 3 x H x W: {args.ids} ids x '
          f'(vis + ir) x {args.tracklets} tracklets), median of '
          f'{args.iters} iterations after {args.warmup} warm-up, models '
          'alternating')
    print(f'{"model":9s} {"learnable(M)":>12s} {"params(M)":>10s} '
          f'{"GFLOPs/fr":>9s} {"train s/it":>10s} {"x imlp":>7s} '
          f'{"paired x":>8s}  loss terms')
    for name in names:
        entry = results[name]
        print(f'{name:9s} {entry["learnable_params_m"]:12.2f} '
              f'{entry.get("params_m", float("nan")):10.2f} '
              f'{entry.get("gflops_per_frame", float("nan")):9.3f} '
              f'{entry["train_iter_s"]:10.2f} '
              f'{entry["train_time_ratio"]:7.3f} '
              f'{entry["paired_ratio_median"]:8.3f}  '
              f'{"+".join(entry["loss_terms"])}')
    print('x imlp: ratio of the medians; paired x: median of the '
          'per-iteration ratios (back-to-back runs).')
    if 'vld' in names:
        ratio = results['vld']['train_time_ratio']
        verdict = 'met' if ratio <= GOAL else 'NOT met'
        print(f'goal: VLD training iteration <= {GOAL}x B+IMLP: {ratio:.3f}x '
              f'-> {verdict}')
        if 'params_m' in results['vld']:
            added_p = (
                results['vld']['params_m'] - results[REFERENCE]['params_m'])
            added_f = (
                results['vld']['gflops_per_frame'] -
                results[REFERENCE]['gflops_per_frame'])
            print(f'VLD adds {added_p:.2f} M params / {added_f:.3f} GFLOPs '
                  f'per frame (paper Table X: +{PAPER["added_params_m"]} M / '
                  f'+{PAPER["added_gflops"]} G)')
    if 'params_m' in results[names[0]]:
        print('parameters (all, learnable or not) and GFLOPs per frame by '
              'part:')
        print_parts(results, names)


if __name__ == '__main__':
    main()
