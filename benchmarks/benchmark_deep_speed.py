# Copyright (c) mmreid_text contributors. All rights reserved.
"""DEEP vs the triple-stream CLIP baseline: parameters, FLOPs and speed.

Builds both configs with random weights (real ViT-B/16 architecture, no
weight file needed) and measures on the same random input, in one run:

- learnable parameters (``requires_grad``; the frozen text encoder does not
  count) and fvcore GFLOPs per sample, all spectra (``gflops``: fvcore's
  default count, which skips ``scaled_dot_product_attention``;
  ``gflops_full``: with the attention products counted);
- training iteration time (loss forward + backward + Adam step);
- inference throughput (``predict`` under ``no_grad``, samples/s);

for the baseline, DEEP as configured (text transformer stopped at EOT) and
DEEP with ``trim_context=False`` (the full 77-token text context, the
compute the paper's FLOPs count; identical features).

The models take turns every iteration (so that background load hits all
alike) and the medians over ``--iters`` timed iterations are reported.

Examples::

    python benchmarks/benchmark_deep_speed.py --batch-size 4 --iters 5 \
        --threads 1
    python benchmarks/benchmark_deep_speed.py --complexity \
        configs/deep/ablations/deep_vitb16_rgbnt201_t10b_linear_weight.py
"""
import argparse
import json
import math
import os.path as osp
import statistics
import sys
from typing import Callable, Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import speed_common  # noqa: E402  (benchmarks/speed_common.py)
import torch  # noqa: E402
from fvcore.nn import FlopCountAnalysis  # noqa: E402
from fvcore.nn.jit_handles import get_shape  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from torch import nn  # noqa: E402

import mmreid_text  # noqa: E402,F401
import mmreid_text.models.heads.deep_head  # noqa: E402,F401
import mmreid_text.models.losses.supcon_loss  # noqa: E402,F401
from mmreid_text.structures import ReIDDataSample  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# deep_full_context: the DEEP config with trim_context=False (identical
# features; the text transformer also runs over the padding after EOT).
MODEL_NAMES = ('baseline', 'deep', 'deep_full_context')
DEFAULT_CONFIGS = dict(
    baseline='configs/baseline/clip_vitb16_rgbnt201.py',
    deep='configs/deep/deep_vitb16_rgbnt201.py')


def build_random_model(config: str,
                       device: torch.device,
                       trim_context: Optional[bool] = None) -> tuple:
    """Model of ``config`` with random weights (``pretrained=None``);
    ``trim_context`` (when not None) is set in every prompt learner."""

    def set_trim_context(model_cfg) -> None:
        if trim_context is None:
            return
        for neck in model_cfg.get('necks', []):
            if 'trim_context' in neck or neck.type.endswith('Prompt'):
                neck.trim_context = trim_context

    model, cfg = speed_common.build_random_model(config, device,
                                                 set_trim_context)
    return model, tuple(cfg.model.backbone.img_size)


learnable_params = speed_common.learnable_params
part_params = speed_common.part_params
machine_info = speed_common.machine_info
training_step = speed_common.training_step


def make_samples(
    pids: List[int], modalities: tuple = ('rgb', 'nir', 'tir')
) -> List[ReIDDataSample]:
    return [
        ReIDDataSample(
            metainfo=dict(pid=pid, camid=0, modalities=tuple(modalities)))
        for pid in pids
    ]


class RetrievalForward(nn.Module):
    """``inputs -> retrieval`` of a ReIDModel, for fvcore tracing."""

    def __init__(self, model: nn.Module, data_samples: list) -> None:
        super().__init__()
        self.model = model
        self.data_samples = data_samples

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        feats = self.model.extract_feat(inputs, self.data_samples)
        return self.model.head(feats, self.data_samples)['retrieval']


def _sdpa_flops(inputs, outputs) -> int:
    """Multiply-accumulates of ``softmax(q k^T) v``."""
    query, key, value = (get_shape(x) for x in inputs[:3])
    rows = math.prod(query[:-1])
    return rows * key[-2] * query[-1] + rows * key[-2] * value[-1]


