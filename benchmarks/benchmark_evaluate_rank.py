# Copyright (c) mmreid_text contributors. All rights reserved.
"""Time and memory of ``evaluate_rank`` against torchreid's implementation.

One synthetic retrieval problem (identities with several cameras, features
= identity centre + noise, L2-normalised, Euclidean distances) is written
to a temporary folder.  Each implementation then runs in its own fresh
subprocess on the very same float32 distance matrix:

- time: wall-clock seconds of the evaluation call only (the distance
  matrix is already loaded, imports are done);
- memory: the peak resident set size *added* by the evaluation call, i.e.
  ``VmHWM`` after the call minus ``VmRSS`` just before it, with the
  high-water mark reset right before the call (Linux ``clear_refs``).  The
  loaded distance matrix itself is part of the baseline.  Where the reset is
  not available, ``ru_maxrss`` after the call minus ``VmRSS`` before it is
  used (an upper bound).

Both implementations must return the same mAP and CMC (within 1e-6).

Example::

    python benchmarks/benchmark_evaluate_rank.py --num-query 10000 \
        --num-gallery 10000 --json results.json
"""
import argparse
import json
import os
import os.path as osp
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-query', type=int, default=10000)
    parser.add_argument('--num-gallery', type=int, default=10000)
    parser.add_argument('--num-ids', type=int, default=500)
    parser.add_argument('--num-cams', type=int, default=6)
    parser.add_argument('--feat-dim', type=int, default=256)
    parser.add_argument(
        '--noise',
        type=float,
        default=2.0,
        help='feature noise relative to the identity centre norm')
    parser.add_argument('--max-rank', type=int, default=50)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--device', default='cpu', help='device for mmreid_text')
    parser.add_argument(
        '--memory-budget-mb',
        type=float,
        default=256.,
        help='working memory per chunk for mmreid_text')
    parser.add_argument(
        '--ours-threads',
        nargs='+',
        default=['default', '1'],
        help='torch CPU thread settings to run mmreid_text with, one '
        'subprocess each ("default" = torch\'s own choice)')
    parser.add_argument('--num-threads', help=argparse.SUPPRESS)
    parser.add_argument(
        '--repeat',
        type=int,
        default=3,
        help='runs of mmreid_text in its process (first and best reported)')
    parser.add_argument(
        '--skip-torchreid',
        action='store_true',
        help='only run mmreid_text (torchreid takes minutes at 10k x 10k)')
    parser.add_argument('--json', help='also write the results here')
    parser.add_argument('--worker', choices=['ours', 'torchreid'])
    parser.add_argument('--data', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------
# data
def make_problem(args, folder):
    """Write distmat.npy and the pid/camid arrays into ``folder``."""
    import torch

    from mmreid_text.evaluation import compute_distance_matrix
    gen = torch.Generator().manual_seed(args.seed)
    centres = torch.nn.functional.normalize(
        torch.randn(args.num_ids, args.feat_dim, generator=gen), dim=1)

    def side(num):
        pids = torch.randint(0, args.num_ids, (num, ), generator=gen)
        camids = torch.randint(0, args.num_cams, (num, ), generator=gen)
        noise = torch.randn(num, args.feat_dim, generator=gen)
        feats = centres[pids] + args.noise * noise / args.feat_dim**0.5
        return torch.nn.functional.normalize(feats, dim=1), pids, camids

    q_feats, q_pids, q_camids = side(args.num_query)
    g_feats, g_pids, g_camids = side(args.num_gallery)
    distmat = compute_distance_matrix(q_feats, g_feats, 'euclidean')
    np.save(osp.join(folder, 'distmat.npy'), distmat.numpy())
    for name, values in (('q_pids', q_pids), ('g_pids', g_pids),
                         ('q_camids', q_camids), ('g_camids', g_camids)):
        np.save(osp.join(folder, f'{name}.npy'), values.numpy())


# ----------------------------------------------------------------------------
# worker (runs in a fresh subprocess)
def _status_kb(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return None


def _reset_peak():
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def measure(call):
    """(result, wall s, CPU s of all threads, added peak MiB, method)."""
    rss_before = _status_kb('VmRSS')
    exact = _reset_peak() and _status_kb('VmHWM') is not None
    start, cpu_start = time.perf_counter(), time.process_time()
    result = call()
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    if exact:
        peak = _status_kb('VmHWM')
        method = 'VmHWM reset before the call'
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        method = 'ru_maxrss (upper bound)'
    return result, seconds, cpu_seconds, (peak - rss_before) / 1024, method


def _torch_threads():
    import torch
    return torch.get_num_threads()


def run_worker(args):
    data = {
        name: np.load(osp.join(args.data, f'{name}.npy'))
        for name in ('distmat', 'q_pids', 'g_pids', 'q_camids', 'g_camids')
    }
    inputs = (data['distmat'], data['q_pids'], data['g_pids'],
              data['q_camids'], data['g_camids'], args.max_rank)
    baseline_mb = _status_kb('VmRSS') / 1024
    runs = []
    if args.worker == 'ours':
        from mmreid_text.evaluation import evaluate_rank

        threads = None if args.num_threads in (None, 'default') else int(
            args.num_threads)
        threads_used = threads or _torch_threads()

        def call():
            return evaluate_rank(
                *inputs,
                device=args.device,
                memory_budget_mb=args.memory_budget_mb,
                num_threads=threads)

        for _ in range(max(1, args.repeat)):
            out, seconds, cpu_seconds, peak_mb, method = measure(call)
            runs.append((seconds, cpu_seconds, peak_mb))
        scores = dict(
            mAP=out['mAP'], mINP=out['mINP'], cmc=out['cmc'].tolist())
    else:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            from torchreid.reid.metrics.rank import evaluate_rank

        def call():
            return evaluate_rank(
                *inputs, use_metric_cuhk03=False, use_cython=False)

        threads_used = None  # NumPy code, single-threaded
        (cmc, mean_ap), seconds, cpu_seconds, peak_mb, method = measure(call)
        runs.append((seconds, cpu_seconds, peak_mb))
        scores = dict(mAP=float(mean_ap), mINP=None, cmc=cmc.tolist())
    print(
        json.dumps(
            dict(
                seconds_first=runs[0][0],
                seconds_best=min(r[0] for r in runs),
                cpu_seconds_first=runs[0][1],
                cpu_seconds_best=min(r[1] for r in runs),
                peak_added_mb=max(r[2] for r in runs),
                memory_method=method,
                baseline_rss_mb=baseline_mb,
                torch_threads=threads_used,
                **scores)))


# ----------------------------------------------------------------------------
# driver
def machine_info():
    info = dict(
        python=platform.python_version(),
        platform=platform.platform(),
        cpu_count=os.cpu_count())
    try:
        lscpu = subprocess.run(['lscpu'],
                               stdout=subprocess.PIPE,
                               text=True,
                               check=False).stdout
        for line in lscpu.splitlines():
            if line.startswith('Model name:'):
                info['cpu_model'] = line.split(':', 1)[1].strip()
    except OSError:
        pass
    import torch
    info['torch'] = torch.__version__
    info['numpy'] = np.__version__
    info['torch_threads'] = torch.get_num_threads()
    return info


def spawn(args, worker, folder, num_threads='default'):
    cmd = [
        sys.executable,
        osp.abspath(__file__), '--worker', worker, '--data', folder,
        '--num-threads', num_threads, '--max-rank',
        str(args.max_rank), '--device', args.device, '--memory-budget-mb',
        str(args.memory_budget_mb), '--repeat',
        str(args.repeat)
    ]
    env = dict(os.environ)
    repo = osp.dirname(osp.dirname(osp.abspath(__file__)))
    env['PYTHONPATH'] = os.pathsep.join(
        [repo] + [p for p in [env.get('PYTHONPATH')] if p])
    proc = subprocess.run(
        cmd, stdout=subprocess.PIPE, text=True, env=env, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        run_worker(args)
        return
    results = dict(
        config=dict(
            num_query=args.num_query,
            num_gallery=args.num_gallery,
            num_ids=args.num_ids,
            num_cams=args.num_cams,
            feat_dim=args.feat_dim,
            max_rank=args.max_rank,
            device=args.device,
            memory_budget_mb=args.memory_budget_mb),
        machine=machine_info())
    with tempfile.TemporaryDirectory() as folder:
        make_problem(args, folder)
        results['ours'] = [
            spawn(args, 'ours', folder, threads)
            for threads in args.ours_threads
        ]
        if not args.skip_torchreid:
            results['torchreid'] = spawn(args, 'torchreid', folder)

    rows = [(f"mmreid_text, {row['torch_threads']} thread" +
             ('s' if row['torch_threads'] > 1 else ''), row)
            for row in results['ours']]
    ours = results['ours'][0]
    if 'torchreid' in results:
        ref = results['torchreid']
        rows.append(('torchreid 0.2.5 (python)', ref))
        map_diff = max(abs(row['mAP'] - ref['mAP']) for row in results['ours'])
        cmc_diff = max(
            float(
                np.max(
                    np.abs(np.asarray(row['cmc']) - np.asarray(ref['cmc']))))
            for row in results['ours'])
        results['agreement'] = dict(
            mAP_abs_diff=map_diff,
            cmc_max_abs_diff=cmc_diff,
            ok=bool(map_diff <= 1e-6 and cmc_diff <= 1e-6))
        for row in results['ours']:
            row['speedup_wall_first'] = (
                ref['seconds_first'] / row['seconds_first'])
            row['speedup_wall_best'] = (
                ref['seconds_first'] / row['seconds_best'])
            row['speedup_cpu'] = (
                ref['cpu_seconds_first'] / row['cpu_seconds_first'])

    print(f'{args.num_query} queries x {args.num_gallery} gallery, '
          f'{args.num_ids} ids, {args.num_cams} cameras, market protocol; '
          f"CPU: {results['machine'].get('cpu_model', '?')} "
          f"({results['machine']['cpu_count']} cores)")
    header = (f"{'implementation':<26}{'wall s':>8}{'best wall s':>12}"
              f"{'CPU s':>8}{'added peak MiB':>16}{'mAP %':>10}"
              f"{'mINP %':>8}{'R1 %':>8}")
    print(header)
    print('-' * len(header))
    for name, row in rows:
        minp = '-' if row['mINP'] is None else f"{100 * row['mINP']:.2f}"
        print(f'{name:<26}{row["seconds_first"]:>8.2f}'
              f'{row["seconds_best"]:>12.2f}{row["cpu_seconds_first"]:>8.2f}'
              f'{row["peak_added_mb"]:>16.1f}{100 * row["mAP"]:>10.4f}'
              f'{minp:>8}{100 * row["cmc"][0]:>8.2f}')
    if 'agreement' in results:
        agree = results['agreement']
        for name, row in rows[:-1]:
            print(f'speed-up of {name} over torchreid: wall '
                  f"{row['speedup_wall_first']:.1f}x (first run), "
                  f"{row['speedup_wall_best']:.1f}x (best run); CPU time "
                  f"{row['speedup_cpu']:.1f}x")
        print('agreement (all mmreid_text runs vs torchreid): '
              f"|mAP diff| = {agree['mAP_abs_diff']:.2e}, "
              f"max |CMC diff| = {agree['cmc_max_abs_diff']:.2e} -> "
              f"{'same' if agree['ok'] else 'DIFFERENT'}")
    print(f"memory: {ours['memory_method']}; the loaded distance matrix "
          f"is part of the baseline ({ours['baseline_rss_mb']:.0f} MiB RSS "
          'in the mmreid_text worker)')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
    if 'agreement' in results and not results['agreement']['ok']:
        sys.exit('mmreid_text and torchreid disagree')


if __name__ == '__main__':
    main()
