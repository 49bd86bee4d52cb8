# Copyright (c) mmreid_text contributors. All rights reserved.
import json
from typing import Dict, List, Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw

from mmreid_text.datasets.transforms import read_image

GREEN = (40, 170, 60)
RED = (210, 40, 40)
GREY = (150, 150, 150)


def _tile(paths: Dict[str, str], modalities: Sequence[str], size, border: int,
          colour) -> Image.Image:
    """One sample: its modalities side by side inside a coloured frame."""
    h, w = size
    canvas = Image.new('RGB',
                       (len(modalities) * w + 2 * border, h + 2 * border),
                       colour)
    for i, mod in enumerate(modalities):
        img = Image.fromarray(read_image(paths[mod])).resize((w, h))
        canvas.paste(img, (border + i * w, border))
    return canvas


def draw_ranked_list(dump: Dict[str, np.ndarray],
                     query_index: int,
                     topk: int = 10,
                     size=(128, 64),
                     modalities: Optional[Sequence[str]] = None,
                     border: int = 4) -> Image.Image:
    """Picture of one query and its top-k gallery matches.

    Args:
        dump (dict): Arrays of a ``ReIDMetric`` dump (``tools/test.py
            --dump``): ``distmat``, ``query_pids``, ``gallery_pids``,
            ``query_camids``, ``gallery_camids``, ``query_img_paths``,
            ``gallery_img_paths`` (JSON strings of ``{modality: path}``).
        query_index (int): Row of the query in the dump.
        topk (int): Gallery entries shown.
        size (tuple): ``(H, W)`` of each modality image.
        modalities (Sequence[str], optional): Modalities drawn (default:
            all of the query).
        border (int): Frame width. Green = same identity, red = different;
            entries the market protocol ignores (same identity and camera)
            are skipped, as in the metric.

    Returns:
        PIL.Image.Image: the query (left, grey frame) and its ranked list.
    """
    q_paths = json.loads(str(dump['query_img_paths'][query_index]))
    modalities = list(modalities or q_paths)
    q_pid = dump['query_pids'][query_index]
    q_cam = dump['query_camids'][query_index]
    order = np.argsort(dump['distmat'][query_index], kind='stable')
    same_pid = dump['gallery_pids'][order] == q_pid
    keep = ~(same_pid & (dump['gallery_camids'][order] == q_cam))
    order, same_pid = order[keep][:topk], same_pid[keep][:topk]
    tiles: List[Image.Image] = [_tile(q_paths, modalities, size, border, GREY)]
    for idx, match in zip(order, same_pid):
        paths = json.loads(str(dump['gallery_img_paths'][idx]))
        tiles.append(
            _tile(paths, modalities, size, border, GREEN if match else RED))
    gap = 12
    tw, th = tiles[0].size
    label_h = 16
    out = Image.new('RGB', (len(tiles) * (tw + gap) + gap, th + label_h + 8),
                    'white')
    draw = ImageDraw.Draw(out)
    for i, tile in enumerate(tiles):
        x = gap + i * (tw + gap)
        out.paste(tile, (x, label_h + 4))
        text = f'query id {q_pid}' if i == 0 else f'#{i} id ' + str(
            dump['gallery_pids'][order[i - 1]])
        draw.text((x, 2), text, fill=(0, 0, 0))
    return out
