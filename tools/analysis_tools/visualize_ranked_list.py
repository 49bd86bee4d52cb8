# Copyright (c) mmreid_text contributors. All rights reserved.
"""Draw ranked lists from a feature dump of ``tools/test.py --dump``.

    python tools/test.py CONFIG CKPT --dump work_dirs/feats.npz
    python tools/analysis_tools/visualize_ranked_list.py work_dirs/feats.npz \\
        --out-dir work_dirs/ranked --num-queries 8 --topk 10

One PNG per query: the query's modalities on the left (grey frame), then
the top-k gallery matches (green = same identity, red = different), the
entries the market protocol ignores (same identity and camera) skipped.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from mmreid_text.visualization import draw_ranked_list  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('dump', help='.npz written by tools/test.py --dump')
    parser.add_argument('--out-dir', default='work_dirs/ranked_lists')
    parser.add_argument('--num-queries', type=int, default=8)
    parser.add_argument('--queries', type=int, nargs='+', help='rows')
    parser.add_argument('--topk', type=int, default=10)
    parser.add_argument('--modalities', nargs='+')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    if not args.dump.endswith('.npz'):
        parser.error('give the .npz dump of tools/test.py --dump')
    dump = dict(np.load(args.dump))
    num_query = len(dump['query_pids'])
    rows = args.queries or sorted(
        np.random.default_rng(args.seed).choice(
            num_query, min(args.num_queries, num_query), replace=False))
    os.makedirs(args.out_dir, exist_ok=True)
    for row in tqdm(rows, desc='ranked lists'):
        img = draw_ranked_list(
            dump, int(row), topk=args.topk, modalities=args.modalities)
        img.save(osp.join(args.out_dir, f'query_{int(row):05d}.png'))
    print(f'{len(rows)} ranked lists written to {args.out_dir}')


if __name__ == '__main__':
    main()
