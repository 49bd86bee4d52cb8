# Copyright (c) mmreid_text contributors. All rights reserved.
"""NEXT inference throughput with and without text vs the triple-stream
baseline, in one run (NEXT Table VIII: 275.1 vs 354.0 images/s).

Builds the configs with random weights (real ViT-B/16 architecture, no
weight file needed) and times ``predict`` under ``no_grad`` on the same
random batch of RGB/NIR/TIR triplets with one distinct caption per
modality (the data has different captions per modality; identical texts
would be encoded once):

- ``baseline``: the triple-stream CLIP baseline (NEXT Table IV (a));
- ``next``: NEXT with text (the three captions encoded at test);
- ``next_wo_text``: the same model with ``test_text=False`` (Table VIII
  "NEXT (w/o Text)").

The models take turns every iteration (reversed every other iteration) so
that background load hits all alike; medians over ``--iters`` and the
per-iteration ratios are reported. Throughput is in samples (RGB/NIR/TIR
triplets) per second, the paper's "Images/s" unit as we read it.

Example::

    python benchmarks/benchmark_next_speed.py --batch-size 4 --iters 5 \
        --threads 1
"""
import argparse
import json
import os.path as osp
import statistics
import sys
from typing import Dict, List

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import speed_common  # noqa: E402  (benchmarks/speed_common.py)
import torch  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import mmreid_text  # noqa: E402,F401
from mmreid_text.structures import ReIDDataSample  # noqa: E402

MODEL_NAMES = ('baseline', 'next', 'next_wo_text')
DEFAULT_CONFIGS = dict(
    baseline='configs/next/ablations/next_vitb16_rgbnt201_t4a_baseline.py',
    next='configs/next/next_vitb16_rgbnt201.py')
#: NEXT Table VIII, RGBNT201 (images/s; no baseline throughput is given)
PAPER = dict(next=275.1, next_wo_text=354.0)
CAPTIONS = {
    'rgb':
    'A young man seen from the front in daylight. He wears a red '
    'jacket and black trousers. He carries a backpack.',
    'nir':
    'A man seen from the front. He wears a bright jacket and dark '
    'trousers. He carries a bag on his back.',
    'tir':
    'A warm figure walking towards the camera. His upper body is '
    'warmer than his legs. A cool backpack is on his back.',
}


def make_samples(batch: int) -> List[ReIDDataSample]:
    modalities = tuple(CAPTIONS)
    return [
        ReIDDataSample(
            metainfo=dict(
                pid=0, camid=0, modalities=modalities, captions=dict(
                    CAPTIONS))) for _ in range(batch)
    ]


def build_models(args, device) -> Dict[str, torch.nn.Module]:
    models = {}
    torch.manual_seed(args.seed)
    models['baseline'], cfg = speed_common.build_random_model(
        args.baseline, device)
    img_size = tuple(cfg.model.backbone.img_size)

    def context(model_cfg):
        model_cfg.necks[0].trim_context = not args.full_context

    torch.manual_seed(args.seed)
    models['next'], _ = speed_common.build_random_model(
        args.next, device, context)

    def without_text(model_cfg):
        context(model_cfg)
        model_cfg.necks[0].test_text = False

    torch.manual_seed(args.seed)
    models['next_wo_text'], _ = speed_common.build_random_model(
        args.next, device, without_text)
    for model in models.values():
        model.eval()
    return models, img_size


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--baseline', default=DEFAULT_CONFIGS['baseline'])
    parser.add_argument('--next', default=DEFAULT_CONFIGS['next'])
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument(
        '--full-context',
        action='store_true',
        help='encode the texts over the full 77-token context (the '
        "paper's FLOPs convention); default: trimmed to the longest text, "
        'identical features')
    parser.add_argument(
        '--json', action='store_true', help='last line: JSON results')
    speed_common.add_timing_args(parser, warmup=1, iters=5)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    init_default_scope('mmreid_text')
    device = torch.device(args.device)
    models, img_size = build_models(args, device)
    inputs = torch.randn(args.batch_size, 3, 3, *img_size, device=device)
    samples = make_samples(args.batch_size)

    def step(model):

        def run():
            with torch.no_grad():
                return dict(
                    infer=speed_common.timed(
                        lambda: model.predict(inputs, samples), device))

        return run

    times = speed_common.interleaved_timings(
        {name: step(models[name])
         for name in MODEL_NAMES},
        args.warmup,
        args.iters,
        alternate=True)
    medians = speed_common.median_times(times)
    results = dict(
        machine=speed_common.machine_info(device),
        load_average=speed_common.load_average(),
        batch_size=args.batch_size,
        iters=args.iters,
        full_context=args.full_context,
        samples_per_s={
            name: args.batch_size / medians[name]['infer']
            for name in MODEL_NAMES
        })
    ratios = {}
    for name, ref in (('next', 'next_wo_text'), ('next', 'baseline'),
                      ('next_wo_text', 'baseline')):
        # throughput ratio = inverse time ratio, per paired iteration
        per_iter = speed_common.paired_ratios(times, ref, name, 'infer')
        ratios[f'{name}/{ref}'] = statistics.median(per_iter)
    results['throughput_ratios'] = ratios
    results['paper'] = dict(
        PAPER, ratio_next_over_wo_text=PAPER['next'] / PAPER['next_wo_text'])

    print(f'Machine: {results["machine"]}, load {results["load_average"]}, '
          f'batch {args.batch_size}, {args.iters} timed iterations')
    for name in MODEL_NAMES:
        paper = PAPER.get(name)
        shown = f'  (paper {paper:.1f} on an RTX 4090)' if paper else ''
        print(f'{name:14s} {results["samples_per_s"][name]:9.2f} samples/s'
              f'{shown}')
    for key, value in ratios.items():
        print(f'throughput {key}: {value:.3f}')
    print('paper next / next_wo_text: '
          f'{results["paper"]["ratio_next_over_wo_text"]:.3f}')
    if args.json:
        print(json.dumps(results))
    return results


if __name__ == '__main__':
    main()
