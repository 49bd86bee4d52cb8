# Copyright (c) mmreid_text contributors. All rights reserved.
"""Generate a deterministic synthetic dataset in a benchmark layout.

Example::

    python tools/dataset_converters/make_synthetic.py --root data/synthetic \\
        --dataset rgbnt201 --seed 0

Without ``--force`` nothing is written when ``<root>/<DATASET>`` already
holds a synthetic set made with the same parameters (its manifest says so).
"""
import argparse
import re
import sys
from typing import Any, Dict, List, Optional

from mmreid_text.synthetic import (SYNTHETIC_LAYOUTS, ensure_synthetic,
                                   example_captions, make_synthetic,
                                   save_example_grid)


def cli_name(layout: str) -> str:
    """``'MarketMM'`` -> ``'market_mm'``, ``'RGBNT201'`` -> ``'rgbnt201'``."""
    return re.sub(r'(?<=[a-z])(?=[A-Z])', '_', layout).lower()


#: CLI name -> layout key of ``SYNTHETIC_LAYOUTS``.
DATASETS = {cli_name(name): name for name in SYNTHETIC_LAYOUTS}


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write a synthetic multi-spectral re-ID dataset with '
        'ground-truth captions in the on-disk layout of a benchmark.')
    parser.add_argument(
        '--root',
        default='data/synthetic',
        help='data root; the dataset goes to <root>/<DATASET FOLDER>')
    parser.add_argument(
        '--dataset',
        default='rgbnt201',
        choices=sorted(DATASETS),
        help='benchmark layout to reproduce')
    parser.add_argument(
        '--num-train-ids', type=int, help='default: the layout\'s')
    parser.add_argument(
        '--num-test-ids', type=int, help='default: the layout\'s')
    parser.add_argument(
        '--images-per-camera',
        type=int,
        help='frames per (identity, camera); rgbnt201: 1..30')
    parser.add_argument(
        '--set',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='any other parameter of the layout, e.g. num_query_ids=3')
    parser.add_argument(
        '--img-size',
        type=int,
        nargs=2,
        default=None,
        metavar=('H', 'W'),
        help='image height and width (default: the layout\'s, e.g. '
        '256x128 for RGBNT201, 128x256 for vehicles)')
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
        help='also save a picture of three test samples in every modality')
    return parser.parse_args(argv)


def format_summary(stats: Dict[str, Any]) -> str:
    """A plain-text table of split sizes."""
    width = max(len(split) for split in stats['splits']) + 2
    lines = [
        f"{stats['dataset']} at {stats['dataset_dir']}",
        f"{'split':<{width}}{'ids':>6}{'samples':>9}{'images':>9}  cameras",
    ]
    for split, info in stats['splits'].items():
        cams = ' '.join(f'{cam}:{n}' for cam, n in info['cameras'].items())
        extra = ''.join(f'  {key}: {info[key]}'
                        for key in ('distractors', 'junk', 'scenes', 'tracks')
                        if info.get(key))
        lines.append(f"{split:<{width}}{info['ids']:>6}{info['samples']:>9}"
                     f"{info['images']:>9}  {cams}{extra}")
    if stats['generated']:
        lines.append(f"generated {stats['total_images']} images in "
                     f"{stats['seconds']:.1f} s")
    else:
        lines.append('already present with the same parameters (manifest '
                     'matches); nothing written. Use --force to regenerate.')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    kwargs: Dict[str, Any] = dict(
        seed=args.seed, progress=not args.no_progress)
    for key in ('num_train_ids', 'num_test_ids', 'images_per_camera'):
        if getattr(args, key) is not None:
            kwargs[key] = getattr(args, key)
    for item in args.set:
        key, sep, value = item.partition('=')
        if not sep:
            print(
                f'error: --set expects KEY=VALUE, got {item!r}',
                file=sys.stderr)
            return 1
        kwargs[key] = _value(value)
    if args.img_size is not None:
        kwargs['img_size'] = tuple(args.img_size)
    make = make_synthetic if args.force else ensure_synthetic
    try:
        stats = make(DATASETS[args.dataset], args.root, **kwargs)
    except (ValueError, RuntimeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    except TypeError as err:  # an argument the layout does not take
        print(f'error: {args.dataset}: {err}', file=sys.stderr)
        return 1
    print(format_summary(stats))
    if args.preview:
        specs = save_example_grid(stats['dataset_dir'], args.preview)
        print(f'preview written to {args.preview}')
        for spec, texts in zip(specs,
                               example_captions(stats['dataset_dir'], specs)):
            print(f'  {spec.folder} pid {spec.pid} cam {spec.cam}')
            for mod, text in texts.items():
                print(f'    {mod}: {text}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
