# Copyright (c) mmreid_text contributors. All rights reserved.
"""A picture of example samples of a generated dataset (for docs)."""
import json
import os
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
from PIL import Image, ImageDraw

from .layouts import FrameSpec, SyntheticLayout, build_layout
from .manifest import read_manifest


def _layout_of(dataset_dir: str) -> SyntheticLayout:
    manifest = read_manifest(dataset_dir)
    if manifest is None:
        raise FileNotFoundError(
            f'{dataset_dir!r} holds no synthetic manifest; generate the '
            'dataset first (tools/dataset_converters/make_synthetic.py).')
    params = dict(manifest['params'])
    for key in ('seed', 'img_size', 'jpeg_quality'):
        params.pop(key)
    return build_layout(manifest['dataset'], **params)


def pick_examples(dataset_dir: str,
                  split: Optional[str] = None,
                  num: int = 3) -> List[FrameSpec]:
    """``num`` rendered samples of different ids, alternating between the
    first two cameras of ``split`` (default: the layout's last split
    folder, a test / gallery folder in every layout)."""
    layout = _layout_of(dataset_dir)
    seed = read_manifest(dataset_dir)['params']['seed']
    split = split or layout.split_folders[-1]
    specs = [
        s for s in layout.plan(seed)
        if s.folder == split and s.source is None and s.pid > 0
    ]
    cams = sorted({s.cam for s in specs})[:2]
    chosen, seen_pids = [], set()
    for any_cam in (False, True):  # second pass when too few alternate
        for spec in specs:
            if len(chosen) == num:
                return chosen
            wanted = cams[len(chosen) % len(cams)]
            if spec.pid not in seen_pids and (any_cam or spec.cam == wanted):
                chosen.append(spec)
                seen_pids.add(spec.pid)
    return chosen


def _modality_images(dataset_dir: str, layout: SyntheticLayout,
                     spec: FrameSpec) -> List[np.ndarray]:
    """One ``[H, W, 3]`` image per layout modality (tiles split apart)."""
    images = []
    for rel_path, mods in layout.files(spec).items():
        with Image.open(osp.join(dataset_dir, rel_path)) as img:
            pixels = np.asarray(img.convert('RGB'))
        images.extend(np.split(pixels, len(mods), axis=1))
    return images


def save_example_grid(dataset_dir: str,
                      out_path: str,
                      split: Optional[str] = None,
                      num_rows: int = 3,
                      colors: int = 256) -> List[FrameSpec]:
    """Save rows of one sample in every modality (e.g. RGB | NIR | TIR) as
    a palette PNG.

    Args:
        dataset_dir: The generated dataset folder (``<root>/RGBNT201``).
        out_path: Where to write the PNG.
        split: Split folder to take examples from (see
            :func:`pick_examples`).
        num_rows: Number of samples (rows).
        colors: Palette size of the PNG.

    Returns:
        list[FrameSpec]: The samples shown, top to bottom.
    """
    layout = _layout_of(dataset_dir)
    specs = pick_examples(dataset_dir, split, num_rows)
    tiles = [_modality_images(dataset_dir, layout, s) for s in specs]
    gap, header = 4, 14
    h, w = tiles[0][0].shape[:2]
    cols = len(tiles[0])
    grid = Image.new('RGB', (cols * w + (cols - 1) * gap, header + len(specs) *
                             (h + gap) - gap), (255, 255, 255))
    draw = ImageDraw.Draw(grid)
    for col, mod in enumerate(layout.modalities):
        title = mod.upper()
        draw.text((col * (w + gap) + w // 2 - 3 * len(title), 1),
                  title,
                  fill=(0, 0, 0))
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            grid.paste(
                Image.fromarray(tile), (c * (w + gap), header + r * (h + gap)))
    os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
    # a palette image keeps the noisy picture small (docs: < 200 KB)
    grid = grid.quantize(colors, method=Image.Quantize.FASTOCTREE)
    grid.save(out_path, optimize=True)
    return specs


def example_captions(dataset_dir: str,
                     specs: List[FrameSpec]) -> List[Dict[str, str]]:
    """``{modality: text}`` of each sample, read from its caption file."""
    layout = _layout_of(dataset_dir)
    result = []
    for spec in specs:
        with open(
                osp.join(dataset_dir, layout.caption_file(spec.folder)),
                encoding='utf-8') as f:
            captions = json.load(f)['captions']
        result.append({
            mod: captions[rel_path][mod]['text']
            for mod, rel_path in layout.rel_paths(spec).items()
        })
    return result
