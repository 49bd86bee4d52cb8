# Copyright (c) mmreid_text contributors. All rights reserved.
"""Generate a deterministic synthetic dataset in a benchmark layout.

Example::

    python tools/dataset_converters/make_synthetic.py --root data/synthetic \\
        --dataset rgbnt201 --seed 0

Without ``--force`` nothing is written when ``<root>/RGBNT201`` already holds
a synthetic set made with the same parameters (its manifest says so).
"""
import argparse
import sys
from typing import Any, Dict, List, Optional

from mmreid_text.datasets.synthetic import (ensure_synthetic_multispectral,
                                            ensure_synthetic_rgbnt201,
                                            example_captions,
                                            make_synthetic_multispectral,
                                            make_synthetic_rgbnt201,
                                            save_example_grid)

#: CLI name -> layout key of ``SYNTHETIC_LAYOUTS`` (None: the RGBNT201
#: generator).
DATASETS = dict(
    rgbnt201=None,
    rgbnt100='RGBNT100',
    msvr310='MSVR310',
    wmveid863='WMVEID863',
    market_mm='MarketMM')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write a synthetic multi-spectral re-ID dataset with '
        'ground-truth captions in the on-disk layout of a benchmark.')
    parser.add_argument(
        '--root',
        default='data/synthetic',
        help='data root; the dataset goes to <root>/<DATASET NAME>')
    parser.add_argument(
        '--dataset',
        default='rgbnt201',
        choices=sorted(DATASETS),
        help='benchmark layout to reproduce')
    parser.add_argument('--num-train-ids', type=int, default=60)
    parser.add_argument('--num-test-ids', type=int, default=20)
    parser.add_argument(
        '--images-per-camera',
        type=int,
        default=4,
        help='frames per (identity, camera), 1..30 (rgbnt201 only)')
    parser.add_argument(
        '--img-size',
        type=int,
        nargs=2,
        default=None,
        metavar=('H', 'W'),
        help='image height and width (default: the benchmark\'s, e.g. '
        '256x128 for persons, 128x256 for vehicles)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--force',
        action='store_true',
        help='regenerate even if a matching synthetic set exists')
    parser.add_argument(
        '--no-progress', action='store_true', help='hide the progress bar')
    parser.add_argument(
        '--preview',
        metavar='PNG',
        help='also save a picture of three test RGB/NIR/TIR triplets')
    return parser.parse_args(argv)


def format_summary(stats: Dict[str, Any]) -> str:
    """A plain-text table of split sizes."""
    first = next(iter(stats['splits'].values()))
    if 'triplets' not in first:  # the other layouts report generic counts
        lines = [f"{stats['dataset']} at {stats['dataset_dir']}"]
        for split, info in stats['splits'].items():
            lines.append(f'{split:<26}' + '  '.join(
                f'{k}: {v}'
                for k, v in info.items() if not isinstance(v, dict)))
        return '\n'.join(lines)
    lines = [
        f"{stats['dataset']} at {stats['dataset_dir']}",
        f"{'split':<12}{'ids':>6}{'triplets':>10}{'images':>9}  cameras",
    ]
    for split, info in stats['splits'].items():
        cams = ' '.join(f'{cam}:{n}' for cam, n in info['cameras'].items())
        lines.append(f"{split:<12}{info['ids']:>6}{info['triplets']:>10}"
                     f"{info['images']:>9}  {cams}")
    if stats['generated']:
        lines.append(f"generated {stats['total_images']} images in "
                     f"{stats['seconds']:.1f} s")
    else:
        lines.append('already present with the same parameters (manifest '
                     'matches); nothing written. Use --force to regenerate.')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    layout = DATASETS[args.dataset]
    kwargs = dict(
        num_train_ids=args.num_train_ids,
        num_test_ids=args.num_test_ids,
        seed=args.seed,
        progress=not args.no_progress)
    if args.img_size is not None:
        kwargs['img_size'] = tuple(args.img_size)
    try:
        if layout is None:
            kwargs['images_per_camera'] = args.images_per_camera
            make = (
                make_synthetic_rgbnt201
                if args.force else ensure_synthetic_rgbnt201)
            stats = make(args.root, **kwargs)
        else:
            make = (
                make_synthetic_multispectral
                if args.force else ensure_synthetic_multispectral)
            stats = make(layout, args.root, **kwargs)
    except (ValueError, RuntimeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(format_summary(stats))
    if args.preview and layout is None:
        names = save_example_grid(stats['dataset_dir'], args.preview)
        print(f'preview written to {args.preview}')
        for name, texts in zip(names,
                               example_captions(stats['dataset_dir'], names)):
            print(f'  {name}')
            for mod, text in texts.items():
                print(f'    {mod}: {text}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
