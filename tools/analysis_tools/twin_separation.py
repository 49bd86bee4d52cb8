# Copyright (c) mmreid_text contributors. All rights reserved.
"""How well a model tells temporal twins apart (docs/synthetic_data.md).

On synthetic video data made with ``temporal_twins=True`` identity ``2k`` is
identity ``2k-1`` played backwards (pairs counted from the split's first
pid). For every query this compares the nearest gallery entry of the
query's own identity with the nearest one of its twin, both among the
entries under other cameras than the query's (the ``vcm`` rule, applied to
both so that they compete on equal terms)::

    python tools/test.py CONFIG CKPT --dump work_dirs/x/feats.npz
    python tools/analysis_tools/twin_separation.py work_dirs/x/feats.npz

Twin accuracy = the fraction of queries whose own identity is nearer (a tie
counts one half): 50% is chance, which any model that pools single frames
without their order gets (its features of a twin's tracklet are those of
the partner's, up to which frames are sampled). ``--feat-slice 768:1536``
ranks by a part of the dumped features instead (e.g. VLD's STA half of
``cat(seq_cls, seq_sta)``): Euclidean distance of the L2-normalised slice.
"""
import argparse
import json
from typing import Dict, List

import numpy as np


def twin_of(pids: np.ndarray, first: int) -> np.ndarray:
    """The twin of each pid: pairs ``(first, first+1), (first+2, ...)``."""
    return np.where((pids - first) % 2 == 0, pids + 1, pids - 1)


def twin_accuracy(distmat: np.ndarray,
                  query_pids: np.ndarray,
                  gallery_pids: np.ndarray,
                  query_camids: np.ndarray,
                  gallery_camids: np.ndarray,
                  first_pid: int = None) -> Dict[str, float]:
    """Twin accuracy (%) and the number of queries it counts.

    Args:
        distmat: ``[num_query, num_gallery]`` distances (smaller = nearer).
        query_pids, gallery_pids, query_camids, gallery_camids: ``[N]``.
        first_pid: First pid of the split (default: the smallest pid seen).

    Returns:
        dict: ``twin_acc`` (%), ``num_queries`` (queries with an own and a
        twin gallery entry under another camera).
    """
    if first_pid is None:
        first_pid = int(min(query_pids.min(), gallery_pids.min()))
    twins = twin_of(query_pids, first_pid)
    scores: List[float] = []
    for i, (pid, cam) in enumerate(zip(query_pids, query_camids)):
        other_cam = gallery_camids != cam
        own = distmat[i, other_cam & (gallery_pids == pid)]
        twin = distmat[i, other_cam & (gallery_pids == twins[i])]
        if own.size == 0 or twin.size == 0:
            continue
        own_d, twin_d = own.min(), twin.min()
        scores.append(1.0 if own_d < twin_d else 0.5 if own_d ==
                      twin_d else 0.)
    if not scores:
        raise ValueError(
            'No query has gallery entries of both its own '
            'identity and its twin under other cameras: is this '
            'a dump of temporal-twins data (temporal_twins=True)?')
    return dict(
        twin_acc=100.0 * float(np.mean(scores)), num_queries=len(scores))


def slice_distances(query: np.ndarray, gallery: np.ndarray, start: int,
                    end: int) -> np.ndarray:
    """Euclidean distances ``[Q, G]`` of the L2-normalised ``[:, start:end]``
    parts of the features."""
    q = query[:, start:end].astype(np.float64)
    g = gallery[:, start:end].astype(np.float64)
    q /= np.linalg.norm(q, axis=1, keepdims=True) + 1e-12
    g /= np.linalg.norm(g, axis=1, keepdims=True) + 1e-12
    return np.sqrt(np.maximum(2 - 2 * q @ g.T, 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('dump', help='.npz written by tools/test.py --dump')
    parser.add_argument(
        '--feat-slice',
        help='START:END: rank by this part of the features (normalised)')
    args = parser.parse_args()
    data = np.load(args.dump)
    info = json.loads(str(data['info']))
    results = {}
    for name in info['settings']:
        prefix = '' if name is None else f'{name}_'
        distmat = data[prefix + 'distmat']
        if args.feat_slice:
            start, end = (int(v) for v in args.feat_slice.split(':'))
            distmat = slice_distances(data[prefix + 'query_feats'],
                                      data[prefix + 'gallery_feats'], start,
                                      end)
        results[name
                or 'all'] = twin_accuracy(distmat, data[prefix + 'query_pids'],
                                          data[prefix + 'gallery_pids'],
                                          data[prefix + 'query_camids'],
                                          data[prefix + 'gallery_camids'])
    for name, res in results.items():
        print(f'{name}: twin accuracy {res["twin_acc"]:.1f}% over '
              f'{res["num_queries"]} queries (chance 50%)')
    print(json.dumps(results))


if __name__ == '__main__':
    main()
