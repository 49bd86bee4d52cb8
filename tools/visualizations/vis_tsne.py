# Copyright (c) mmreid_text contributors. All rights reserved.
"""t-SNE (or UMAP) of test features: colour = identity, marker = modality.

    python tools/visualizations/vis_tsne.py CONFIG CKPT --out tsne.png
    python tools/visualizations/vis_tsne.py --dump feats.npz --out tsne.png \\
        --max-ids 20 --max-points 2000
    python tools/visualizations/vis_tsne.py --dump feats.npz --method umap

The query and gallery features of a ``ReIDMetric`` dump (of
``tools/test.py --dump`` or computed here from CONFIG CKPT) are embedded in
2-D with the exact t-SNE of ``mmreid_text.visualization.tsne`` (no extra
dependency). Markers are the samples' modalities (``vis`` / ``ir`` for
visible-infrared data); when every sample has the same modalities (fused
multi-spectral features) the markers show query vs gallery instead.
``--max-ids`` keeps the first identities (sorted), ``--max-points`` then
subsamples at random (seeded) so big test sets stay fast (exact t-SNE is
O(N^2) per step). ``--method umap`` embeds with UMAP instead (the
``umap-learn`` package, not a requirement: install it to use this).
"""
import argparse
import os
import os.path as osp
import sys
import tempfile

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mmreid_text.utils.cli import parse_cfg_options  # noqa: E402
from mmreid_text.visualization import model_io  # noqa: E402
from mmreid_text.visualization import plot_embedding, tsne  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    model_io.add_source_args(parser)
    parser.add_argument('--out', default='work_dirs/vis_tsne/tsne.png')
    parser.add_argument(
        '--setting', help='setting of a multi-setting protocol (ir2vis...)')
    parser.add_argument(
        '--max-ids', type=int, help='keep the first N identities')
    parser.add_argument(
        '--max-points',
        type=int,
        default=3000,
        help='random subsample above this many samples (default 3000)')
    parser.add_argument(
        '--method',
        choices=('tsne', 'umap'),
        default='tsne',
        help="'tsne' (built in) or 'umap' (needs pip install umap-learn)")
    parser.add_argument(
        '--neighbors', type=int, default=15, help='UMAP n_neighbors')
    parser.add_argument('--perplexity', type=float, default=30.0)
    parser.add_argument('--iters', type=int, default=1000)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--no-normalize',
        action='store_true',
        help='embed raw features (default: L2-normalised, as retrieval)')
    args = parser.parse_args(argv)
    model_io.check_source_args(parser, args)
    return args


def feature_dump_sides(path: str) -> dict:
    """A ``tools/extract_features.py`` dump as query / gallery arrays,
    each row once: query = ``is_query`` rows, gallery = the other
    ``is_gallery`` rows."""
    from mmreid_text.apis import feature_dump
    dump = feature_dump.load_dump(path)
    is_query = np.asarray(
        dump.get('is_query', np.zeros(len(dump['pids']))), dtype=bool)
    sides = dict(
        query=is_query,
        gallery=np.asarray(dump['is_gallery'], dtype=bool) & ~is_query)
    out = {}
    for side, rows in sides.items():
        out[f'{side}_feats'] = dump['feats'][rows]
        out[f'{side}_pids'] = dump['pids'][rows]
        if 'modalities' in dump:
            out[f'{side}_modalities'] = dump['modalities'][rows]
    return out


def select_samples(dump: dict,
                   prefix: str,
                   max_ids=None,
                   max_points=None,
                   seed: int = 0):
    """``(features [N, D], pids [N], marker labels [N])`` of a dump."""
    feats, pids, labels = [], [], []
    for side in ('query', 'gallery'):
        feats.append(np.asarray(dump[f'{prefix}{side}_feats'], np.float32))
        pids.append(np.asarray(dump[f'{prefix}{side}_pids']))
        key = f'{prefix}{side}_modalities'
        if key in dump:
            mods = model_io.sample_modalities(dump[key])
        else:
            mods = ['?'] * len(pids[-1])
        labels.append([(m, side) for m in mods])
    feats = np.concatenate(feats)
    pids = np.concatenate(pids)
    pairs = [p for part in labels for p in part]
    if len({m for m, _ in pairs}) > 1:
        markers = [m for m, _ in pairs]
    else:
        markers = [s for _, s in pairs]
    markers = np.asarray(markers)
    keep = np.arange(len(pids))
    if max_ids is not None:
        ids = np.unique(pids)[:max_ids]
        keep = keep[np.isin(pids, ids)]
    if max_points is not None and len(keep) > max_points:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(keep, max_points, replace=False))
    return feats[keep], pids[keep], markers[keep]


def umap_embedding(feats: np.ndarray, neighbors: int, seed: int) -> np.ndarray:
    """``[N, 2]`` UMAP embedding (``umap-learn``, imported only here)."""
    try:
        import umap
    except ImportError as err:
        raise SystemExit(
            '--method umap needs the umap-learn package (not a requirement '
            'of mmreid_text): pip install umap-learn, or use --method tsne '
            f'(built in). ({err})') from err
    reducer = umap.UMAP(
        n_neighbors=min(neighbors,
                        len(feats) - 1), random_state=seed)
    return np.asarray(reducer.fit_transform(feats), dtype=np.float64)


def main(argv=None):
    args = parse_args(argv)
    if args.dump is not None:
        dump = model_io.load_dump(args.dump)
    elif args.feats is not None:
        dump = feature_dump_sides(args.feats)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            dump = model_io.dump_test_features(
                args.config, args.checkpoint, osp.join(tmp, 'feats.npz'),
                osp.join(tmp, 'work_dir'), parse_cfg_options(args.cfg_options))
    prefixes = model_io.dump_settings(dump) if 'query_feats' not in dump \
        else ['']
    prefix = prefixes[0] if args.setting is None else f'{args.setting}_'
    if prefix not in prefixes:
        raise SystemExit(f'--setting {args.setting}: the dump has '
                         f'{[p[:-1] for p in prefixes if p]}.')
    feats, pids, markers = select_samples(dump, prefix, args.max_ids,
                                          args.max_points, args.seed)
    feats = torch.from_numpy(feats)
    if not args.no_normalize:
        feats = torch.nn.functional.normalize(feats, dim=1)
    if args.method == 'umap':
        points = umap_embedding(feats.numpy(), args.neighbors, args.seed)
    else:
        points = tsne(
            feats,
            perplexity=args.perplexity,
            num_iters=args.iters,
            seed=args.seed).numpy()
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    name = 'UMAP' if args.method == 'umap' else 't-SNE'
    title = f'{name} of test features' + (f', {prefix[:-1]}' if prefix else '')
    roles = set(markers.tolist()) <= {'query', 'gallery'}
    plot_embedding(
        points,
        pids,
        markers,
        args.out,
        title=title,
        marker_title='query / gallery' if roles else 'modality')
    print(f'{name} of {len(points)} samples written to {args.out}')
    return args.out


if __name__ == '__main__':
    main()
