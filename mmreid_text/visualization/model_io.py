# Copyright (c) mmreid_text contributors. All rights reserved.
"""Config + checkpoint -> model / feature dump, for the picture tools."""
import argparse
import json
import os.path as osp
import uuid
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.runner import Runner, load_checkpoint

from mmreid_text.registry import MODELS, RUNNERS
from mmreid_text.utils import load_config, register_all_modules


def add_source_args(parser: argparse.ArgumentParser,
                    feats: bool = True) -> None:
    """Where a picture tool's features come from: ``CONFIG CHECKPOINT``
    (run the test loop), ``--dump`` (a ``tools/test.py --dump``) or, with
    ``feats``, ``--feats`` (a ``tools/extract_features.py`` file); plus
    ``--cfg-options`` for the config. :func:`check_source_args` checks that
    exactly one is given."""
    parser.add_argument('config', nargs='?', help='config file')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file')
    parser.add_argument(
        '--dump', help='.npz of tools/test.py --dump (instead of CONFIG CKPT)')
    if feats:
        parser.add_argument(
            '--feats',
            help='.npz of tools/extract_features.py --split test (instead of '
            'CONFIG CKPT)')
    parser.add_argument(
        '--cfg-options', nargs='+', default=[], help='key=value overrides')


def check_source_args(parser: argparse.ArgumentParser,
                      args: argparse.Namespace) -> None:
    """Exit with a usage error unless exactly one feature source of
    :func:`add_source_args` is given (CONFIG needs CHECKPOINT)."""
    sources = ['CONFIG CHECKPOINT', '--dump FILE.npz']
    given = [args.config is not None, args.dump is not None]
    if hasattr(args, 'feats'):
        sources.append('--feats FILE.npz')
        given.append(args.feats is not None)
    if sum(given) != 1 or (args.config is not None
                           and args.checkpoint is None):
        choices = (f'one of {", ".join(sources[:-1])} or {sources[-1]}'
                   if len(sources) > 2 else ' or '.join(sources))
        parser.error(f'give {choices}')


def load_model(config: str,
               checkpoint: Optional[str],
               cfg_options: Optional[dict] = None,
               device: str = 'cpu') -> torch.nn.Module:
    """Build ``cfg.model`` and load a checkpoint (strict), in eval mode.

    ``checkpoint=None`` keeps the random init (for tests and demos).
    """
    register_all_modules()
    cfg = load_config(config, cfg_options)
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.to(device).eval()


def dump_test_features(config: str,
                       checkpoint: str,
                       out_file: str,
                       work_dir: str,
                       cfg_options: Optional[dict] = None) -> Dict:
    """Run the config's test loop once and return its ``ReIDMetric`` dump.

    Same as ``tools/test.py CONFIG CKPT --dump OUT_FILE``: features,
    labels, image paths and the distance matrix of the test split under
    the config's protocol, as a dict of arrays.
    """
    if not out_file.endswith('.npz'):
        raise ValueError(f'dump_test_features: out_file {out_file!r} must '
                         'end with .npz.')
    register_all_modules()
    cfg = load_config(config, cfg_options)
    cfg.work_dir = work_dir
    cfg.load_from = checkpoint
    # a unique name: two runners of one process started in the same second
    # would otherwise share mmengine's Visualizer / logger instances (named
    # by the timestamp), and the second would write into the first's
    # (possibly deleted) work dir
    cfg.experiment_name = f'dump_test_features_{uuid.uuid4().hex[:12]}'
    evaluator = cfg.test_evaluator
    if isinstance(evaluator, (list, tuple)):
        raise ValueError(f'{config}: test_evaluator is a list; the picture '
                         'tools need one ReIDMetric. Dump the features with '
                         'tools/test.py --dump and pass --dump FILE.')
    evaluator['out_file'] = out_file
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(
        cfg)
    runner.test()
    return load_dump(out_file)


