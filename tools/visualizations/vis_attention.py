# Copyright (c) mmreid_text contributors. All rights reserved.
"""Attention-rollout maps of a ViT backbone over each modality image.

    # one image per modality of the backbone, in its modality order
    python tools/visualizations/vis_attention.py CONFIG CKPT \\
        --images rgb.jpg nir.jpg tir.jpg --out attention.png
    # or test-split samples by index (their modality images are read)
    python tools/visualizations/vis_attention.py CONFIG CKPT \\
        --indices 0 7 --out-dir work_dirs/vis_attention

Each PNG has the modality images on the top row and the CLS-token
attention rollout (Abnar & Zuidema 2020: head-averaged attention plus the
identity for the residual, multiplied over all blocks) overlaid on them
below (blue = low, red = high). ViT (``CLIPVisionBackbone`` with a ``ViT-``
arch) only; the map is computed per modality with that modality's encoder.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from mmreid_text.datasets.transforms import read_image  # noqa: E402
from mmreid_text.registry import DATASETS  # noqa: E402
from mmreid_text.utils import load_config  # noqa: E402
from mmreid_text.utils.cli import parse_cfg_options  # noqa: E402
from mmreid_text.visualization import overlay_heatmap  # noqa: E402
from mmreid_text.visualization import rollout_maps  # noqa: E402
from mmreid_text.visualization.model_io import load_model  # noqa: E402
from mmreid_text.visualization.retrieval_figure import (  # noqa: E402
    compose_row, sample_tiles)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument(
        'checkpoint', help='checkpoint file ("none": random init)')
    parser.add_argument(
        '--images', nargs='+', help='one image per backbone modality')
    parser.add_argument(
        '--indices', type=int, nargs='+', help='test-split sample indices')
    parser.add_argument('--out', default='work_dirs/vis_attention/attn.png')
    parser.add_argument('--out-dir', default='work_dirs/vis_attention')
    parser.add_argument(
        '--head-fusion', choices=('mean', 'max', 'min'), default='mean')
    parser.add_argument(
        '--discard-ratio',
        type=float,
        default=0.0,
        help='drop this fraction of the lowest weights per row')
    parser.add_argument('--alpha', type=float, default=0.5, help='overlay')
    parser.add_argument(
        '--display-size',
        type=int,
        nargs=2,
        default=(256, 128),
        metavar=('H', 'W'),
        help='size each modality image is drawn at (the model input is '
        'the backbone img_size)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--cfg-options', nargs='+', default=[], help='key=value overrides')
    args = parser.parse_args(argv)
    if (args.images is None) == (args.indices is None):
        parser.error('give --images or --indices (one of the two)')
    return args


def preprocess(paths, model, device) -> tuple:
    """Read + resize to the backbone's ``img_size``; ``(raw uint8 [M, H, W,
    3], normalised [M, 3, H, W])`` with the data preprocessor's mean/std."""
    height, width = model.backbone.img_size
    raw = np.stack([
        np.asarray(
            Image.fromarray(read_image(p)).resize(
                (width, height), Image.BILINEAR)) for p in paths
    ])
    x = torch.from_numpy(raw).permute(0, 3, 1, 2).float()
    pre = model.data_preprocessor
    mean = getattr(pre, 'mean', torch.zeros(3, 1, 1)).view(1, 3, 1, 1)
    std = getattr(pre, 'std', torch.ones(3, 1, 1)).view(1, 3, 1, 1)
    return raw, ((x - mean.cpu()) / std.cpu()).to(device)


def draw_sample(model, paths, modalities, args) -> Image.Image:
    """Top row: images; bottom row: rollout overlays."""
    raw, images = preprocess(paths, model, args.device)
    tiles, captions = [], []
    overlays = []
    for index, modality in enumerate(modalities):
        heat = rollout_maps(model.backbone, images[index:index + 1], modality,
                            args.head_fusion, 0.5,
                            args.discard_ratio)[0].cpu().numpy()
        height, width = args.display_size
        shown = np.asarray(
            Image.fromarray(raw[index]).resize((width, height),
                                               Image.BILINEAR))
        overlays.append(overlay_heatmap(shown, heat, args.alpha))
        tiles.append(Image.fromarray(shown))
        captions.append(str(modality))
    top = compose_row(tiles, captions)
    bottom = compose_row(overlays, ['rollout'] * len(overlays))
    out = Image.new('RGB', (top.size[0], top.size[1] + bottom.size[1]),
                    'white')
    out.paste(top, (0, 0))
    out.paste(bottom, (0, top.size[1]))
    return out


def main(argv=None):
    args = parse_args(argv)
    options = parse_cfg_options(args.cfg_options)
    checkpoint = None if args.checkpoint == 'none' else args.checkpoint
    model = load_model(args.config, checkpoint, options, args.device)
    backbone = getattr(model, 'backbone', None)
    if backbone is None or not hasattr(backbone, 'get_blocks'):
        raise SystemExit(f'{args.config}: the model has no '
                         'CLIPVisionBackbone; attention maps need a ViT.')
    modalities = list(backbone.modalities)
    written = []
    if args.images is not None:
        if len(args.images) != len(modalities):
            raise SystemExit(
                f'--images: {len(args.images)} files for the backbone '
                f'modalities {modalities}; give one image per modality, '
                'in that order.')
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        draw_sample(model, args.images, modalities, args).save(args.out)
        written.append(args.out)
    else:
        cfg = load_config(args.config, options)
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
        os.makedirs(args.out_dir, exist_ok=True)
        for index in args.indices:
            info = dataset.get_data_info(index)
            tiles = sample_tiles(info['img_path'], modalities)
            names = [m for m, _ in tiles]
            slots = names if all(m in modalities
                                 for m in names) else modalities[:1]
            path = osp.join(args.out_dir, f'sample_{index:05d}.png')
            draw_sample(model, [p for _, p in tiles], slots, args).save(path)
            written.append(path)
    print(f'{len(written)} attention maps written: {", ".join(written)}')
    return written


if __name__ == '__main__':
    main()
