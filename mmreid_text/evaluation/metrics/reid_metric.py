# Copyright (c) mmreid_text contributors. All rights reserved.
"""mmengine metric for query/gallery ReID evaluation."""
import json
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from torch import Tensor

from mmreid_text.registry import METRICS
from ..functional import (DISTANCE_METRICS, compute_distance_matrix,
                          evaluate_rank)
from ..protocols import build_protocol

#: meta fields copied from every data sample into the results list.
SAMPLE_KEYS = ('pid', 'camid', 'scene_id', 'is_query', 'is_gallery',
               'sample_idx', 'img_path', 'modalities')
DUMP_SUFFIXES = ('.npz', '.pth', '.pt')


def _as_int(value: Any, key: str, sample_idx: Any) -> int:
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f'{key} of sample {sample_idx} must be a '
                             f'scalar, got shape {tuple(value.shape)}')
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    try:
        is_integer = not isinstance(value, bool) and float(value).is_integer()
    except (TypeError, ValueError):
        is_integer = False
    if not is_integer:
        raise ValueError(f'{key} of sample {sample_idx} must be an integer, '
                         f'got {value!r}')
    return int(value)


@METRICS.register_module()
class ReIDMetric(BaseMetric):
    """Query/gallery retrieval metric: mAP, mINP and CMC rank-k.

    Every evaluated sample carries ``pred_feature`` (``[F]``) and its meta
    (``pid``, ``camid``, ``scene_id``, ``is_query``, ``is_gallery``,
    ``sample_idx``, ``img_path``).  The query set is the samples with
    ``is_query``, the gallery those with ``is_gallery`` (a sample may be
    both).  Published values are percentages: ``reid/mAP``, ``reid/mINP``
    and ``reid/R{k}`` for each ``k`` in ``ranks``.

    Args:
        protocol (str | dict): evaluation protocol from ``REID_PROTOCOLS``
            (``'market'``: same pid & camera ignored; ``'msvr310'``: same
            pid & scene ignored).
        metric (str): ``'euclidean'`` or ``'cosine'`` distance.
        feat_norm (bool): L2-normalise features before the distance.
        max_rank (int): length of the CMC curve that is computed.
        ranks (Sequence[int]): CMC ranks to publish (each ``<= max_rank``).
        out_file (str, optional): if set, dump features, meta and the
            distance matrix to this ``.npz`` or ``.pth`` file.
        device (str): where distances and ranking are computed.
        memory_budget_mb (float): working memory of one chunk of the
            distance and ranking computations (MiB).
        num_threads (int, optional): torch CPU threads for the ranking
            (see ``evaluate_rank``); None keeps the current setting.
        collect_device (str): ``'cpu'`` or ``'gpu'``, see ``BaseMetric``.
        prefix (str, optional): metric name prefix, ``'reid'`` by default.
        collect_dir (str, optional): shared directory for CPU collection.
    """

    default_prefix: Optional[str] = 'reid'

    def __init__(self,
                 protocol: Union[str, dict] = 'market',
                 metric: str = 'euclidean',
                 feat_norm: bool = True,
                 max_rank: int = 50,
                 ranks: Sequence[int] = (1, 5, 10, 20),
                 out_file: Optional[str] = None,
                 device: str = 'cpu',
                 memory_budget_mb: float = 256.,
                 num_threads: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
        if metric not in DISTANCE_METRICS:
            raise ValueError(f'ReIDMetric: unknown metric {metric!r}; use '
                             f'one of {DISTANCE_METRICS}.')
        self.protocol_cfg = protocol
        self.protocol = build_protocol(protocol)
        self.metric = metric
        self.feat_norm = bool(feat_norm)
        self.max_rank = int(max_rank)
        self.ranks = tuple(int(k) for k in ranks)
        bad = [k for k in self.ranks if not 1 <= k <= self.max_rank]
        if bad:
            raise ValueError(f'ReIDMetric: ranks {bad} are outside '
                             f'1..max_rank={self.max_rank}.')
        if out_file is not None and not str(out_file).endswith(DUMP_SUFFIXES):
            raise ValueError(f'ReIDMetric: out_file {out_file!r} must end '
                             f'with one of {DUMP_SUFFIXES}.')
        self.out_file = out_file
        self.device = device
        self.memory_budget_mb = float(memory_budget_mb)
        self.num_threads = num_threads

    # ------------------------------------------------------------------
    # collection
    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Store one result per sample (feature on CPU plus its meta).

        ``mmengine.dist.collect_results`` interleaves the per-rank lists and
        truncates them to the dataset size, so exactly one entry per sample
        is appended.
        """
        for sample in data_samples:
            if not isinstance(sample, dict):
                sample = sample.to_dict()
            self.results.append(self._sample_result(sample))

    def _sample_result(self, sample: dict) -> dict:
        idx = sample.get('sample_idx', '?')
        if sample.get('pred_feature') is None:
            raise KeyError(
                f'ReIDMetric: data sample {idx} has no "pred_feature". The '
                "model's predict() must store the [F] retrieval feature "
                'with ReIDDataSample.set_pred_feature().')
        required = ('pid', 'sample_idx', 'is_query', 'is_gallery') + tuple(
            self.protocol.required_keys)
        missing = [k for k in required if sample.get(k) is None]
        if missing:
            raise KeyError(
                f'ReIDMetric: data sample {idx} lacks {missing} (protocol '
                f'{self.protocol!r}). The dataset info dicts must carry '
                'these fields and PackReIDInputs must keep them as meta '
                'keys; is_query/is_gallery mark the evaluation roles.')
        feature = sample['pred_feature']
        if not isinstance(feature, Tensor):
            feature = torch.as_tensor(np.asarray(feature))
        feature = feature.detach()
        if feature.dim() == 2 and feature.shape[0] == 1:
            feature = feature[0]
        if feature.dim() != 1:
            raise ValueError(f'ReIDMetric: pred_feature of sample {idx} must '
                             f'be [F], got shape {tuple(feature.shape)}.')
        result = dict(feature=feature.to('cpu', torch.float32))
        for key in SAMPLE_KEYS:
            if key in sample:
                result[key] = sample[key]
        for key in ('pid', 'sample_idx') + tuple(self.protocol.required_keys):
            result[key] = _as_int(sample[key], key, idx)
        for key in ('camid', 'scene_id'):
            if result.get(key) is not None:
                result[key] = _as_int(result[key], key, idx)
        result['is_query'] = bool(sample['is_query'])
        result['is_gallery'] = bool(sample['is_gallery'])
        return result

    # ------------------------------------------------------------------
    # evaluation
    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """mAP, mINP and rank-k (percent) of the collected samples."""
        if len(results) == 0:
            raise ValueError('ReIDMetric: no results were collected; the '
                             'evaluation dataloader is empty.')
        by_index = {}
        for result in sorted(results, key=lambda r: r['sample_idx']):
            by_index.setdefault(result['sample_idx'], result)
        samples = list(by_index.values())
        query = [r for r in samples if r['is_query']]
        gallery = [r for r in samples if r['is_gallery']]
        if not query:
            raise ValueError(
                f'ReIDMetric: none of the {len(samples)} samples has '
                'is_query=True. The evaluation dataset must contain the '
                'query set (is_query) and the gallery set (is_gallery).')
        if not gallery:
            raise ValueError(
                f'ReIDMetric: none of the {len(samples)} samples has '
                'is_gallery=True. The evaluation dataset must contain the '
                'gallery set (is_gallery) as well as the queries.')
        sizes = {r['feature'].numel() for r in samples}
        if len(sizes) != 1:
            raise ValueError('ReIDMetric: pred_feature sizes differ between '
                             f'samples: {sorted(sizes)}.')

        query_feats = torch.stack([r['feature'] for r in query])
        gallery_feats = torch.stack([r['feature'] for r in gallery])
        if self.feat_norm:
            query_feats = F.normalize(query_feats, dim=1)
            gallery_feats = F.normalize(gallery_feats, dim=1)
        distmat = compute_distance_matrix(
            query_feats,
            gallery_feats,
            self.metric,
            device=self.device,
            memory_budget_mb=self.memory_budget_mb)

        query_meta = self._meta(query)
        gallery_meta = self._meta(gallery)
        q_camids = query_meta.pop('camid', None)
        g_camids = gallery_meta.pop('camid', None)
        scores = evaluate_rank(
            distmat,
            query_meta.pop('pid'),
            gallery_meta.pop('pid'),
            q_camids,
            g_camids,
            self.max_rank,
            protocol=self.protocol,
            query_meta=query_meta,
            gallery_meta=gallery_meta,
            device=self.device,
            memory_budget_mb=self.memory_budget_mb,
            num_threads=self.num_threads)

        metrics = {'mAP': 100 * scores['mAP'], 'mINP': 100 * scores['mINP']}
        for k in self.ranks:
            metrics[f'R{k}'] = 100 * float(scores['cmc'][k - 1])
        print_log(
            self.format_table(metrics, len(query), scores['num_valid_queries'],
                              len(gallery)),
            logger='current')
        if self.out_file is not None:
            self.dump(self.out_file, query, gallery, query_feats,
                      gallery_feats, distmat, metrics)
        return metrics

    def _meta(self, side: List[dict]) -> Dict[str, np.ndarray]:
        """Integer meta arrays (``pid``, ``camid`` and protocol keys)."""
        keys = ['pid'] + [k for k in self.protocol.required_keys if k != 'pid']
        if 'camid' not in keys and all(
                r.get('camid') is not None for r in side):
            keys.append('camid')
        return {
            key: np.asarray([r[key] for r in side], dtype=np.int64)
            for key in keys
        }

    def format_table(self, metrics: Dict[str, float], num_query: int,
                     num_valid: int, num_gallery: int) -> str:
        """Plain-text table of the results, as written to the log."""
        names = list(metrics)
        values = [f'{metrics[n]:.2f}' for n in names]
        widths = [max(len(n), len(v)) + 2 for n, v in zip(names, values)]
        rule = '+' + '+'.join('-' * w for w in widths) + '+'
        head = '|' + '|'.join(n.center(w) for n, w in zip(names, widths))
        row = '|' + '|'.join(v.center(w) for v, w in zip(values, widths))
        title = (f'ReID evaluation ({self.protocol!r}, {self.metric} '
                 f'distance, feat_norm={self.feat_norm}): {num_query} '
                 f'queries ({num_valid} valid), {num_gallery} gallery')
        return '\n'.join([title, rule, head + '|', rule, row + '|', rule])

    def dump(self, out_file: str, query: List[dict], gallery: List[dict],
             query_feats: Tensor, gallery_feats: Tensor, distmat: Tensor,
             metrics: Dict[str, float]) -> None:
        """Write features, meta and the distance matrix (see docs)."""
        as_npz = out_file.endswith('.npz')
        content: Dict[str, Any] = dict(
            query_feats=query_feats.numpy(),
            gallery_feats=gallery_feats.numpy(),
            distmat=distmat.cpu().numpy())
        for name, side in (('query', query), ('gallery', gallery)):
            for key, out_key in (('pid', 'pids'), ('camid', 'camids'),
                                 ('scene_id', 'scene_ids'), ('sample_idx',
                                                             'sample_idx')):
                values = [r.get(key) for r in side]
                content[f'{name}_{out_key}'] = np.asarray(
                    [-1 if v is None else v for v in values], dtype=np.int64)
            for key, out_key in (('img_path', 'img_paths'), ('modalities',
                                                             'modalities')):
                values = [_plain(r.get(key)) for r in side]
                if as_npz:  # JSON strings: loadable without allow_pickle
                    values = np.asarray([json.dumps(v) for v in values],
                                        dtype=np.str_)
                content[f'{name}_{out_key}'] = values
        info = dict(
            protocol=repr(self.protocol),
            metric=self.metric,
            feat_norm=self.feat_norm,
            metrics=metrics)
        dirname = osp.dirname(osp.abspath(out_file))
        os.makedirs(dirname, exist_ok=True)
        if as_npz:
            content['info'] = np.asarray(json.dumps(info), dtype=np.str_)
            np.savez(out_file, **content)
        else:
            content['info'] = info
            torch.save(
                {
                    k:
                    torch.from_numpy(v)
                    if isinstance(v, np.ndarray) and v.dtype != np.str_ else v
                    for k, v in content.items()
                }, out_file)
        print_log(
            f'ReIDMetric: wrote features and distances to {out_file}',
            logger='current')


def _plain(value: Any) -> Any:
    """JSON-friendly copy of an img_path / modalities entry."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.generic, )):
        return value.item()
    return value