def load_dump(path: str) -> Dict[str, np.ndarray]:
    """Arrays of a ``ReIDMetric`` ``.npz`` dump (no pickle needed)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'Feature dump "{path}" does not exist; '
                                'write it with tools/test.py CONFIG CKPT '
                                '--dump FILE.npz.')
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def dump_settings(dump: Dict[str, np.ndarray]) -> list:
    """Setting prefixes of a dump: ``['']`` for one unnamed setting, else
    ``['ir2vis_', 'vis2ir_', ...]`` from its ``info``."""
    if 'distmat' in dump:
        return ['']
    if 'info' in dump:
        names = json.loads(str(dump['info'])).get('settings') or []
        return [f'{name}_' for name in names if name]
    return sorted(k[:-len('distmat')] for k in dump if k.endswith('distmat'))


def sample_modalities(entries) -> list:
    """One label per dump ``modalities`` entry: ``'rgb+nir+tir'``,
    ``'vis'``... (``'?'`` when a sample has none)."""
    labels = []
    for entry in entries:
        value = json.loads(str(entry)) if isinstance(entry,
                                                     (str, np.str_)) else entry
        if isinstance(value, (list, tuple)):
            labels.append('+'.join(str(v) for v in value) or '?')
        else:
            labels.append('?' if value is None else str(value))
    return labels


def from_feature_dump(
        path: str,
        gallery_modality: Optional[str] = None) -> Dict[str, np.ndarray]:
    """A ``tools/extract_features.py`` dump in the ``ReIDMetric`` dump form.

    Queries are the rows with ``is_query``, the gallery the rows with
    ``is_gallery`` (and ``modality == gallery_modality`` when given, e.g.
    ``'vis'`` for infrared-to-visible); distances use the dump's
    ``metric`` / ``feat_norm`` (the config's evaluator). Paths are made
    absolute with the dump's ``data_root``. A row that is both query and
    gallery gets distance ``inf`` to itself (it ranks last).
    """
    from mmreid_text.apis import feature_dump
    from mmreid_text.evaluation.functional import compute_distance_matrix
    dump = feature_dump.load_dump(path)
    info, root = dump['info'], dump['data_root']
    if 'is_query' not in dump:
        raise KeyError(f'"{path}" has no is_query rows: extract the split '
                       'with query / gallery flags (--split test).')
    queries = np.flatnonzero(np.asarray(dump['is_query'], dtype=bool))
    keep = np.asarray(dump['is_gallery'], dtype=bool)
    if gallery_modality is not None:
        keep = keep & (np.asarray(dump['modality']) == gallery_modality)
    gallery = np.flatnonzero(keep)
    if not len(queries) or not len(gallery):
        raise ValueError(f'"{path}": {len(queries)} query and '
                         f'{len(gallery)} gallery rows; both are needed.')
    feats = torch.from_numpy(np.asarray(dump['feats'], dtype=np.float32))
    if info.get('feat_norm', True):
        feats = torch.nn.functional.normalize(feats, dim=1)
    distmat = compute_distance_matrix(feats[queries], feats[gallery],
                                      info.get('metric', 'euclidean')).numpy()
    distmat[queries[:, None] == gallery[None, :]] = np.inf

    def absolute(entry: str) -> str:
        paths = json.loads(str(entry))
        joined = {
            m: ([osp.join(root, x)
                 for x in p] if isinstance(p, list) else osp.join(root, p))
            for m, p in paths.items()
        }
        return json.dumps(joined)

    out = dict(distmat=distmat)
    for side, rows in (('query', queries), ('gallery', gallery)):
        out[f'{side}_feats'] = dump['feats'][rows]
        out[f'{side}_pids'] = dump['pids'][rows]
        out[f'{side}_camids'] = dump['camids'][rows]
        out[f'{side}_img_paths'] = np.asarray(
            [absolute(dump['paths'][r]) for r in rows], dtype=np.str_)
        if 'modalities' in dump:
            out[f'{side}_modalities'] = dump['modalities'][rows]
    return out
