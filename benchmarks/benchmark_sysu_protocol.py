# Copyright (c) mmreid_text contributors. All rights reserved.
"""Time of the SYSU-MM01 protocol (``sysu``) on synthetic features.

A synthetic SYSU-MM01 test split with the real sizes: 96 identities,
3,803 infrared queries (cameras 3 and 6) and visible gallery candidates in
cameras 1, 2, 4, 5 spread over 301 non-empty (identity, camera) folders
(so that a single-shot all-search gallery has 301 images, as in the real
set), folder sizes 1..40 (a few below the multi-shot 10), features =
identity centre + noise (2048-d, float32).  Timed (wall-clock seconds,
best of ``--iters`` after ``--warmup`` runs):

- ``rank all_single``: ``evaluate_rank`` with
  ``dict(type='sysu_setting', mode='all', shot_size=1)`` on the
  precomputed query x candidate distance matrix: the 10 gallery draws and
  the 10 rankings of 3,803 x 301 (the issue's target: under 5 s on CPU);
  the CPU time (process time, all threads) of the same run is shown too;
- ``rank <setting>`` for the three other settings alike;
- ``ReIDMetric, 4 settings``: ``ReIDMetric(protocol='sysu')
  .compute_metrics`` on the per-sample results: feature normalisation, the
  one shared distance matrix (3,803 x all candidates) and the 4 x 10
  rankings.

Example::

    python benchmarks/benchmark_sysu_protocol.py --threads 1
    python benchmarks/benchmark_sysu_protocol.py --json sysu.json
"""
import argparse
import json
import os.path as osp
import sys
import time
from typing import Dict, List, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402

from mmreid_text import evaluation  # noqa: E402
from mmreid_text.utils import register_all_modules  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from speed_common import add_timing_args, load_average, machine_info  # noqa

SETTINGS = (('all_single', 'all', 1), ('all_multi', 'all', 10),
            ('indoor_single', 'indoor', 1), ('indoor_multi', 'indoor', 10))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-ids', type=int, default=96)
    parser.add_argument('--num-query', type=int, default=3803)
    parser.add_argument(
        '--num-folders',
        type=int,
        default=301,
        help='non-empty (identity, RGB camera) folders = single-shot '
        'all-search gallery size')
    parser.add_argument('--feat-dim', type=int, default=2048)
    parser.add_argument(
        '--noise',
        type=float,
        default=6.0,
        help='feature noise relative to the identity centres')
    parser.add_argument('--num-trials', type=int, default=10)
    parser.add_argument(
        '--limit', type=float, default=5.0, help='target seconds (report)')
    parser.add_argument('--json', help='write the results here')
    add_timing_args(parser, warmup=1, iters=3)
    return parser.parse_args(argv)


def synthetic_sysu(num_ids: int, num_query: int, num_folders: int,
                   noise_scale: float, feat_dim: int,
                   seed: int) -> Dict[str, np.ndarray]:
    """Meta and features of a synthetic SYSU-MM01 test split."""
    rng = np.random.default_rng(seed)
    rgb_cams = np.array([1, 2, 4, 5])
    folders = [(p, c) for p in range(num_ids) for c in rgb_cams]
    # every identity keeps one folder, the rest are drawn
    keep = [4 * p + int(rng.integers(4)) for p in range(num_ids)]
    rest = np.setdiff1d(np.arange(len(folders)), keep)
    keep += rng.choice(rest, num_folders - num_ids, replace=False).tolist()
    pids, cams = [], []
    for i in sorted(keep):
        size = int(rng.integers(1, 41))
        pids += [folders[i][0]] * size
        cams += [folders[i][1]] * size
    q_pid = rng.integers(num_ids, size=num_query)
    q_cam = rng.choice([3, 6], size=num_query)
    pid = np.concatenate([q_pid, pids]).astype(np.int64)
    camid = np.concatenate([q_cam, cams]).astype(np.int64)
    is_query = np.arange(len(pid)) < num_query
    centres = rng.standard_normal((num_ids, feat_dim)).astype(np.float32)
    noise = rng.standard_normal((len(pid), feat_dim)).astype(np.float32)
    feats = centres[pid] + noise_scale * noise
    return dict(pid=pid, camid=camid, is_query=is_query, feats=feats)


