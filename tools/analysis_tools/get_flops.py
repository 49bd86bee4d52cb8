# Copyright (c) mmreid_text contributors. All rights reserved.
"""Parameters and GFLOPs of a ReID model config (fvcore).

``python tools/analysis_tools/get_flops.py CONFIG [--shape H W]
[--num-frames T] [--modalities M ...] [--json]``

Builds the config's model with pretrained weights switched off (random
init, no weight file needed), feeds one sample of all modalities
``[1, M, 3, H, W]`` at test time and prints total and learnable
parameters and multiply-accumulates (GFLOPs) in two conventions:
``gflops`` (fvcore's default, which leaves out the attention score and
value products, as the papers' tables do) and ``gflops_full`` (with them).
Text encoders that the model runs at test time are counted; frozen
parameters are not learnable. With ``--json`` the last printed line is a
JSON object with ``params_m``, ``learnable_params_m``, ``gflops`` and
``gflops_full``.

Video configs (``T`` from ``--num-frames``, any ``num_frames`` of the
model config, or ``SampleFrames(num_frames=T)`` in the test pipeline) are
fed one tracklet ``[1, M, T, 3, H, W]`` and the tool reports FLOPs PER
FRAME (whole tracklet / T), as the VLD paper does, plus the per-tracklet
totals; the JSON then also has ``num_frames``, ``gflops_per_frame`` and
``gflops_full_per_frame`` (``gflops`` stays per tracklet).
Visible-infrared models (backbone modalities ``'vis'`` / ``'ir'``) count
one modality slot, since each sample is one visible or infrared tracklet.
"""
import argparse
import json
import logging
import os.path as osp
import sys

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import DictAction  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.utils import import_modules_from_strings  # noqa: E402

from mmreid_text.analysis import find_num_frames  # noqa: E402
from mmreid_text.analysis import model_complexity  # noqa: E402
from mmreid_text.analysis import sample_modalities  # noqa: E402
from mmreid_text.utils import load_config  # noqa: E402
from mmreid_text.utils import register_all_modules  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Count parameters and GFLOPs (multiply-accumulates) of '
        'a ReID model per sample, all modalities, at test time.')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='input height and width (default: model.backbone.img_size)')
    parser.add_argument(
        '--num-frames',
        type=int,
        default=None,
        metavar='T',
        help='frames per tracklet of a video model (default: the config\'s '
        'num_frames, from the model or the test pipeline\'s SampleFrames)')
    parser.add_argument(
        '--modalities',
        nargs='+',
        default=None,
        help='modality slots of the counted sample (default: the backbone\'s '
        'modalities; one slot for visible-infrared models)')
    parser.add_argument(
        '--json',
        action='store_true',
        help='print a JSON object with params_m, learnable_params_m, '
        'gflops and gflops_full as the last line')
    parser.add_argument(
        '--caption',
        nargs='+',
        default=None,
        help='caption given to every modality of the counted sample, for '
        'models that read captions at test time; or MODALITY=CAPTION pairs '
        '(one per modality: models that encode identical texts once, e.g. '
        'NEXT, would count one text for all)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings; unknown keys are an error')
    return parser.parse_args(argv)


def parse_caption(values):
    """``--caption`` values -> None, one caption or ``{modality: caption}``.
    """
    if not values:
        return None
    if len(values) == 1 and '=' not in values[0].split(' ', 1)[0]:
        return values[0]
    pairs = {}
    for value in values:
        modality, sep, text = value.partition('=')
        if not sep or ' ' in modality or not modality:
            raise SystemExit(f'--caption: expected MODALITY=CAPTION pairs '
                             f'or one caption, got {value!r}.')
        pairs[modality] = text
    return pairs


def config_num_frames(cfg, requested=None):
    """``T`` to count with: ``requested``, else the model config's
    ``num_frames``, else the test pipeline's (None: an image config).

    The model and the test pipeline must agree (T is one config value).
    """
    from_model = find_num_frames(cfg.model, 'model')
    from_data = find_num_frames(
        cfg.get('test_dataloader', {}), 'test_dataloader')
    if (from_model is not None and from_data is not None
            and from_model != from_data):
        raise SystemExit(
            f'The model uses num_frames={from_model} but the test pipeline '
            f'samples {from_data} frames: T must be one config value.')
    if requested is not None:
        return requested
    return from_model if from_model is not None else from_data


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    register_all_modules()
    if 'model' not in cfg:
        raise SystemExit(f'{args.config} has no "model" entry.')
    # building prints "random init" notes; keep the output short
    MMLogger.get_current_instance().setLevel(logging.WARNING)

    num_frames = config_num_frames(cfg, args.num_frames)
    result = model_complexity(
        cfg.model,
        shape=args.shape,
        caption=parse_caption(args.caption),
        num_frames=num_frames,
        modalities=args.modalities)
    numbers = result.to_dict()
    shape = 'x'.join(str(s) for s in result.input_shape)
    slots = '+'.join(sample_modalities(cfg.model, args.modalities))
    print(f'Config:            {args.config}')
    if result.num_frames is None:
        print(f'Input:             {shape} (B x M x 3 x H x W), test mode, '
              'pretrained weights off')
    else:
        print(f'Input:             {shape} (B x M x T x 3 x H x W: one '
              f'{slots} tracklet of T={result.num_frames} frames), test '
              'mode, pretrained weights off')
    print(f'Params:            {numbers["params_m"]:.2f} M')
    print(f'Learnable params:  {numbers["learnable_params_m"]:.2f} M')
    if result.num_frames is None:
        print(f'GFLOPs:            {numbers["gflops"]:.2f} G MACs per sample '
              '(fvcore default: attention QK^T / AV products not counted)')
        print(f'GFLOPs (full):     {numbers["gflops_full"]:.2f} G MACs per '
              'sample (attention products counted)')
    else:
        per = f'whole tracklet / T={result.num_frames}, as the VLD paper'
        print(f'GFLOPs per frame:  {numbers["gflops_per_frame"]:.2f} G MACs '
              f'per frame ({per} reports; fvcore default: attention QK^T / '
              'AV products not counted)')
        print('GFLOPs per frame (full): '
              f'{numbers["gflops_full_per_frame"]:.2f} G MACs per frame '
              '(attention products counted)')
        print(f'GFLOPs per tracklet: {numbers["gflops"]:.2f} G MACs '
              f'({numbers["gflops_full"]:.2f} G with attention products), '
              f'all {result.num_frames} frames')
    if result.uncounted_ops:
        ops = ', '.join(f'{op.split("::")[-1]} x{n}'
                        for op, n in result.uncounted_ops.items())
        print(f'Not counted (element-wise / no fvcore handle): {ops}')
    if args.json:
        print(json.dumps(numbers))
    return numbers


if __name__ == '__main__':
    main()
