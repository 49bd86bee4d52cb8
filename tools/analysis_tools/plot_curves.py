# Copyright (c) mmreid_text contributors. All rights reserved.
"""Training curves of an mmengine work dir as one PNG.

    python tools/analysis_tools/plot_curves.py work_dirs/my_run \\
        --out work_dirs/my_run/curves.png [--keys loss_id mAP]

Reads every ``WORK_DIR/<timestamp>/vis_data/scalars.json`` (oldest first,
so resumed runs continue) or a given scalars.json, and draws one subplot
per group: ``loss`` (``loss`` and every ``loss_*`` term, by iteration),
``lr`` (``lr``, ``base_lr``), ``metric`` (validation / test-monitor
metrics, by the step mmengine logs: the epoch for epoch-based loops) and
``train`` (other training scalars such as accuracies). Time, memory and
metric counts are left out.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmreid_text import visualization as vis  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', help='work dir or scalars.json')
    parser.add_argument('--out', help='PNG (default: WORK_DIR/curves.png)')
    parser.add_argument(
        '--keys', nargs='+', help='keep keys containing one of these')
    args = parser.parse_args(argv)
    logs = vis.find_scalar_logs(args.work_dir)
    curves = vis.collect_curves(vis.load_scalars(logs), args.keys)
    out = args.out or osp.join(
        args.work_dir if osp.isdir(args.work_dir) else osp.dirname(
            args.work_dir), 'curves.png')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    groups = vis.plot_training_curves(
        curves, out, title=osp.basename(osp.normpath(args.work_dir)))
    print(f'{", ".join(groups)} curves from {len(logs)} log(s) written to '
          f'{out}')
    return out


if __name__ == '__main__':
    main()