def metric_results(data: Dict[str, np.ndarray]) -> List[dict]:
    """The per-sample results list ``ReIDMetric.process`` would build."""
    feats = torch.from_numpy(data['feats'])
    return [
        dict(
            feature=feats[i],
            pid=int(data['pid'][i]),
            camid=int(data['camid'][i]),
            is_query=bool(data['is_query'][i]),
            is_gallery=not bool(data['is_query'][i]),
            sample_idx=i,
            modality='ir' if data['is_query'][i] else 'vis')
        for i in range(len(data['pid']))
    ]


def best_time(fn, warmup: int, iters: int) -> Tuple[float, float]:
    """(wall, CPU) seconds of the fastest (wall-clock) of ``iters`` runs.

    CPU = process time of all threads; on a shared machine it is less
    inflated by other jobs than the wall-clock time.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - start, time.process_time() - cpu))
    return min(times)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    device = torch.device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    data = synthetic_sysu(args.num_ids, args.num_query, args.num_folders,
                          args.noise, args.feat_dim, args.seed)
    query = data['is_query']
    feats = torch.nn.functional.normalize(torch.from_numpy(data['feats']))
    distmat = evaluation.compute_distance_matrix(feats[query], feats[~query])
    results = {}
    scores = {}
    for name, mode, shot_size in SETTINGS:
        protocol = dict(
            type='sysu_setting',
            mode=mode,
            shot_size=shot_size,
            num_trials=args.num_trials)

        def rank():
            scores[name] = evaluation.evaluate_rank(
                distmat,
                data['pid'][query],
                data['pid'][~query],
                data['camid'][query],
                data['camid'][~query],
                20,
                protocol=protocol,
                device=args.device)

        results[f'rank {name}'] = best_time(rank, args.warmup, args.iters)
    metric = evaluation.ReIDMetric(
        protocol='sysu', max_rank=20, device=args.device)
    samples = metric_results(data)
    MMLogger.get_instance('sysu_benchmark', log_level='WARNING')  # quiet
    results['ReIDMetric, 4 settings'] = best_time(
        lambda: metric.compute_metrics(samples), args.warmup, args.iters)

    num_gallery = {
        n: scores[n]['trials'][0]['num_gallery']
        for n, _, _ in SETTINGS
    }
    lines = [
        f'SYSU-MM01 protocol, {args.num_query} queries, '
        f'{int((~query).sum())} gallery candidates, {args.feat_dim}-d, '
        f'{args.num_trials} trials; best of {args.iters} after '
        f'{args.warmup} warm-up',
        machine_info(device), f'load average: {load_average()}', '',
        f'{"what":<26}{"gallery/trial":>14}{"wall s":>9}{"CPU s":>8}  '
        f'{"mAP %":>14}{"R1 %":>14}'
    ]
    for key, (seconds, cpu) in results.items():
        name = key.split(' ', 1)[1]
        extra = ''
        if name in scores:
            s = scores[name]
            extra = (
                f'{100 * s["mAP"]:>7.2f}±{100 * s["mAP_std"]:<5.2f}'
                f'{100 * s["cmc"][0]:>8.2f}±{100 * s["cmc_std"][0]:<5.2f}')
        gallery = str(num_gallery.get(name, ''))
        lines.append(
            f'{key:<26}{gallery:>14}{seconds:>9.3f}{cpu:>8.3f}  {extra}')
    target = results['rank all_single'][0]
    lines.append(f'target: rank all_single {target:.3f} s '
                 f'{"<" if target < args.limit else ">="} {args.limit} s')
    print('\n'.join(lines))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(
                dict(
                    wall_seconds={
                        k: v[0]
                        for k, v in results.items()
                    },
                    cpu_seconds={
                        k: v[1]
                        for k, v in results.items()
                    },
                    load_average=load_average(),
                    num_gallery=num_gallery,
                    args=vars(args),
                    machine=machine_info(device)),
                f,
                indent=2)


if __name__ == '__main__':
    main()