def count_flops(model: nn.Module, img_size: tuple,
                device: torch.device) -> Dict[str, float]:
    """GFLOPs (multiply-accumulates) per sample, all spectra of the model
    (``backbone.modalities``: three, or a Table IX subset), eval mode."""
    model.eval()
    modalities = tuple(model.backbone.modalities)
    wrapper = RetrievalForward(model, make_samples([0], modalities))
    inputs = torch.randn(1, len(modalities), 3, *img_size, device=device)
    results = {}
    attention = {'aten::scaled_dot_product_attention': _sdpa_flops}
    for name, handles in (('gflops', {}), ('gflops_full', attention)):
        analysis = FlopCountAnalysis(wrapper, (inputs, ))
        analysis.set_op_handle(**handles)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        results[name] = analysis.total() / 1e9
        if name == 'gflops':
            by_module = analysis.by_module()
            parts = [
                key for key in by_module if key.count('.') == 1 or (
                    key.startswith('model.necks.') and key.count('.') == 2)
            ]
            results['parts'] = {
                key.replace('model.', ''): by_module[key] / 1e9
                for key in parts
            }
    return results


def inference_step(model: nn.Module, inputs: torch.Tensor, samples: list,
                   device: torch.device) -> float:
    """Seconds of one ``predict`` call under ``no_grad``."""
    model.eval()
    with torch.no_grad():
        return speed_common.timed(lambda: model.predict(inputs, samples),
                                  device)


def interleaved_timings(models: Dict[str, nn.Module], inputs: torch.Tensor,
                        pids: List[int], warmup: int, iters: int,
                        device: torch.device) -> Dict[str, dict]:
    """Median step times, the models taking turns every iteration so that
    both see the same background load."""
    train_samples = make_samples(pids)
    test_samples = make_samples([0] * len(pids))
    optimizers = {}
    for name, model in models.items():
        learnable = [p for p in model.parameters() if p.requires_grad]
        optimizers[name] = torch.optim.Adam(learnable, lr=5e-6)

    def step(name: str) -> Callable[[], Dict[str, float]]:
        model = models[name]
        return lambda: dict(
            train=training_step(model, optimizers[name], inputs, train_samples,
                                device),
            infer=inference_step(model, inputs, test_samples, device))

    times = speed_common.interleaved_timings(
        {name: step(name)
         for name in models}, warmup, iters)
    medians = {}
    for name, steps in times.items():
        medians[name] = dict(
            train_iter_s=statistics.median(steps['train']),
            infer_samples_per_s=len(pids) / statistics.median(steps['infer']))
    return medians


def print_complexity(configs: List[str],
                     device: torch.device,
                     parts: bool = False,
                     trim_context: Optional[bool] = None) -> None:
    """Learnable parameters (M) and GFLOPs of each config; with ``parts``
    also per model part (backbone, text encoder, each neck, head)."""
    print(f'{"config":60s} {"params(M)":>10s} {"GFLOPs":>8s} {"GFLOPs*":>8s}')
    tables = []
    for config in configs:
        model, img_size = build_random_model(config, device, trim_context)
        flops = count_flops(model, img_size, device)
        print(f'{config:60s} {learnable_params(model) / 1e6:10.2f} '
              f'{flops["gflops"]:8.2f} {flops["gflops_full"]:8.2f}')
        if parts:
            params = part_params(model)
            names = {
                key: type(module).__name__
                for key, module in model.named_modules()
                if key in set(params) | set(flops['parts'])
            }
            rows = [
                f'  {config}', f'  {"part":34s} {"params":>12s} '
                f'{"GFLOPs":>8s}'
            ]
            for key in sorted(
                    set(params) | set(flops['parts']),
                    key=lambda k: (k.count('.'), k)):
                label = f'{key} ({names.get(key, "?")})'
                rows.append(f'  {label:34s} {params.get(key, 0):12,d} '
                            f'{flops["parts"].get(key, 0.0):8.3f}')
            tables.append('\n'.join(rows))
        del model
    for table in tables:
        print(table)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--baseline', default=DEFAULT_CONFIGS['baseline'])
    parser.add_argument('--deep', default=DEFAULT_CONFIGS['deep'])
    parser.add_argument(
        '--batch-size',
        type=int,
        default=4,
        help='samples per batch (even; identities come in pairs)')
    speed_common.add_timing_args(parser, warmup=2)
    parser.add_argument(
        '--complexity',
        nargs='+',
        metavar='CONFIG',
        help='only print learnable parameters and GFLOPs of these configs '
        '(e.g. the Table X / XI ablations) and exit')
    parser.add_argument(
        '--parts',
        action='store_true',
        help='with --complexity: also a table per model part')
    parser.add_argument(
        '--full-context',
        action='store_true',
        help='with --complexity: run the prompts over the full 77-token '
        'context (trim_context=False), the compute the paper counts')
    parser.add_argument('--no-flops', action='store_true')
    parser.add_argument(
        '--json', action='store_true', help='last line: JSON results')
    return parser.parse_args()


