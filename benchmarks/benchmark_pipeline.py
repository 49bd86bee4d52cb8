# Copyright (c) mmreid_text contributors. All rights reserved.
"""Throughput of the RGBNT201 training data pipeline (samples/s).

    python benchmarks/benchmark_pipeline.py [--workers 2] [--batches 30]

Uses the training pipeline and identity sampler of
``configs/_base_/datasets/rgbnt201.py`` (load 3 JPEGs, resize to 256x128,
shared flip / pad+crop / random erasing, pack) on synthetic data written in
the RGBNT201 layout at the real image size (256x128, generated once under
``--data``), through a DataLoader with ``--workers`` processes.
"""
import argparse
import json
import os.path as osp
import platform
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config  # noqa: E402

from mmreid_text.engine import ReIDRunner  # noqa: E402
from mmreid_text.utils import register_all_modules  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data', default='data/benchmark_synthetic')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--batches', type=int, default=30)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args()
    register_all_modules()

    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'datasets', 'rgbnt201.py'))
    loader = cfg.train_dataloader
    loader.batch_size = args.batch_size
    loader.num_workers = args.workers
    loader.dataset.type = 'SyntheticRGBNT201'
    loader.dataset.data_root = osp.join(args.data, 'RGBNT201')
    loader.dataset.generator = dict(
        seed=0,
        num_train_ids=40,
        num_test_ids=4,
        images_per_camera=6,
        img_size=(256, 128))
    dl = ReIDRunner.build_dataloader(loader.to_dict(), seed=0)

    it = iter(dl)
    n = 0
    for i in range(args.warmup + args.batches):
        if i == args.warmup:
            start = time.perf_counter()
            n = 0
        try:
            batch = next(it)
        except StopIteration:
            it = iter(dl)
            batch = next(it)
        n += len(batch['inputs'])
    elapsed = time.perf_counter() - start
    result = dict(
        samples_per_s=n / elapsed,
        images_per_s=3 * n / elapsed,
        workers=args.workers,
        batch_size=args.batch_size,
        input_shape=list(batch['inputs'][0].shape),
        cpu=platform.processor() or platform.machine())
    print(f'RGBNT201 train pipeline, {args.workers} workers: '
          f'{result["samples_per_s"]:.1f} samples/s '
          f'({result["images_per_s"]:.1f} images/s), '
          f'sample {tuple(result["input_shape"])}')
    if args.json:
        print(json.dumps(result))


if __name__ == '__main__':
    main()
