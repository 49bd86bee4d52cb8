# Copyright (c) mmreid_text contributors. All rights reserved.
"""Rank the gallery of a feature dump for one query; print / draw top-k.

    # a query of the dump (its row)
    python tools/search.py feats.npz --query-index 3 --topk 10 --draw q3.png
    # a new query: one image, a triplet or a tracklet (MODALITY=PATH;
    # repeat a modality for the frames of a tracklet)
    python tools/search.py feats.npz --config CONFIG --checkpoint CKPT \\
        --query-image rgb=r.jpg nir=n.jpg tir=t.jpg --query-pid 258

The gallery is every ``is_gallery`` row (``--gallery-modality ir`` keeps one
modality, for visible-infrared dumps), without the query row and, when the
query's identity and camera are known, without its same-identity
same-camera rows (the market rule; ``--keep-same-camera`` keeps them).
Distances follow the config's evaluator (``metric``, ``feat_norm``) as
stored in the dump. The table has rank, pid, camid, modality, distance,
match (same identity as the query) and path; ``--draw`` writes a PNG strip
of the query and its top-k (every modality side by side, green / red
frames for same / different identity).
"""
import argparse
import json
import os.path as osp
import sys
from collections import OrderedDict

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import numpy as np  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from mmreid_text.apis import feature_dump  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Rank a gallery dump for one query')
    parser.add_argument('dump', help='.npz of tools/extract_features.py')
    query = parser.add_mutually_exclusive_group(required=True)
    query.add_argument('--query-index', type=int, help='row of the dump')
    query.add_argument(
        '--query-image',
        nargs='+',
        help='PATH (single-modality models) or MODALITY=PATH ...; needs '
        '--config and --checkpoint')
    parser.add_argument('--config', help='config of the dump (--query-image)')
    parser.add_argument('--checkpoint', help='checkpoint of the dump')
    parser.add_argument('--query-pid', type=int, help='id of a new query')
    parser.add_argument('--query-camid', type=int, help='its camera')
    parser.add_argument('--topk', type=int, default=10)
    parser.add_argument('--gallery-modality', help='rank only this modality')
    parser.add_argument('--keep-same-camera', action='store_true')
    parser.add_argument(
        '--metric', choices=['euclidean', 'cosine', 'dot'], default=None)
    parser.add_argument('--draw', help='write the top-k strip to this PNG')
    parser.add_argument(
        '--data-root',
        help='where the dump\'s relative paths are (default: '
        'the data_root stored in the dump)')
    parser.add_argument('--device', default=None)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    if args.query_image and not (args.config and args.checkpoint):
        parser.error('--query-image needs --config and --checkpoint (the '
                     'ones the dump was extracted with)')
    if args.topk < 1:
        parser.error('--topk must be >= 1')
    return args


def parse_query_image(items):
    """``['a.jpg']`` -> ``'a.jpg'``; ``['rgb=a', 'nir=b']`` -> dict;
    a repeated modality collects frame paths (a tracklet)."""
    if all('=' not in item for item in items):
        return items[0] if len(items) == 1 else list(items)
    paths = OrderedDict()
    for item in items:
        mod, sep, path = item.partition('=')
        if not sep or not mod or not path:
            raise SystemExit(f'--query-image {item!r}: give MODALITY=PATH '
                             '(e.g. rgb=img.jpg) for every path')
        paths.setdefault(mod, []).append(path)
    return paths


def main(argv=None):
    args = parse_args(argv)
    dump = feature_dump.load_dump(args.dump)
    data_root = args.data_root or dump['data_root']
    query_pid, query_camid, query_root = args.query_pid, args.query_camid, ''
    if args.query_index is not None:
        n = len(dump['feats'])
        if not 0 <= args.query_index < n:
            raise SystemExit(f'--query-index {args.query_index} is outside '
                             f'the dump\'s 0..{n - 1}')
        row = args.query_index
        query_feat = dump['feats'][row]
        query_pid = int(dump['pids'][row])
        query_camid = int(dump['camids'][row])
        query_paths = json.loads(str(dump['paths'][row]))
        query_root = data_root
    else:
        from mmreid_text.apis import ReIDInferencer
        inferencer = ReIDInferencer(
            args.config,
            args.checkpoint,
            device=args.device,
            cfg_options=args.cfg_options)
        sample = parse_query_image(args.query_image)
        if isinstance(sample, dict) and not inferencer.is_video:
            bad = [m for m, p in sample.items() if len(p) > 1]
            if bad:
                raise SystemExit(f'--query-image: several paths for {bad}, '
                                 'but the config is an image config (one '
                                 'path per modality)')
            sample = {m: p[0] for m, p in sample.items()}
        query_feat = inferencer(sample)[0]
        query_paths = inferencer.build_info(0, sample)['img_path']
    results = feature_dump.rank_gallery(
        dump,
        np.asarray(query_feat),
        query_index=args.query_index,
        query_pid=query_pid,
        query_camid=query_camid,
        topk=args.topk,
        metric=args.metric,
        gallery_modality=args.gallery_modality,
        keep_same_camera=args.keep_same_camera)
    who = 'unknown id' if query_pid is None else f'id {query_pid}'
    print(f'query: {who}, camera {query_camid}; top-{len(results)} of the '
          f'gallery of {args.dump} ({dump["info"].get("split")} split, '
          f'{dump["info"].get("metric")} distance)')
    print(feature_dump.format_table(results))
    if args.draw:
        img = feature_dump.draw_strip(
            query_paths,
            results,
            data_root,
            query_root,
            query_label=f'query ({who})')
        img.save(args.draw)
        print(f'top-{len(results)} strip written to {args.draw}')


if __name__ == '__main__':
    main()
