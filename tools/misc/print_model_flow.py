# Copyright (c) mmreid_text contributors. All rights reserved.
"""Print how the feature dict flows through a config's model.

    python tools/misc/print_model_flow.py CONFIG [--cfg-options ...]

Builds the config's model (the build itself checks the declared feature
keys of backbone -> necks -> head and the loss inputs), runs ONE forward
pass on random inputs of the backbone's image size and modalities on the
CPU, and prints each component in order with the ``feats`` keys it read
and wrote and their shapes, then each loss with the outputs it consumed.
A pretrained weight file named by the config that does not exist is
replaced by random init (a note says so); shapes do not depend on the
weights. ``--mode predict`` traces the test-time pass instead of the
training pass. Exits with status 1 when a component's declared keys differ
from what its forward pass did.
"""
import argparse
import logging
import os.path as osp
import sys
from typing import List

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402

from mmreid_text.analysis.complexity import make_data_samples  # noqa: E402
from mmreid_text.analysis.complexity import model_input_shape  # noqa: E402
from mmreid_text.analysis.model_flow import format_model_flow  # noqa: E402
from mmreid_text.analysis.model_flow import trace_model_flow  # noqa: E402
from mmreid_text.utils import load_config  # noqa: E402
from mmreid_text.utils import register_all_modules  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--batch-size', type=int, default=4, help='samples of the pass')
    parser.add_argument(
        '--num-frames',
        type=int,
        default=None,
        help='frames per tracklet: inputs [B, M, T, 3, H, W]')
    parser.add_argument(
        '--mode',
        choices=['loss', 'predict'],
        default='loss',
        help='training pass with the losses (default) or test-time pass')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings; unknown keys are an error')
    return parser.parse_args(argv)


def drop_missing_weights(node, path: str = 'model') -> List[str]:
    """Set every ``pretrained`` path of ``node`` that is not a file to
    None (in place); return the dotted config paths changed."""
    changed = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f'{path}.{key}'
            if (key == 'pretrained' and isinstance(value, str)
                    and not osp.isfile(value)):
                node[key] = None
                changed.append(f'{where}={value!r}')
            else:
                changed += drop_missing_weights(value, where)
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            changed += drop_missing_weights(value, f'{path}[{index}]')
    return changed


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    register_all_modules()
    if 'model' not in cfg:
        raise SystemExit(f'{args.config} has no "model" entry.')
    # building prints "random init" notes; keep the output short
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    model_cfg = cfg.model.to_dict()
    for change in drop_missing_weights(model_cfg):
        print(f'note: no such file, random init instead: {change}')
    from mmreid_text.registry import MODELS
    torch.manual_seed(args.seed)
    model = MODELS.build(model_cfg)
    shape = list(model_input_shape(model_cfg, batch_size=args.batch_size))
    if args.num_frames:
        shape.insert(2, args.num_frames)
    modalities = tuple(
        getattr(model.backbone, 'modalities', None)
        or model_cfg.get('backbone', {}).get('modalities')
        or ('rgb', 'nir', 'tir'))
    samples = make_data_samples(args.batch_size, modalities)
    num_classes = getattr(model.head, 'num_classes', 2)
    for index, sample in enumerate(samples):
        # two identities so that metric losses see positives and negatives
        sample.set_metainfo(dict(pid=(index // 2) % max(num_classes, 1)))
    inputs = torch.randn(shape)
    flow = trace_model_flow(model, inputs, samples, mode=args.mode)
    print(f'{args.config}: modalities {", ".join(modalities)}')
    print(format_model_flow(flow))
    return 1 if flow.mismatches() else 0


if __name__ == '__main__':
    sys.exit(main())
