# Copyright (c) mmreid_text contributors. All rights reserved.
"""Chance level of a test split: metrics of a random ranking.

    python tools/analysis_tools/chance_level.py CONFIG [--trials 20]

Builds the test set of CONFIG and evaluates ``--trials`` random rankings
with the config's own ``test_evaluator`` (``ReIDMetric``: its protocol,
every setting of it - e.g. both directions of ``vcm`` / ``bupt`` - and its
ranks), by giving every sample a random Gaussian feature; prints mean +-
std of each metric: the number a trained model has to be compared with.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402

from mmreid_text.registry import DATASETS, METRICS  # noqa: E402
from mmreid_text.utils import load_config  # noqa: E402
from mmreid_text.utils import register_all_modules  # noqa: E402

#: info-dict fields a protocol may read (the others stay out of the metric)
META_KEYS = ('sample_idx', 'pid', 'camid', 'scene_id', 'modality', 'is_query',
             'is_gallery')


def chance_level(dataset, evaluator=None, trials=20, seed=0, dims=64):
    """Mean / std of every metric of ``evaluator`` over random rankings.

    Args:
        dataset: a built ReID dataset (``get_data_info``, ``__len__``).
        evaluator (dict | str, optional): ``ReIDMetric`` config or a
            protocol name. Defaults to the market protocol.
        trials (int): random rankings.
        seed (int): seed of the random features.
        dims (int): feature width (any width gives random rankings).

    Returns:
        dict: ``{metric key: (mean, std)}`` (percent for mAP / mINP / R*;
        counts such as ``num_queries`` as they are).
    """
    if evaluator is None or isinstance(evaluator, str):
        evaluator = dict(type='ReIDMetric', protocol=evaluator or 'market')
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    metas = [{k: x[k] for k in META_KEYS if k in x} for x in infos]
    generator = torch.Generator().manual_seed(seed)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # one results table per trial is noise
    found = {}
    try:
        for _ in range(trials):
            metric = METRICS.build(evaluator)
            features = torch.randn(len(metas), dims, generator=generator)
            metric.process({}, [
                dict(meta, pred_feature=feat)
                for meta, feat in zip(metas, features)
            ])
            for key, value in metric.compute_metrics(metric.results).items():
                found.setdefault(key, []).append(float(value))
    finally:
        logger.setLevel(level)
    return {k: (np.mean(v), np.std(v)) for k, v in found.items()}


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
    stats = chance_level(dataset, cfg.test_evaluator, args.trials, args.seed)
    print(f'chance level of {osp.basename(args.config)} (protocol '
          f'{protocol}, {args.trials} random rankings):')
    for name, (mean, std) in stats.items():
        if 'num_' in name:
            continue
        print(f'  {name:<12} {mean:6.2f} +- {std:.2f}')


if __name__ == '__main__':
    main()
