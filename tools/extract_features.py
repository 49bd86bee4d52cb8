# Copyright (c) mmreid_text contributors. All rights reserved.
"""Features of a dataset split with ids, cameras, modalities and paths.

    python tools/extract_features.py CONFIG CKPT --split test --out feats.npz

The split is the config's ``test_dataloader.dataset`` (``--split test``),
``val_dataloader.dataset`` (``val``) or ``train_dataloader.dataset`` run
through the TEST pipeline (``train``). The features are the model's
``pred_feature``, as ``tools/test.py`` evaluates them. The ``.npz`` holds
``feats``, ``pids``, ``camids``, ``scene_ids``, ``modality``,
``modalities``, ``is_query``, ``is_gallery``, ``paths`` (relative to
``data_root``), ``data_root`` and ``info`` (docs/inference.md);
``tools/search.py`` ranks its gallery.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from mmreid_text.apis import ReIDInferencer  # noqa: E402
from mmreid_text.apis import feature_dump  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Extract the features of a dataset split')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file (local)')
    parser.add_argument('--split', choices=feature_dump.SPLITS, default='test')
    parser.add_argument('--out', required=True, help='output .npz')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--num-workers', type=int, default=0)
    parser.add_argument(
        '--device',
        default=None,
        help='cpu, cuda, cuda:1 ... (default: '
        'CUDA when available)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. '
        'test_dataloader.dataset.data_root=DIR')
    args = parser.parse_args(argv)
    if not args.out.endswith('.npz'):
        parser.error(f'--out {args.out!r}: the dump is a .npz file')
    return args


def main(argv=None):
    args = parse_args(argv)
    inferencer = ReIDInferencer(
        args.config,
        args.checkpoint,
        device=args.device,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        cfg_options=args.cfg_options,
        progress=True)
    arrays = feature_dump.extract_split(
        inferencer, args.split, checkpoint=args.checkpoint, config=args.config)
    feature_dump.save_dump(args.out, arrays)
    n, dim = arrays['feats'].shape
    print(f'{n} {args.split} samples ({int(arrays["is_query"].sum())} '
          f'queries, {int(arrays["is_gallery"].sum())} gallery), {dim}-d '
          f'features written to {args.out}')


if __name__ == '__main__':
    main()
