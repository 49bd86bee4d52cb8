# Copyright (c) mmreid_text contributors. All rights reserved.
"""Convert a torchreid checkpoint to mmreid_text's keys, or back.

Forward (torchreid -> mmreid_text): a torchreid file (a state dict or
``save_checkpoint``'s ``{'state_dict': ..., 'epoch': ...}``, ``module.``
prefixes allowed) of an arch :class:`TorchreidBackbone` supports becomes
a checkpoint of ``ReIDModel(backbone=TorchreidBackbone(name=...),
head=BNNeckHead(num_modalities=1))``, loadable with ``load_from=`` or
``tools/test.py``::

    python tools/model_converters/torchreid_to_mmreid.py \\
        osnet_x1_0_market.pth.tar-250 osnet_market_mmreid.pth \\
        --config my_osnet_config.py

Reverse (``--reverse``): the backbone trunk and the head classifier of an
mmreid_text checkpoint become a torchreid state dict (torchreid's
``save_checkpoint`` format) that ``torchreid.utils.load_pretrained_weights``
or ``model.load_state_dict`` reads::

    python tools/model_converters/torchreid_to_mmreid.py --reverse \\
        work_dirs/osnet/epoch_60.pth osnet_torchreid.pth --arch osnet_x1_0

What maps (docs/torchreid.md): every torchreid key but ``classifier.*``
<-> ``backbone.encoder.<key>``; ``classifier.weight`` <->
``head.necks.0.classifier.weight``. torchreid's ``classifier.bias`` has no
counterpart (ours has none; it is written as zeros on the way back) and
neither has our BNNeck BatchNorm (kept at init on the way in, dropped on
the way back). In eval mode torchreid's output equals our pre-BN
retrieval feature (``BNNeckHead(retrieval_feat='pre_bn')``). Every key
that was not carried over is printed with the reason; ``--config`` /
``--arch`` check that the result fits the target model and exit 1 when it
does not.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

import torch

from mmreid_text.models.utils.torchreid_checkpoint import (
    BNNECK_PREFIX, CLASSIFIER_KEY, ENCODER_PREFIX, TorchreidCheckpointError,
    fit_problems, mmreid_to_torchreid, read_state_dict, torchreid_to_mmreid)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='checkpoint to convert')
    parser.add_argument('dst', help='where to write the converted file')
    parser.add_argument(
        '--reverse',
        action='store_true',
        help='mmreid_text -> torchreid (default: torchreid -> mmreid_text)')
    parser.add_argument(
        '--modalities',
        nargs='+',
        help='forward: write one trunk copy per modality '
        '(backbone.encoders.<m>., for share_weights=False)')
    parser.add_argument(
        '--modality',
        help='reverse: export the trunk of this modality '
        '(backbone.encoders.<m>.; for share_weights=False checkpoints)')
    parser.add_argument(
        '--no-classifier',
        action='store_true',
        help='leave the identity classifier out (fine-tuning on other '
        'identities: the config has another num_classes)')
    parser.add_argument(
        '--config',
        help='forward: build this config\'s model and check that the '
        'converted weights fit it')
    parser.add_argument(
        '--arch',
        help='reverse: build this torchreid model and check that the '
        'converted weights fit it (strict)')
    return parser.parse_args(argv)


def _check_mmreid(config: str, state_dict: dict,
                  with_classifier: bool) -> List[str]:
    """Problems of loading ``state_dict`` into the config's model (the
    BNNeck BatchNorm, and the classifier when left out, may be absent)."""
    from mmengine.config import Config

    from mmreid_text.registry import MODELS
    from mmreid_text.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    model_cfg = cfg.model.to_dict()
    backbone = model_cfg.get('backbone', {})
    if backbone.get('type') != 'TorchreidBackbone':
        return [
            f'{config}: model.backbone.type is {backbone.get("type")!r}, '
            'not TorchreidBackbone'
        ]
    backbone['pretrained'] = None
    model = MODELS.build(model_cfg)
    allowed = (BNNECK_PREFIX, ) + (() if with_classifier else
                                   (CLASSIFIER_KEY, ))
    return fit_problems(model.state_dict(), state_dict, allowed)


def _check_torchreid(arch: str, state_dict: dict) -> List[str]:
    """Problems of loading ``state_dict`` into torchreid's ``arch``
    (strict, except a classifier that was not written)."""
    from mmreid_text.utils.torchreid_compat import torchreid_models
    classifier = state_dict.get('classifier.weight')
    model = torchreid_models('torchreid_to_mmreid.py --arch').build_model(
        arch,
        num_classes=1 if classifier is None else classifier.shape[0],
        pretrained=False,
        use_gpu=False)
    allowed = ('classifier.', ) if classifier is None else ()
    return fit_problems(model.state_dict(), state_dict, allowed)


def convert(args: argparse.Namespace) -> int:
    state_dict = read_state_dict(args.src)
    classifier_key = None if args.no_classifier else CLASSIFIER_KEY
    if args.reverse:
        if args.modalities or args.config:
            raise SystemExit('--modalities and --config apply to the forward '
                             'conversion; use --modality / --arch with '
                             '--reverse.')
        prefix = (f'backbone.encoders.{args.modality}.'
                  if args.modality else ENCODER_PREFIX)
        out, report = mmreid_to_torchreid(state_dict, prefix, classifier_key)
        problems = _check_torchreid(args.arch, out) if args.arch else []
        payload = dict(state_dict=out, epoch=0)
        target = f'torchreid {args.arch}' if args.arch else 'torchreid'
    else:
        if args.modality or args.arch:
            raise SystemExit('--modality and --arch apply to --reverse; use '
                             '--modalities / --config forwards.')
        prefixes = ([f'backbone.encoders.{m}.' for m in args.modalities]
                    if args.modalities else [ENCODER_PREFIX])
        out, report = torchreid_to_mmreid(state_dict, prefixes, classifier_key)
        problems = (
            _check_mmreid(args.config, out, not args.no_classifier)
            if args.config else [])
        payload = dict(
            state_dict=out,
            meta=dict(
                converted_from=osp.abspath(args.src),
                converter='torchreid_to_mmreid.py'))
        target = args.config or 'mmreid_text'
    print(f'{args.src} -> {args.dst}')
    print(report.format())
    if problems:
        hint = ('' if args.no_classifier else
                '\nA classifier of another size (num_classes) is left out '
                'with --no-classifier.')
        print(f'The converted weights do not fit {target}:\n  ' +
              '\n  '.join(problems) + hint)
        return 1
    torch.save(payload, args.dst)
    if args.config or args.arch:
        print(f'checked: the weights fit {target}.')
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        return convert(args)
    except (TorchreidCheckpointError, FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
