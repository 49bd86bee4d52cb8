# Copyright (c) mmreid_text contributors. All rights reserved.
"""Time and memory of re-ranking, AQE and TPR@FPR against the references.

One synthetic retrieval problem (identities with several cameras, features
= identity centre + noise, L2-normalised) is written to a temporary folder.
Each call then runs in its own fresh subprocess, on the same features:

- ``ours-rerank``: ``k_reciprocal_distance(query, gallery)`` (k1 20, k2 6,
  lambda 0.3), *including* the distance computation;
- ``torchreid-rerank``: ``torchreid.utils.re_ranking(q_g, q_q, g_g)`` on the
  three Euclidean distance matrices, computed (and loaded) *before* the
  timed call; the two rankings must give the same mAP and R-1 (within 0.1
  points; see ``rerank_agreement`` for why entries may differ);
- ``ours-aqe``: ``alpha_query_expansion`` (qe_k 5, alpha 3); fast-reid's
  ``aqe`` is not installable (no setup.py), so it has no reference run;
- ``ours-roc``: ``evaluate_roc`` at FPR 1e-4, 1e-3, 1e-2 (market rule) on
  the Euclidean distances; ``sklearn-roc``: the same from
  ``sklearn.metrics.roc_curve`` on every kept pair (the same TPRs).

Time is the wall-clock seconds of the call, memory the peak resident set
size it adds (as ``benchmark_evaluate_rank.py`` measures it).

Example::

    python benchmarks/benchmark_rerank.py --num-query 10000 \
        --num-gallery 10000 --json rerank.json
"""
import argparse
import json
import os.path as osp
import platform
import subprocess
import sys
import tempfile
import warnings

import numpy as np

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from benchmark_evaluate_rank import measure  # noqa: E402

CALLS = ('ours-rerank', 'torchreid-rerank', 'ours-aqe', 'ours-roc',
         'sklearn-roc')
