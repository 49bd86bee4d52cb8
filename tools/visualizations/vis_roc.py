# Copyright (c) mmreid_text contributors. All rights reserved.
"""Verification ROC (TPR against FPR, log axis) of test features.

    python tools/visualizations/vis_roc.py CONFIG CKPT --out roc.png
    python tools/visualizations/vis_roc.py --dump feats.npz --out roc.png

Every (query, gallery) pair the protocol keeps is a trial (positive = same
identity); the curve is ``evaluate_roc`` at ``--points`` FPRs from
``--min-fpr`` to 1, one line per setting of the dump (``ir2vis``,
``vis2ir``, ...), with the TPR at 1e-4, 1e-3 and 1e-2 in the legend
(docs/evaluation.md, "Re-ranking, query expansion and TPR@FPR"). The
distances are the dump's (re-ranked if the metric re-ranked), the pair rule
the dump's protocol unless ``--protocol`` is given.
"""
import argparse
import os
import os.path as osp
import sys
import tempfile

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402

from mmreid_text.evaluation.functional import evaluate_roc  # noqa: E402
from mmreid_text.utils.cli import parse_cfg_options  # noqa: E402
from mmreid_text.visualization import model_io  # noqa: E402
from mmreid_text.visualization import plot_roc  # noqa: E402

MARKS = (1e-4, 1e-3, 1e-2)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    model_io.add_source_args(parser, feats=False)
    parser.add_argument('--out', default='work_dirs/vis_roc/roc.png')
    parser.add_argument(
        '--protocol',
        help="pair rule: 'market' (same id and camera ignored), 'msvr310', "
        "'bupt' (nothing ignored), ...; default: the dump's (its "
        "info.protocol_cfg), else 'market'")
    parser.add_argument('--min-fpr', type=float, default=1e-5)
    parser.add_argument('--points', type=int, default=60)
    args = parser.parse_args(argv)
    model_io.check_source_args(parser, args)
    if not 0 < args.min_fpr < 1 or args.points < 2:
        parser.error('--min-fpr must lie in (0, 1) and --points be >= 2')
    return args


def roc_curves(dump: dict, protocol: str, fprs: np.ndarray) -> dict:
    """``{setting: (fpr, tpr)}`` of a ``ReIDMetric`` dump."""
    curves = {}
    for prefix in model_io.dump_settings(dump):
        query_meta = {}
        gallery_meta = {}
        for side, meta in (('query', query_meta), ('gallery', gallery_meta)):
            scene = dump.get(f'{prefix}{side}_scene_ids')
            if scene is not None and (scene >= 0).all():
                meta['scene_id'] = scene
        cams = [dump[f'{prefix}{s}_camids'] for s in ('query', 'gallery')]
        result = evaluate_roc(
            dump[f'{prefix}distmat'],
            dump[f'{prefix}query_pids'],
            dump[f'{prefix}gallery_pids'],
            *cams,
            fprs=fprs,
            protocol=protocol,
            query_meta=query_meta,
            gallery_meta=gallery_meta)
        curves[prefix[:-1] or 'test'] = (result['fpr'], result['tpr'])
    return curves


def dump_protocol(dump: dict):
    """The protocol config the dump was evaluated with (``'market'`` for
    dumps that do not record it)."""
    import json
    if 'info' in dump:
        recorded = json.loads(str(dump['info'])).get('protocol_cfg')
        if recorded:
            return recorded
    print("the dump records no protocol config: using 'market' (pass "
          '--protocol to choose)')
    return 'market'


def main(argv=None):
    args = parse_args(argv)
    if args.dump is not None:
        dump = model_io.load_dump(args.dump)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            dump = model_io.dump_test_features(
                args.config, args.checkpoint, osp.join(tmp, 'feats.npz'),
                osp.join(tmp, 'work_dir'), parse_cfg_options(args.cfg_options))
    fprs = np.unique(
        np.concatenate([
            np.geomspace(args.min_fpr, 1., args.points),
            [m for m in MARKS if m >= args.min_fpr]
        ]))
    protocol = args.protocol or dump_protocol(dump)
    print(f'pair rule: protocol {protocol!r}')
    curves = roc_curves(dump, protocol, fprs)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    plot_roc(curves, args.out, marks=[m for m in MARKS if m >= args.min_fpr])
    for name, (fpr, tpr) in curves.items():
        cells = ', '.join(f'TPR@FPR={m:.0e}: {100 * tpr[fpr == m][0]:.2f}%'
                          for m in MARKS if m >= args.min_fpr)
        print(f'{name}: {cells}')
    print(f'ROC written to {args.out}')
    return args.out


if __name__ == '__main__':
    main()
