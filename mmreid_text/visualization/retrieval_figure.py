# Copyright (c) mmreid_text contributors. All rights reserved.
"""Retrieval figures: a query and its ranked gallery, every modality shown.

Works on the arrays of a ``ReIDMetric`` dump (``tools/test.py --dump``,
``tools/visualizations/vis_rank.py``): ``distmat`` ``[Q, G]``,
``{query,gallery}_pids`` / ``_camids`` and ``_img_paths`` (JSON strings,
one per sample). An ``img_path`` entry is any of

- ``{'rgb': path, 'nir': path, 'tir': path}``: multi-spectral sample, one
  tile per modality (side by side);
- ``{'rgb': [frame paths], ...}`` or ``[frame paths]``: a tracklet, one
  frame per modality drawn (``frame='middle'`` or ``'first'``);
- ``path``: a single-modality sample (e.g. visible-infrared ReID).
"""
import json
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from PIL import Image, ImageDraw

from mmreid_text.datasets.transforms import read_image

CORRECT = (30, 170, 60)
WRONG = (215, 35, 35)
QUERY = (120, 120, 120)

PathEntry = Union[str, Sequence[str], Dict[str, Union[str, Sequence[str]]]]


def parse_img_path(entry: Union[str, PathEntry]) -> Dict[str, str]:
    """``{modality: one image path}`` of one dump entry (module docstring).

    A JSON string is decoded first; a single path is returned as
    ``{'img': path}``.
    """
    if isinstance(entry, (bytes, np.bytes_)):
        entry = entry.decode()
    if isinstance(entry, (str, np.str_)):
        text = str(entry)
        try:
            entry = json.loads(text)
        except json.JSONDecodeError:
            entry = text
    if isinstance(entry, str):
        return {'img': entry}
    if isinstance(entry, (list, tuple)):
        return {'img': _pick_frame(entry, 'middle')}
    if isinstance(entry, dict):
        return {str(k): v for k, v in entry.items()}
    raise TypeError(f'Unsupported img_path entry {entry!r}: expected a path, '
                    'a list of frame paths or a {modality: path} dict.')


