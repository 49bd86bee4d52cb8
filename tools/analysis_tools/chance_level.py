# Copyright (c) mmreid_text contributors. All rights reserved.
"""Chance level of a test split: metrics of a random ranking.

    python tools/analysis_tools/chance_level.py CONFIG [--trials 20]

Builds the test set of CONFIG, draws ``--trials`` random distance matrices
between its queries and gallery, evaluates each with the config's protocol
(``test_evaluator``) and prints mean +- std of mAP, mINP and CMC — the
number a trained model has to be compared with.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from mmreid_text.evaluation import evaluate_rank  # noqa: E402
from mmreid_text.registry import DATASETS  # noqa: E402
from mmreid_text.utils import load_config  # noqa: E402
from mmreid_text.utils import register_all_modules  # noqa: E402


def chance_level(dataset, protocol='market', trials=20, seed=0):
    """Mean / std of mAP, mINP, R1, R5 (percent) over random rankings."""
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    q = [x for x in infos if x['is_query']]
    g = [x for x in infos if x['is_gallery']]

    def arr(items, key):
        return np.array([x[key] for x in items])

    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(trials):
        dist = rng.random((len(q), len(g)))
        res = evaluate_rank(
            dist,
            arr(q, 'pid'),
            arr(g, 'pid'),
            arr(q, 'camid'),
            arr(g, 'camid'),
            max_rank=5,
            protocol=protocol,
            query_meta=dict(scene_id=arr(q, 'scene_id')),
            gallery_meta=dict(scene_id=arr(g, 'scene_id')))
        rows.append([
            100 * res['mAP'], 100 * res['mINP'], 100 * res['cmc'][0],
            100 * res['cmc'][4]
        ])
    rows = np.array(rows)
    names = ('mAP', 'mINP', 'R1', 'R5')
    return {
        n: (rows[:, i].mean(), rows[:, i].std())
        for i, n in enumerate(names)
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--trials', type=int, default=20)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    register_all_modules()
    cfg = load_config(args.config, args.cfg_options)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    protocol = cfg.test_evaluator.get('protocol', 'market')
    stats = chance_level(dataset, protocol, args.trials, args.seed)
    print(f'chance level of {osp.basename(args.config)} (protocol '
          f'{protocol}, {args.trials} random rankings):')
    for name, (mean, std) in stats.items():
        print(f'  {name:<5} {mean:6.2f} +- {std:.2f}')


if __name__ == '__main__':
    main()
