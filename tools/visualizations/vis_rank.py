# Copyright (c) mmreid_text contributors. All rights reserved.
"""Ranked-list figures of chosen queries (as the papers' retrieval figures).

    # from a config and checkpoint (runs the test split once)
    python tools/visualizations/vis_rank.py CONFIG CKPT --queries 0 5 \\
        --topk 10 --out-dir work_dirs/vis_rank
    # from a dump of tools/test.py CONFIG CKPT --dump feats.npz
    python tools/visualizations/vis_rank.py --dump feats.npz --queries 0 5
    # eight query rows drawn at random (seeded)
    python tools/visualizations/vis_rank.py --dump feats.npz --num-queries 8

One PNG per query (``query_00005.png``): the query (grey frame) and its
top-k gallery entries by distance, each with every modality side by side
(RGB / NIR / TIR tiles of a multi-spectral sample, the one modality of a
visible-infrared sample, the middle frame of a tracklet), a green frame for
the query's identity and red for another, captioned with rank, pid and
distance. Entries the market protocol ignores (same pid and camera) are
skipped unless ``--keep-same-camera``. Multi-setting protocols (``vcm``,
``bupt``, ``sysu``, ``regdb``) draw every setting (``--setting`` picks one).
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
from typing import List

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402

from mmreid_text.utils.cli import parse_cfg_options  # noqa: E402
from mmreid_text.visualization import draw_retrieval  # noqa: E402
from mmreid_text.visualization import model_io  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    model_io.add_source_args(parser)
    parser.add_argument(
        '--gallery-modality',
        help='with --feats: gallery rows of this modality only (vis / ir)')
    picks = parser.add_mutually_exclusive_group()
    picks.add_argument(
        '--queries',
        type=int,
        nargs='+',
        default=[0],
        help='query rows to draw (default: 0)')
    picks.add_argument(
        '--num-queries',
        type=int,
        help='draw this many query rows chosen at random (with --seed), '
        'the same rows for every setting that has as many queries')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of --num-queries')
    parser.add_argument('--topk', type=int, default=10)
    parser.add_argument('--out-dir', default='work_dirs/vis_rank')
    parser.add_argument(
        '--setting', help='setting of a multi-setting protocol (ir2vis...)')
    parser.add_argument(
        '--modalities', nargs='+', help='modalities drawn (default: all)')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=(128, 64),
        metavar=('H', 'W'),
        help='size of each modality tile')
    parser.add_argument(
        '--frame',
        choices=('middle', 'first'),
        default='middle',
        help='tracklets: the frame drawn')
    parser.add_argument(
        '--keep-same-camera',
        action='store_true',
        help='also draw same-pid same-camera gallery entries')
    args = parser.parse_args(argv)
    model_io.check_source_args(parser, args)
    if args.num_queries is not None and args.num_queries < 1:
        parser.error('--num-queries must be >= 1')
    return args


def query_rows(args, num_query: int) -> List[int]:
    """``--queries`` as given, or ``--num-queries`` distinct rows drawn
    with ``--seed`` (sorted; all rows when there are fewer)."""
    if args.num_queries is None:
        return args.queries
    rng = np.random.default_rng(args.seed)
    count = min(args.num_queries, num_query)
    return sorted(int(r) for r in rng.choice(num_query, count, replace=False))


def get_dump(args) -> dict:
    if args.dump is not None:
        return model_io.load_dump(args.dump)
    if args.feats is not None:
        return model_io.from_feature_dump(args.feats, args.gallery_modality)
    with tempfile.TemporaryDirectory() as tmp:
        return model_io.dump_test_features(args.config, args.checkpoint,
                                           osp.join(tmp, 'feats.npz'),
                                           osp.join(tmp, 'work_dir'),
                                           parse_cfg_options(args.cfg_options))


def main(argv=None):
    args = parse_args(argv)
    dump = get_dump(args)
    prefixes = model_io.dump_settings(dump)
    if args.setting is not None:
        if f'{args.setting}_' not in prefixes:
            raise SystemExit(f'--setting {args.setting}: the dump has '
                             f'{[p[:-1] for p in prefixes if p]}.')
        prefixes = [f'{args.setting}_']
    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    for prefix in prefixes:
        num_query = len(dump[prefix + 'query_pids'])
        for row in query_rows(args, num_query):
            if not 0 <= row < num_query:
                raise SystemExit(f'--queries {row}: the {prefix or ""}'
                                 f'dump has {num_query} queries.')
            img = draw_retrieval(
                dump,
                row,
                topk=args.topk,
                prefix=prefix,
                modalities=args.modalities,
                size=tuple(args.size),
                frame=args.frame,
                skip_same_camera=not args.keep_same_camera)
            path = osp.join(args.out_dir, f'{prefix}query_{row:05d}.png')
            img.save(path)
            written.append(path)
    print(f'{len(written)} ranked lists written to {args.out_dir}')
    return written


if __name__ == '__main__':
    main()