def _pick_frame(frames: Sequence[str], frame: str) -> str:
    if len(frames) == 0:
        raise ValueError('A tracklet entry has no frame paths.')
    if frame == 'first':
        return frames[0]
    if frame == 'middle':
        return frames[len(frames) // 2]
    raise ValueError(f"frame must be 'first' or 'middle', got {frame!r}.")


def sample_tiles(entry: Union[str, PathEntry],
                 modalities: Optional[Sequence[str]] = None,
                 frame: str = 'middle') -> List[Tuple[str, str]]:
    """``[(modality, image path)]`` to draw for one sample.

    Args:
        entry: a dump ``img_path`` entry (module docstring).
        modalities: modalities to draw, in order; those the sample lacks
            are skipped (a VI query has one modality, its gallery the
            other). None: all of the sample's.
        frame: the tracklet frame drawn, ``'middle'`` or ``'first'``.
    """
    paths = parse_img_path(entry)
    names = list(paths) if modalities is None else [
        m for m in modalities if m in paths
    ]
    if not names:  # a single-modality sample under a different name
        names = list(paths)
    tiles = []
    for name in names:
        value = paths[name]
        if isinstance(value, (list, tuple)):
            value = _pick_frame(value, frame)
        tiles.append((name, str(value)))
    return tiles


def draw_sample(tiles: Sequence[Tuple[str, str]],
                size: Tuple[int, int] = (128, 64),
                border: int = 4,
                colour: Tuple[int, int, int] = QUERY) -> Image.Image:
    """The sample's modality images side by side inside a coloured frame.

    Args:
        tiles: ``[(modality, path)]`` from :func:`sample_tiles`.
        size: ``(H, W)`` of every modality image.
        border: frame width in pixels.
        colour: frame colour (RGB).
    """
    h, w = size
    canvas = Image.new('RGB', (len(tiles) * w + 2 * border, h + 2 * border),
                       colour)
    for index, (_, path) in enumerate(tiles):
        img = Image.fromarray(read_image(path)).resize((w, h), Image.BILINEAR)
        canvas.paste(img, (border + index * w, border))
    return canvas


def rank_gallery(
        distmat: np.ndarray,
        query_pid: int,
        query_camid: int,
        gallery_pids: np.ndarray,
        gallery_camids: np.ndarray,
        topk: int,
        skip_same_camera: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """Top-k gallery indices of one query row and whether each is correct.

    Args:
        distmat: ``[G]`` distances of the query to the gallery.
        skip_same_camera: leave out the entries the market protocol
            ignores (same identity and same camera), as the metric does.

    Returns:
        ``(indices [k], correct [k] bool)``, by increasing distance (ties
        in gallery order).
    """
    order = np.argsort(np.asarray(distmat), kind='stable')
    same_pid = np.asarray(gallery_pids)[order] == query_pid
    if skip_same_camera:
        keep = ~(same_pid & (np.asarray(gallery_camids)[order] == query_camid))
        order, same_pid = order[keep], same_pid[keep]
    return order[:topk], same_pid[:topk]


def draw_retrieval(dump: Dict[str, np.ndarray],
                   query_index: int,
                   topk: int = 10,
                   prefix: str = '',
                   modalities: Optional[Sequence[str]] = None,
                   size: Tuple[int, int] = (128, 64),
                   border: int = 4,
                   frame: str = 'middle',
                   skip_same_camera: bool = True) -> Image.Image:
    """Figure of one query (left, grey frame) and its top-k gallery.

    Every entry shows all its modalities side by side; the frame is green
    for the query's identity, red for another one. The caption above each
    entry gives ``rank``, ``id`` (pid) and the distance ``d``.

    Args:
        dump: arrays of a ``ReIDMetric`` dump (module docstring).
        query_index: row of the query.
        topk: gallery entries drawn.
        prefix: setting prefix of multi-setting dumps (``'ir2vis_'``...).
        modalities: modalities drawn (default: every modality of each
            sample).
        size: ``(H, W)`` of each modality image.
        border: frame width.
        frame: tracklets: ``'middle'`` or ``'first'`` frame.
        skip_same_camera: skip same-identity same-camera entries (the
            market protocol's junk).

    Returns:
        PIL.Image.Image (RGB).
    """
    needed = ('distmat', 'query_pids', 'gallery_pids', 'query_camids',
              'gallery_camids', 'query_img_paths', 'gallery_img_paths')
    missing = [prefix + k for k in needed if prefix + k not in dump]
    if missing:
        raise KeyError(f'draw_retrieval: the dump lacks {missing}; it has '
                       f'{sorted(dump)}. Multi-setting dumps need the '
                       "setting prefix (e.g. prefix='ir2vis_').")
    distmat = np.asarray(dump[prefix + 'distmat'])
    if not 0 <= query_index < distmat.shape[0]:
        raise IndexError(f'query_index {query_index} is out of range for '
                         f'{distmat.shape[0]} queries.')
    q_pid = int(dump[prefix + 'query_pids'][query_index])
    q_cam = int(dump[prefix + 'query_camids'][query_index])
    order, correct = rank_gallery(distmat[query_index], q_pid, q_cam,
                                  dump[prefix + 'gallery_pids'],
                                  dump[prefix + 'gallery_camids'], topk,
                                  skip_same_camera)
    tiles = [
        draw_sample(
            sample_tiles(dump[prefix + 'query_img_paths'][query_index],
                         modalities, frame), size, border, QUERY)
    ]
    captions = [f'query\nid {q_pid}']
    for rank, (index, match) in enumerate(zip(order, correct), start=1):
        entry = dump[prefix + 'gallery_img_paths'][index]
        tiles.append(
            draw_sample(
                sample_tiles(entry, modalities, frame), size, border,
                CORRECT if match else WRONG))
        pid = int(dump[prefix + 'gallery_pids'][index])
        captions.append(
            f'#{rank} id {pid}\nd={distmat[query_index, index]:.3f}')
    return compose_row(tiles, captions)


def compose_row(tiles: Sequence[Image.Image],
                captions: Sequence[str],
                gap: int = 10,
                caption_h: int = 26) -> Image.Image:
    """Tiles on one white row, each with a (two-line) caption above."""
    width = sum(t.size[0] for t in tiles) + gap * (len(tiles) + 1)
    height = max(t.size[1] for t in tiles) + caption_h + 2 * 4
    out = Image.new('RGB', (width, height), 'white')
    draw = ImageDraw.Draw(out)
    x = gap
    for tile, caption in zip(tiles, captions):
        draw.text((x, 2), caption, fill=(0, 0, 0))
        out.paste(tile, (x, caption_h + 4))
        x += tile.size[0] + gap
    return out
