# Copyright (c) mmreid_text contributors. All rights reserved.
"""Feature dumps of a dataset split and gallery search over them.

``tools/extract_features.py`` writes a dump, ``tools/search.py`` ranks its
gallery for one query (docs/inference.md). A dump is a ``.npz`` (no
pickles) with one row per sample of the split, in dataset order:

- ``feats`` ``float32 [N, F]``: the retrieval features (``pred_feature``);
- ``pids``, ``camids``, ``scene_ids`` ``int64 [N]`` (``-1`` when unset);
- ``modality`` ``str [N]``: the sample's one modality (visible-infrared
  data), ``''`` for multi-spectral samples;
- ``modalities`` ``str [N]``: JSON list of the sample's modalities;
- ``is_query``, ``is_gallery`` ``bool [N]``;
- ``paths`` ``str [N]``: JSON ``{modality: path}`` (or ``{modality: [frame
  paths]}``) relative to ``data_root``;
- ``data_root`` ``str``: the dataset root the paths are relative to;
- ``info`` ``str``: JSON with ``config``, ``checkpoint``, ``split``,
  ``dataset``, ``metric`` and ``feat_norm`` (from the config's
  ``test_evaluator``), ``num_samples`` and ``feat_dim``.
"""
import copy
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw

from mmreid_text.evaluation.functional import (DISTANCE_METRICS,
                                               compute_distance_matrix)
from mmreid_text.registry import DATASETS
from .inferencer import ReIDInferencer

SPLITS = ('test', 'val', 'train')
GREEN = (40, 170, 60)
RED = (210, 40, 40)
GREY = (150, 150, 150)


def split_dataset_cfg(cfg, split: str) -> dict:
    """The dataset config of ``split``: the ``test`` / ``val`` dataloader's
    dataset, or the ``train`` one with the TEST pipeline (no
    augmentation; its identities are the relabelled training ids)."""
    if split not in SPLITS:
        raise ValueError(f'Unknown split {split!r}; choose one of {SPLITS}.')
    loader = cfg.get(f'{split}_dataloader')
    if not loader or 'dataset' not in loader:
        raise KeyError(f'The config has no {split}_dataloader.dataset.')
    dataset = copy.deepcopy(loader['dataset'])
    if split == 'train':
        test = ReIDInferencer._test_dataset_cfg(cfg)
        dataset['pipeline'] = copy.deepcopy(test['pipeline'])
    return dataset


def _evaluator_cfg(cfg) -> dict:
    evaluator = cfg.get('test_evaluator') or {}
    if isinstance(evaluator, (list, tuple)):
        evaluator = next(
            (e for e in evaluator if e.get('type') == 'ReIDMetric'),
            evaluator[0] if evaluator else {})
    return dict(evaluator)


def extract_split(inferencer: ReIDInferencer,
                  split: str = 'test',
                  batch_size: Optional[int] = None,
                  checkpoint: Optional[str] = None,
                  config: Optional[str] = None) -> Dict[str, np.ndarray]:
    """Build ``split`` of the inferencer's config and return its dump
    arrays (module docstring)."""
    dataset = DATASETS.build(split_dataset_cfg(inferencer.cfg, split))
    feats = inferencer.infer_dataset(
        dataset, batch_size, desc=f'{split} features').numpy()
    data_root = getattr(dataset, 'data_root', '') or ''
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]

    def rel(info):
        if 'rel_img_path' in info:
            return info['rel_img_path']
        paths = info['img_path']
        if isinstance(paths, str):
            paths = {'img': paths}
        return {
            m: ([osp.relpath(x, data_root or '.') for x in p] if isinstance(
                p, (list, tuple)) else osp.relpath(p, data_root or '.'))
            for m, p in paths.items()
        }

    def ints(key):
        return np.asarray([int(i.get(key, -1)) for i in infos], dtype=np.int64)

    evaluator = _evaluator_cfg(inferencer.cfg)
    info = dict(
        config=config,
        checkpoint=checkpoint,
        split=split,
        dataset=type(dataset).__name__,
        metric=evaluator.get('metric', 'euclidean'),
        feat_norm=bool(evaluator.get('feat_norm', True)),
        num_samples=len(infos),
        feat_dim=int(feats.shape[1]))
    return dict(
        feats=feats.astype(np.float32),
        pids=ints('pid'),
        camids=ints('camid'),
        scene_ids=ints('scene_id'),
        modality=np.asarray([str(i.get('modality') or '') for i in infos],
                            dtype=np.str_),
        modalities=np.asarray(
            [json.dumps(list(i.get('modalities') or ())) for i in infos],
            dtype=np.str_),
        is_query=np.asarray([bool(i.get('is_query')) for i in infos]),
        is_gallery=np.asarray([bool(i.get('is_gallery')) for i in infos]),
        paths=np.asarray([json.dumps(rel(i)) for i in infos], dtype=np.str_),
        data_root=np.asarray(osp.abspath(data_root) if data_root else ''),
        info=np.asarray(json.dumps(info)))