def main():
    args = parse_args()
    if args.batch_size < 2 or args.batch_size % 2:
        raise SystemExit('--batch-size must be even and >= 2 (two samples '
                         'per identity for the triplet loss).')
    if args.threads:
        torch.set_num_threads(args.threads)
    init_default_scope('mmreid_text')
    device = torch.device(args.device)
    if args.complexity:
        print_complexity(
            args.complexity,
            device,
            parts=args.parts,
            trim_context=False if args.full_context else None)
        return
    pids = [index // 2 for index in range(args.batch_size)]
    results = dict(
        machine=machine_info(device),
        torch=torch.__version__,
        batch_size=args.batch_size,
        iters=args.iters)
    models, inputs = {}, None
    for name in MODEL_NAMES:
        config = args.baseline if name == 'baseline' else args.deep
        torch.manual_seed(args.seed)
        model, img_size = build_random_model(
            config,
            device,
            trim_context=False if name == 'deep_full_context' else None)
        if inputs is None:
            generator = torch.Generator().manual_seed(args.seed)
            inputs = torch.randn(
                args.batch_size, 3, 3, *img_size,
                generator=generator).to(device)
        entry = dict(
            config=config,
            full_text_context=name == 'deep_full_context',
            learnable_params_m=learnable_params(model) / 1e6)
        if not args.no_flops:
            entry.update(count_flops(model, img_size, device))
        results[name] = entry
        models[name] = model
    timings = interleaved_timings(models, inputs, pids, args.warmup,
                                  args.iters, device)
    for name, entry in timings.items():
        results[name].update(entry)
    base = results['baseline']
    for name in MODEL_NAMES[1:]:
        entry = results[name]
        entry[
            'train_time_ratio'] = entry['train_iter_s'] / base['train_iter_s']
        entry['infer_time_ratio'] = (
            base['infer_samples_per_s'] / entry['infer_samples_per_s'])
    print(f'machine: {results["machine"]}, torch {results["torch"]}, '
          f'batch {args.batch_size}, median of {args.iters} iterations')
    print(f'{"model":13s} {"params(M)":>10s} {"GFLOPs":>8s} {"GFLOPs*":>8s} '
          f'{"train s/it":>11s} {"infer smp/s":>12s} {"train x":>8s} '
          f'{"infer x":>8s}')
    for name in MODEL_NAMES:
        entry = results[name]
        print(f'{name:13s} {entry["learnable_params_m"]:10.2f} '
              f'{entry.get("gflops", float("nan")):8.2f} '
              f'{entry.get("gflops_full", float("nan")):8.2f} '
              f'{entry["train_iter_s"]:11.3f} '
              f'{entry["infer_samples_per_s"]:12.2f} '
              f'{entry.get("train_time_ratio", 1.0):8.3f} '
              f'{entry.get("infer_time_ratio", 1.0):8.3f}')
    print('GFLOPs*: attention products counted as well; x: time relative '
          'to the baseline.')
    if args.json:
        print(json.dumps(results))


if __name__ == '__main__':
    main()