FPRS = (1e-4, 1e-3, 1e-2)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-query', type=int, default=10000)
    parser.add_argument('--num-gallery', type=int, default=10000)
    parser.add_argument('--num-ids', type=int, default=500)
    parser.add_argument('--num-cams', type=int, default=6)
    parser.add_argument('--feat-dim', type=int, default=768)
    parser.add_argument(
        '--noise',
        type=float,
        default=3.0,
        help='feature noise relative to the identity centre norm (3.0: mAP '
        'about 40 %% before and 80 %% after re-ranking at 4k x 4k)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--memory-budget-mb', type=float, default=256.)
    parser.add_argument(
        '--calls',
        nargs='+',
        default=list(CALLS),
        choices=CALLS,
        help='what to run (torchreid-rerank takes minutes at 10k x 10k)')
    parser.add_argument('--json', help='also write the results here')
    parser.add_argument('--worker', choices=CALLS)
    parser.add_argument('--data', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def make_problem(args, folder):
    import torch
    gen = torch.Generator().manual_seed(args.seed)
    centres = torch.nn.functional.normalize(
        torch.randn(args.num_ids, args.feat_dim, generator=gen), dim=1)
    for name, num in (('q', args.num_query), ('g', args.num_gallery)):
        pids = torch.randint(0, args.num_ids, (num, ), generator=gen)
        camids = torch.randint(0, args.num_cams, (num, ), generator=gen)
        noise = torch.randn(num, args.feat_dim, generator=gen)
        feats = centres[pids] + args.noise * noise / args.feat_dim**0.5
        feats = torch.nn.functional.normalize(feats, dim=1)
        np.save(osp.join(folder, f'{name}_feats.npy'), feats.numpy())
        np.save(osp.join(folder, f'{name}_pids.npy'), pids.numpy())
        np.save(osp.join(folder, f'{name}_camids.npy'), camids.numpy())
    from mmreid_text.evaluation.functional import compute_distance_matrix
    query = torch.from_numpy(np.load(osp.join(folder, 'q_feats.npy')))
    gallery = torch.from_numpy(np.load(osp.join(folder, 'g_feats.npy')))
    np.save(
        osp.join(folder, 'distmat.npy'),
        compute_distance_matrix(query, gallery).numpy())


def worker(args):
    import torch

    from mmreid_text.evaluation.functional import (alpha_query_expansion,
                                                   compute_distance_matrix,
                                                   evaluate_roc,
                                                   k_reciprocal_distance)
    data = {
        name[:-4]: np.load(osp.join(args.data, name))
        for name in ('q_feats.npy', 'g_feats.npy', 'q_pids.npy', 'g_pids.npy',
                     'q_camids.npy', 'g_camids.npy')
    }
    query = torch.from_numpy(data['q_feats'])
    gallery = torch.from_numpy(data['g_feats'])
    budget = args.memory_budget_mb
    out = osp.join(args.data, f'{args.worker}.npy')
    if args.worker == 'ours-rerank':

        def call():
            return k_reciprocal_distance(
                query, gallery, memory_budget_mb=budget).numpy()
    elif args.worker == 'torchreid-rerank':
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            from torchreid.reid.utils.rerank import re_ranking
        q_g = compute_distance_matrix(query, gallery).numpy()
        q_q = compute_distance_matrix(query, query).numpy()
        g_g = compute_distance_matrix(gallery, gallery).numpy()

        def call():
            return re_ranking(q_g, q_q, g_g, 20, 6, 0.3)
    elif args.worker == 'ours-aqe':

        def call():
            return alpha_query_expansion(
                query, gallery, memory_budget_mb=budget)[0].numpy()
    else:
        distmat = np.load(osp.join(args.data, 'distmat.npy'))  # problem's
        meta = (data['q_pids'], data['g_pids'], data['q_camids'],
                data['g_camids'])
        if args.worker == 'ours-roc':

            def call():
                return evaluate_roc(
                    distmat, *meta, fprs=FPRS, memory_budget_mb=budget)['tpr']
        else:
            from sklearn.metrics import roc_curve

            def call():
                q_pids, g_pids, q_cams, g_cams = meta
                same = q_pids[:, None] == g_pids[None]
                keep = ~(same & (q_cams[:, None] == g_cams[None]))
                fpr, tpr, _ = roc_curve(
                    same[keep], -distmat[keep], drop_intermediate=False)
                return np.asarray([tpr[fpr <= f].max() for f in FPRS])

    result, seconds, _, peak_mb, method = measure(call)
    np.save(out, np.asarray(result))
    print(json.dumps(dict(seconds=seconds, peak_mb=peak_mb, method=method)))


def rerank_agreement(folder: str, ours: np.ndarray,
                     reference: np.ndarray) -> dict:
    """How far the two re-ranked matrices differ, and their mAP / R-1.

    Both start from float32 distances computed in different chunks, which
    differ in the last bits; where two neighbours of a sample are that
    close at the k1-th place, the two codes may keep different
    k-reciprocal sets, so a few entries differ by more than rounding. The
    rankings must still score the same: mAP and R-1 within 0.1 points.
    """
    from mmreid_text.evaluation.functional import evaluate_rank
    meta = [
        np.load(osp.join(folder, f'{name}.npy'))
        for name in ('q_pids', 'g_pids', 'q_camids', 'g_camids')
    ]
    diff = np.abs(ours - reference)
    scores = [evaluate_rank(d, *meta) for d in (ours, reference)]
    out = {
        'max_abs_difference': float(diff.max()),
        'share_of_entries_above_1e-5': float((diff > 1e-5).mean()),
        'share_of_rows_above_1e-5': float((diff > 1e-5).any(1).mean()),
        'mAP': [100 * s['mAP'] for s in scores],
        'R1': [100 * s['cmc'][0] for s in scores],
    }
    plain = evaluate_rank(np.load(osp.join(folder, 'distmat.npy')), *meta)
    out['before re-ranking'] = dict(
        mAP=100 * plain['mAP'], R1=100 * plain['cmc'][0])
    if abs(out['mAP'][0] - out['mAP'][1]) > 0.1 or abs(out['R1'][0] -
                                                       out['R1'][1]) > 0.1:
        raise SystemExit(f're-ranking results disagree: {out}')
    return out


def main(args):
    import torch
    results = dict(
        num_query=args.num_query,
        num_gallery=args.num_gallery,
        feat_dim=args.feat_dim,
        machine=f'{platform.processor() or platform.machine()}, '
        f'{torch.get_num_threads()} torch threads',
        calls={})
    with tempfile.TemporaryDirectory() as folder:
        make_problem(args, folder)
        for name in args.calls:
            cmd = [
                sys.executable,
                osp.abspath(__file__), '--worker', name, '--data', folder,
                '--memory-budget-mb',
                str(args.memory_budget_mb)
            ]
            proc = subprocess.run(
                cmd, capture_output=True, text=True, check=False)
            if proc.returncode:
                raise RuntimeError(f'{name} failed:\n{proc.stderr}')
            results['calls'][name] = json.loads(
                proc.stdout.strip().splitlines()[-1])
            print(f'{name:17s} {results["calls"][name]["seconds"]:9.2f} s '
                  f'{results["calls"][name]["peak_mb"]:9.0f} MiB added')

        def load(name):
            return np.load(osp.join(folder, f'{name}.npy'))

        if 'ours-rerank' in args.calls and 'torchreid-rerank' in args.calls:
            results['rerank agreement'] = rerank_agreement(
                folder, load('ours-rerank'), load('torchreid-rerank'))
            print('ours vs torchreid re-ranking:',
                  json.dumps(results['rerank agreement']))
        if 'ours-roc' in args.calls and 'sklearn-roc' in args.calls:
            diff = float(np.abs(load('ours-roc') - load('sklearn-roc')).max())
            results['ours-roc vs sklearn-roc: max abs difference'] = diff
            print(f'ours-roc vs sklearn-roc: max abs difference {diff:.2e}')
            if diff > 1e-12:
                raise SystemExit(f'ours-roc and sklearn-roc disagree: {diff}')
        if 'ours-roc' in args.calls:
            results['tpr_at_fpr'] = dict(
                zip([f'{f:.0e}' for f in FPRS],
                    load('ours-roc').tolist()))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == '__main__':
    parsed = parse_args()
    if parsed.worker:
        worker(parsed)
    else:
        main(parsed)