def save_dump(path: str, arrays: Dict[str, np.ndarray]) -> None:
    if not path.endswith('.npz'):
        raise ValueError(f'--out {path!r}: the dump is a .npz file.')
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    np.savez(path, **arrays)


def load_dump(path: str) -> Dict[str, object]:
    """A dump as a dict of arrays plus ``info`` (a dict) and ``data_root``
    (a str); loads without pickles."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'Feature dump "{path}" does not exist.')
    with np.load(path, allow_pickle=False) as data:
        dump = {k: data[k] for k in data.files}
    required = ('feats', 'pids', 'camids', 'is_gallery', 'paths', 'info')
    missing = [k for k in required if k not in dump]
    if missing:
        raise KeyError(f'"{path}" lacks {missing}: it is not a dump of '
                       'tools/extract_features.py (tools/test.py --dump '
                       'writes another format).')
    dump['info'] = json.loads(str(dump['info']))
    dump['data_root'] = str(dump.get('data_root', ''))
    return dump


def rank_gallery(dump: Dict[str, object],
                 query_feat: np.ndarray,
                 query_index: Optional[int] = None,
                 query_pid: Optional[int] = None,
                 query_camid: Optional[int] = None,
                 topk: int = 10,
                 metric: Optional[str] = None,
                 feat_norm: Optional[bool] = None,
                 gallery_modality: Optional[str] = None,
                 keep_same_camera: bool = False) -> List[dict]:
    """The ``topk`` gallery rows of the dump closest to ``query_feat``.

    The gallery is every row with ``is_gallery`` (and ``modality ==
    gallery_modality`` when given), minus the query row itself and, when
    the query's identity and camera are known and ``keep_same_camera`` is
    False, the rows of the same identity and camera (the market rule the
    metric ignores). Distances use the dump's ``metric`` / ``feat_norm``
    (the config's evaluator) unless given.

    Returns:
        list[dict]: ``rank`` (1-based), ``index`` (row), ``pid``,
        ``camid``, ``modality``, ``distance``, ``paths`` (``{modality:
        relative path}``) and ``match`` (same identity; None when the query
        id is unknown).
    """
    info = dump['info']
    metric = metric or info.get('metric', 'euclidean')
    if metric not in DISTANCE_METRICS:
        raise ValueError(f'Unknown metric {metric!r}; choose one of '
                         f'{DISTANCE_METRICS}.')
    feat_norm = info.get('feat_norm', True) if feat_norm is None else \
        feat_norm
    feats = torch.from_numpy(np.asarray(dump['feats'], dtype=np.float32))
    query = torch.from_numpy(
        np.asarray(query_feat, dtype=np.float32).reshape(1, -1))
    if query.shape[1] != feats.shape[1]:
        raise ValueError(f'The query feature has {query.shape[1]} values, '
                         f'the dump {feats.shape[1]}: extract both with the '
                         'same config and checkpoint.')
    if feat_norm:
        feats = torch.nn.functional.normalize(feats, dim=1)
        query = torch.nn.functional.normalize(query, dim=1)
    keep = np.asarray(dump['is_gallery'], dtype=bool).copy()
    if gallery_modality is not None:
        keep &= np.asarray(dump['modality']) == gallery_modality
    if query_index is not None:
        keep[query_index] = False
    if query_pid is not None and query_camid is not None and \
            not keep_same_camera:
        keep &= ~((dump['pids'] == query_pid) &
                  (dump['camids'] == query_camid))
    rows = np.flatnonzero(keep)
    if not len(rows):
        raise ValueError('The gallery is empty after the filters (is_gallery'
                         ', --gallery-modality, same identity and camera).')
    dist = compute_distance_matrix(query, feats[rows], metric)[0].numpy()
    order = np.argsort(dist, kind='stable')[:topk]
    out = []
    for rank, pos in enumerate(order, 1):
        row = int(rows[pos])
        pid = int(dump['pids'][row])
        out.append(
            dict(
                rank=rank,
                index=row,
                pid=pid,
                camid=int(dump['camids'][row]),
                modality=str(dump['modality'][row])
                if 'modality' in dump else '',
                distance=float(dist[pos]),
                paths=json.loads(str(dump['paths'][row])),
                match=None if query_pid is None else pid == query_pid))
    return out


def format_table(results: Sequence[dict]) -> str:
    """The ranked list as a plain-text table."""
    head = (f'{"rank":>4}  {"pid":>6}  {"camid":>5}  {"modality":<8}  '
            f'{"distance":>9}  {"match":<5}  path')
    lines = [head, '-' * len(head)]
    for r in results:
        match = '-' if r['match'] is None else ('yes' if r['match'] else 'no')
        lines.append(f'{r["rank"]:>4}  {r["pid"]:>6}  {r["camid"]:>5}  '
                     f'{r["modality"] or "-":<8}  {r["distance"]:>9.4f}  '
                     f'{match:<5}  {_first_path(r["paths"])}')
    return '\n'.join(lines)


def _first_path(paths: dict) -> str:
    """One line naming a sample: its modality paths (the first frame of a
    tracklet, with the frame count)."""
    parts = []
    for mod, p in paths.items():
        if isinstance(p, (list, tuple)):
            parts.append(f'{mod}={p[0]} (+{len(p) - 1} frames)')
        else:
            parts.append(f'{mod}={p}')
    return ' '.join(parts)


def _open(path: str, size) -> Image.Image:
    from mmreid_text.datasets.transforms import read_image
    return Image.fromarray(read_image(path)).resize((size[1], size[0]))


def _tile(paths: dict, root: str, size, border: int, colour) -> Image.Image:
    """One sample: every modality side by side (a tracklet's middle frame)
    in a coloured frame."""
    h, w = size
    mods = list(paths)
    canvas = Image.new('RGB', (len(mods) * w + 2 * border, h + 2 * border),
                       colour)
    for i, mod in enumerate(mods):
        p = paths[mod]
        if isinstance(p, (list, tuple)):
            p = p[len(p) // 2]
        full = p if osp.isabs(p) or not root else osp.join(root, p)
        canvas.paste(_open(full, size), (border + i * w, border))
    return canvas


def draw_strip(query_paths: dict,
               results: Sequence[dict],
               data_root: str = '',
               query_root: str = '',
               size=(128, 64),
               border: int = 4,
               query_label: str = 'query') -> Image.Image:
    """The query (grey frame, ``query_label`` above it) and its ranked
    gallery samples: green frame = same identity, red = different, grey =
    unknown query id; each sample shows every modality side by side (a
    tracklet its middle frame)."""
    tiles = [_tile(query_paths, query_root, size, border, GREY)]
    for r in results:
        colour = GREY if r['match'] is None else (GREEN if r['match'] else RED)
        tiles.append(_tile(r['paths'], data_root, size, border, colour))
    gap, label_h = 10, 14
    width = sum(t.width for t in tiles) + gap * (len(tiles) + 1)
    height = max(t.height for t in tiles) + label_h + 2 * gap
    out = Image.new('RGB', (width, height), 'white')
    draw = ImageDraw.Draw(out)
    x = gap
    for i, tile in enumerate(tiles):
        out.paste(tile, (x, gap + label_h))
        text = query_label if i == 0 else \
            f'#{results[i - 1]["rank"]} id {results[i - 1]["pid"]}'
        draw.text((x, gap - 2), text, fill=(0, 0, 0))
        x += tile.width + gap
    return out
