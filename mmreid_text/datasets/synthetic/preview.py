# Copyright (c) mmreid_text contributors. All rights reserved.
"""A picture of example triplets of a generated dataset (for docs)."""
import json
import os
import os.path as osp
from typing import List, Optional

import numpy as np
from PIL import Image, ImageDraw

from .layouts import RGBNT201Layout


def pick_examples(dataset_dir: str,
                  split: str = 'test',
                  num: int = 3) -> List[str]:
    """File names of ``num`` frames of different ids and cameras."""
    rgb_dir = osp.join(dataset_dir, split, RGBNT201Layout.modality_dirs['rgb'])
    if not osp.isdir(rgb_dir):
        raise FileNotFoundError(
            f'{rgb_dir!r} does not exist; generate the dataset first '
            '(tools/dataset_converters/make_synthetic.py).')
    names = sorted(os.listdir(rgb_dir))
    chosen, seen_pids = [], set()
    for name in names:
        pid, cam = name[:6], name.split('_')[1]
        wanted_cam = f'cam{len(chosen) % 2 + 1}'
        if pid not in seen_pids and cam == wanted_cam:
            chosen.append(name)
            seen_pids.add(pid)
        if len(chosen) == num:
            break
    return chosen


def save_example_grid(dataset_dir: str,
                      out_path: str,
                      split: str = 'test',
                      num_rows: int = 3,
                      names: Optional[List[str]] = None,
                      colors: int = 256) -> List[str]:
    """Save rows of ``[RGB | NIR | TIR]`` triplets as a palette PNG.

    Args:
        dataset_dir: The dataset folder (``<root>/RGBNT201``).
        out_path: Where to write the PNG.
        split: Split to take examples from.
        num_rows: Number of triplets (rows) when ``names`` is not given.
        names: File names to show; default: :func:`pick_examples`.
        colors: Palette size of the PNG.

    Returns:
        list[str]: The file names shown, top to bottom.
    """
    names = names or pick_examples(dataset_dir, split, num_rows)
    gap, header = 4, 14
    tiles = []
    for name in names:
        row = [
            np.asarray(
                Image.open(osp.join(dataset_dir, split, folder,
                                    name)).convert('RGB'))
            for folder in RGBNT201Layout.modality_dirs.values()
        ]
        tiles.append(row)
    h, w = tiles[0][0].shape[:2]
    grid = Image.new('RGB',
                     (3 * w + 2 * gap, header + len(names) * (h + gap) - gap),
                     (255, 255, 255))
    draw = ImageDraw.Draw(grid)
    for col, title in enumerate(('RGB', 'NIR', 'TIR')):
        draw.text((col * (w + gap) + w // 2 - 9, 1), title, fill=(0, 0, 0))
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            grid.paste(
                Image.fromarray(tile), (c * (w + gap), header + r * (h + gap)))
    os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
    # a palette image keeps the noisy picture small (docs: < 200 KB)
    grid = grid.quantize(colors, method=Image.Quantize.FASTOCTREE)
    grid.save(out_path, optimize=True)
    return list(names)


def example_captions(dataset_dir: str,
                     names: List[str],
                     split: str = 'test') -> List[dict]:
    """``{modality: text}`` of each example, read from the caption file."""
    with open(
            osp.join(dataset_dir, 'captions', f'{split}.json'),
            encoding='utf-8') as f:
        captions = json.load(f)['captions']
    result = []
    for name in names:
        texts = {}
        for mod, folder in RGBNT201Layout.modality_dirs.items():
            texts[mod] = captions[f'{split}/{folder}/{name}'][mod]['text']
        result.append(texts)
    return result
