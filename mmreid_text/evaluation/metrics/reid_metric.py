# Copyright (c) mmreid_text contributors. All rights reserved.
"""mmengine metric for query/gallery ReID evaluation."""
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from torch import Tensor

from mmreid_text.registry import METRICS
from ..functional import (DISTANCE_METRICS, alpha_query_expansion,
                          compute_distance_matrix, evaluate_rank, evaluate_roc,
                          fpr_key, k_reciprocal_distance)
from ..functional.rerank import RERANK_METRICS
from ..protocols import (AllSampleMeta, BaseReIDProtocol, EvalSetting,
                         build_protocol)
from ..protocols.cross_modality_protocols import modality_counts

#: meta fields copied from every data sample into the results list.
SAMPLE_KEYS = ('pid', 'camid', 'scene_id', 'is_query', 'is_gallery',
               'sample_idx', 'img_path', 'modalities', 'modality')
DUMP_SUFFIXES = ('.npz', '.pth', '.pt')
#: options of ``rerank=`` / ``aqe=`` and their defaults (the papers' and
#: fast-reid's ``TEST.RERANK`` / ``TEST.AQE``).
RERANK_DEFAULTS = dict(k1=20, k2=6, lambda_value=0.3)
AQE_DEFAULTS = dict(qe_times=1, qe_k=5, alpha=3.0)


def _options(value: Union[None, bool, dict], defaults: dict,
             name: str) -> Optional[dict]:
    """``None``/``False`` -> off; ``True`` -> defaults; dict -> checked."""
    if value is None or value is False:
        return None
    if value is True:
        return dict(defaults)
    if not isinstance(value, dict):
        raise TypeError(f'ReIDMetric: {name} must be None, True or a dict of '
                        f'{sorted(defaults)}, got {type(value).__name__}.')
    unknown = sorted(set(value) - set(defaults))
    if unknown:
        raise ValueError(f'ReIDMetric: unknown {name} option(s) {unknown}; '
                         f'the options are {sorted(defaults)} (defaults '
                         f'{defaults}).')
    return {**defaults, **value}


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
    ``sample_idx``, ``img_path``, ``modalities`` and, for
    visible-infrared data, ``modality``).  The protocol's
    :meth:`~BaseReIDProtocol.settings` choose what is ranked: by default
    one setting, the samples with ``is_query`` against those with
    ``is_gallery`` (a sample may be both), published as percentages
    ``reid/mAP``, ``reid/mINP`` and ``reid/R{k}`` for each ``k`` in
    ``ranks``.  Multi-setting protocols publish every setting under its
    name: ``reid/<setting>/mAP``, ``reid/<setting>/mINP``,
    ``reid/<setting>/R{k}``, ``reid/<setting>/num_queries`` and
    ``reid/<setting>/num_valid_queries``, and log one table.  Settings
    averaged over gallery trials (``sysu``) publish the trial means under
    these names plus ``reid/<setting>/mAP_std``, ``reid/<setting>/mINP_std``
    and ``reid/<setting>/R{k}_std`` (standard deviation over the trials);
    the table shows ``mean ± std``.

    Args:
        protocol (str | dict): evaluation protocol from ``REID_PROTOCOLS``
            (``'market'``: same pid & camera ignored; ``'msvr310'``: same
            pid & scene ignored; ``'vcm'``: settings ``ir2vis`` and
            ``vis2ir``, same pid & camera ignored; ``'bupt'``: settings
            ``vis2ir`` and ``ir2vis``, nothing ignored; ``'sysu'``:
            settings ``all_single``, ``all_multi``, ``indoor_single``,
            ``indoor_multi`` over 10 gallery trials; ``'regdb'``: settings
            ``vis2ir`` and ``ir2vis``, nothing ignored).
        metric (str): ``'euclidean'``, ``'cosine'`` or ``'dot'`` (negative
            inner product; with ``feat_norm=False`` the raw dot product
            that the public VLD code ranks by).
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
        aqe (bool | dict, optional): alpha query expansion of the query
            and gallery features before the distance
            (:func:`~mmreid_text.evaluation.functional.alpha_query_expansion`;
            ``True`` = ``dict(qe_times=1, qe_k=5, alpha=3.0)``).
        rerank (bool | dict, optional): k-reciprocal re-ranking of the
            distances
            (:func:`~mmreid_text.evaluation.functional.k_reciprocal_distance`;
            ``True`` = ``dict(k1=20, k2=6, lambda_value=0.3)``; metric
            ``'euclidean'`` or ``'cosine'``).  AQE and re-ranking use the
            other queries and gallery entries of a setting (transductive,
            as in their papers) and are refused for gallery-trial protocols
            (``sysu``), whose trials hide part of the gallery.
        tpr_at_fpr (Sequence[float]): verification TPR at these FPRs
            (:func:`~mmreid_text.evaluation.functional.evaluate_roc`),
            published in percent as ``TPR@FPR=1e-04``, ...; empty = none.
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
                 aqe: Union[None, bool, dict] = None,
                 rerank: Union[None, bool, dict] = None,
                 tpr_at_fpr: Sequence[float] = (),
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
        self.aqe = _options(aqe, AQE_DEFAULTS, 'aqe')
        self.rerank = _options(rerank, RERANK_DEFAULTS, 'rerank')
        if self.rerank is not None and metric not in RERANK_METRICS:
            raise ValueError(
                f'ReIDMetric: rerank needs metric in {RERANK_METRICS}, got '
                f'{metric!r}: k-reciprocal re-ranking works on distances '
                'and dot is a similarity. Set metric=\'cosine\' (the same '
                'ranking as dot on normalised features) or rerank=None.')
        self.tpr_at_fpr = tuple(float(f) for f in tpr_at_fpr)
        bad = [f for f in self.tpr_at_fpr if not 0. < f <= 1.]
        if bad:
            raise ValueError(f'ReIDMetric: tpr_at_fpr values {bad} are '
                             'outside (0, 1]; give false-positive rates '
                             'such as (1e-4, 1e-3, 1e-2).')

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
            self.protocol.required_keys) + tuple(self.protocol.selection_keys)
        missing = [k for k in required if sample.get(k) is None]
        if missing:
            hint = ''
            if 'modality' in missing:
                hint = (" The protocol splits the samples by 'modality' "
                        "('vis' or 'ir', one per sample): use a "
                        'visible-infrared dataset, or a protocol such as '
                        "'market' for multi-spectral data.")
            raise KeyError(
                f'ReIDMetric: data sample {idx} lacks {missing} (protocol '
                f'{self.protocol!r}). The dataset info dicts must carry '
                'these fields and PackReIDInputs must keep them as meta '
                'keys; is_query/is_gallery mark the evaluation roles.' + hint)
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
        for key in self.protocol.selection_keys:
            value = sample[key]
            result[key] = value.item() if isinstance(value,
                                                     np.generic) else value
        result['is_query'] = bool(sample['is_query'])
        result['is_gallery'] = bool(sample['is_gallery'])
        return result

    # ------------------------------------------------------------------
    # evaluation
    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """mAP, mINP and rank-k (percent) of every setting of the protocol.

        A single unnamed setting (``market``, ``msvr310``) gives ``'mAP'``,
        ``'mINP'``, ``'R{k}'``; named settings (``vcm``, ``bupt``) give
        ``'<setting>/mAP'``, ``'<setting>/mINP'``, ``'<setting>/R{k}'``,
        ``'<setting>/num_queries'`` and ``'<setting>/num_valid_queries'``;
        settings with gallery trials (``sysu``) also ``'<setting>/mAP_std'``,
        ``'<setting>/mINP_std'`` and ``'<setting>/R{k}_std'``.
        """
        if len(results) == 0:
            raise ValueError('ReIDMetric: no results were collected; the '
                             'evaluation dataloader is empty.')
        by_index = {}
        for result in sorted(results, key=lambda r: r['sample_idx']):
            by_index.setdefault(result['sample_idx'], result)
        samples = list(by_index.values())
        sizes = {r['feature'].numel() for r in samples}
        if len(sizes) != 1:
            raise ValueError('ReIDMetric: pred_feature sizes differ between '
                             f'samples: {sorted(sizes)}.')
        meta = self._all_meta(samples)
        settings = self._settings(meta)
        feats = torch.stack([r['feature'] for r in samples])
        if self.feat_norm:
            feats = F.normalize(feats, dim=1)

        metrics: Dict[str, float] = {}
        rows: List[SettingResult] = []
        previous: Optional[Tuple[EvalSetting, tuple]] = None
        for setting in settings:
            self._check_sides(setting, samples, meta)
            # settings with the same sides (sysu) share one distance matrix
            reuse = None
            if previous is not None and np.array_equal(
                    previous[0].query, setting.query) and np.array_equal(
                        previous[0].gallery, setting.gallery):
                reuse = previous[1]
            row, arrays = self._evaluate_setting(setting, feats, meta, reuse)
            previous = (setting, arrays)
            rows.append(row)
            prefix = '' if setting.name is None else f'{setting.name}/'
            metrics.update({prefix + k: v for k, v in row.metrics.items()})
            if setting.name is not None:
                metrics[prefix + 'num_queries'] = row.num_query
                metrics[prefix + 'num_valid_queries'] = row.num_valid
            if self.out_file is not None:
                row.dump_arrays = arrays
        print_log(self.format_table(rows), logger='current')
        for row in rows:
            note = row.skipped_note()
            if note:
                print_log(note, logger='current')
        if self.out_file is not None:
            self.dump(self.out_file, samples, settings, rows, metrics)
        return metrics

    def _settings(self, meta: AllSampleMeta) -> List[EvalSetting]:
        """The protocol's settings, checked (names unique, named if >1)."""
        settings = list(self.protocol.settings(meta))
        names = [s.name for s in settings]
        if not settings or (len(settings) > 1 and None in names) or len(
                set(names)) != len(names):
            raise ValueError(
                f'ReIDMetric: {self.protocol!r}.settings() must return one '
                'unnamed setting or several with distinct names, got '
                f'{names}.')
        return settings

    def _evaluate_setting(
        self,
        setting: EvalSetting,
        feats: Tensor,
        meta: AllSampleMeta,
        arrays: Optional[Tuple[Tensor, Tensor, Tensor]] = None
    ) -> Tuple['SettingResult', Tuple[Tensor, Tensor, Tensor]]:
        """Distances (unless given) and ranking of one setting.

        With gallery trials (``sysu``) the published values are the means
        over the trials, each with a ``<name>_std`` partner (population
        standard deviation over the trials).

        Returns:
            tuple: the row and ``(query_feats, gallery_feats, distmat)`` as
            ranked (after AQE and re-ranking, if enabled).
        """
        query_meta = self._int_meta(meta, setting.query, setting.rule)
        gallery_meta = self._int_meta(meta, setting.gallery, setting.rule)
        if arrays is None:
            arrays = self._distances(setting, feats, gallery_meta)
        distmat = arrays[2]
        q_camids = query_meta.pop('camid', None)
        g_camids = gallery_meta.pop('camid', None)
        q_pids, g_pids = query_meta.pop('pid'), gallery_meta.pop('pid')
        try:
            scores = evaluate_rank(
                distmat,
                q_pids,
                g_pids,
                q_camids,
                g_camids,
                self.max_rank,
                protocol=setting.rule,
                query_meta=query_meta,
                gallery_meta=gallery_meta,
                device=self.device,
                memory_budget_mb=self.memory_budget_mb,
                num_threads=self.num_threads)
        except ValueError as err:
            if setting.name is None:
                raise
            raise ValueError(f'ReIDMetric setting {setting.name!r} '
                             f'({setting.query_desc} vs '
                             f'{setting.gallery_desc}): {err}') from err
        trials = scores.get('trials')
        values = {}
        for name, key, index in [
            ('mAP', 'mAP', None), ('mINP', 'mINP', None)
        ] + [(f'R{k}', 'cmc', k - 1) for k in self.ranks]:
            for suffix in ('', '_std') if trials else ('', ):
                value = scores[key + suffix]
                value = value if index is None else value[index]
                values[name + suffix] = 100 * float(value)
        if self.tpr_at_fpr:
            roc = evaluate_roc(
                distmat,
                q_pids,
                g_pids,
                q_camids,
                g_camids,
                fprs=self.tpr_at_fpr,
                protocol=setting.rule,
                query_meta=query_meta,
                gallery_meta=gallery_meta,
                device=self.device,
                memory_budget_mb=self.memory_budget_mb)
            for i, fpr in enumerate(self.tpr_at_fpr):
                values[fpr_key(fpr)] = 100 * float(roc['tpr'][i])
                if 'tpr_std' in roc:
                    values[fpr_key(fpr) +
                           '_std'] = 100 * float(roc['tpr_std'][i])
        if trials:
            num_gallery = int(
                round(np.mean([t['num_gallery'] for t in trials])))
            num_absent = max(t['num_absent_queries'] for t in trials)
        else:
            num_gallery = len(setting.gallery)
            num_absent = int((~np.isin(q_pids, g_pids)).sum())
        row = SettingResult(
            name=setting.name,
            metrics=values,
            num_query=len(setting.query),
            num_valid=int(scores['num_valid_queries']),
            num_gallery=num_gallery,
            num_absent=num_absent,
            num_trials=len(trials) if trials else None)
        return row, arrays

    def _distances(
            self, setting: EvalSetting, feats: Tensor,
            gallery_meta: Dict[str,
                               np.ndarray]) -> Tuple[Tensor, Tensor, Tensor]:
        """Query / gallery features (AQE) and their (re-ranked) distances."""
        query_feats, gallery_feats = feats[setting.query], feats[
            setting.gallery]
        if self.aqe is not None or self.rerank is not None:
            trials = setting.rule.gallery_trials({
                k: torch.as_tensor(v)
                for k, v in gallery_meta.items()
            })
            if trials is not None:
                where = '' if setting.name is None else \
                    f' (setting {setting.name!r})'
                raise ValueError(
                    f'ReIDMetric: aqe / rerank are not defined for the '
                    f'gallery-trial protocol {self.protocol!r}{where}: each '
                    'trial ranks a random part of the gallery, and AQE / '
                    're-ranking over the whole gallery would use the entries '
                    'a trial hides. Set aqe=None and rerank=None.')
        if self.aqe is not None:
            query_feats, gallery_feats = alpha_query_expansion(
                query_feats,
                gallery_feats,
                memory_budget_mb=self.memory_budget_mb,
                **self.aqe)
            if self.feat_norm:
                query_feats = F.normalize(query_feats, dim=1)
                gallery_feats = F.normalize(gallery_feats, dim=1)
        if self.rerank is not None:
            print_log(
                f'ReIDMetric: k-reciprocal re-ranking {self.rerank} of '
                f'{len(query_feats)} x {len(gallery_feats)}',
                logger='current')
            distmat = k_reciprocal_distance(
                query_feats,
                gallery_feats,
                self.metric,
                memory_budget_mb=self.memory_budget_mb,
                device=self.device,
                **self.rerank).cpu()
        else:
            distmat = compute_distance_matrix(
                query_feats,
                gallery_feats,
                self.metric,
                device=self.device,
                memory_budget_mb=self.memory_budget_mb)
        return query_feats, gallery_feats, distmat

    def _all_meta(self, samples: List[dict]) -> AllSampleMeta:
        """Meta arrays of every sample (see :data:`AllSampleMeta`)."""
        meta: AllSampleMeta = {
            'is_query': np.asarray([r['is_query'] for r in samples], bool),
            'is_gallery': np.asarray([r['is_gallery'] for r in samples], bool)
        }
        keys = ['pid', 'sample_idx'
                ] + [k for k in self.protocol.required_keys if k != 'pid']
        if 'camid' not in keys and all(
                r.get('camid') is not None for r in samples):
            keys.append('camid')
        for key in keys:
            meta[key] = np.asarray([r[key] for r in samples], dtype=np.int64)
        for key in self.protocol.selection_keys:
            meta[key] = np.asarray([r[key] for r in samples])
        return meta

    def _int_meta(self, meta: AllSampleMeta, index: np.ndarray,
                  rule: BaseReIDProtocol) -> Dict[str, np.ndarray]:
        """Integer meta (``pid``, ``camid``, rule keys) of one side."""
        keys = ['pid'] + [k for k in rule.required_keys if k != 'pid']
        if 'camid' not in keys and 'camid' in meta:
            keys.append('camid')
        missing = [k for k in keys if k not in meta]
        if missing:
            raise KeyError(
                f'ReIDMetric: the rule {rule!r} needs the meta {missing}; '
                f'list them in required_keys of {self.protocol!r}.')
        return {key: meta[key][index] for key in keys}

    def _check_sides(self, setting: EvalSetting, samples: List[dict],
                     meta: AllSampleMeta) -> None:
        """A setting needs at least one query and one gallery sample."""
        if len(setting.query) and len(setting.gallery):
            return
        if setting.name is None:
            if not len(setting.query):
                raise ValueError(
                    f'ReIDMetric: none of the {len(samples)} samples has '
                    'is_query=True. The evaluation dataset must contain the '
                    'query set (is_query) and the gallery set (is_gallery).')
            raise ValueError(
                f'ReIDMetric: none of the {len(samples)} samples has '
                'is_gallery=True. The evaluation dataset must contain the '
                'gallery set (is_gallery) as well as the queries.')
        counts = (f"is_query: {int(meta['is_query'].sum())}, is_gallery: "
                  f"{int(meta['is_gallery'].sum())}")
        if 'modality' in meta:
            for role in ('is_query', 'is_gallery'):
                counts += (
                    f'; {role} modalities: ' +
                    modality_counts(meta['modality'][meta[role]].astype(str)))
        raise ValueError(
            f'ReIDMetric ({self.protocol!r}): direction {setting.name!r} has '
            f'{len(setting.query)} queries ({setting.query_desc}) and '
            f'{len(setting.gallery)} gallery entries ({setting.gallery_desc})'
            f'; both sides must be non-empty. The {len(samples)} evaluated '
            f'samples have {counts}. Check the test split (query / gallery '
            'files, modalities) or choose the directions= of the protocol.')

    def format_table(self, rows: Sequence['SettingResult']) -> str:
        """Plain-text table of the results, as written to the log.

        One unnamed setting: a title with the query / gallery counts and one
        row of metrics.  Named settings: one row per setting with its
        ``setting``, ``query``, ``valid`` and ``gallery`` counts.
        """
        named = rows[0].name is not None
        names = (['setting', 'query', 'valid', 'gallery'] if named else [])
        columns = [n for n in rows[0].metrics if not n.endswith('_std')]
        names += columns
        table = []
        for row in rows:
            cells = ([
                row.name,
                str(row.num_query),
                str(row.num_valid),
                str(row.num_gallery)
            ] if named else [])
            for n in columns:
                cell = f'{row.metrics[n]:.2f}'
                if n + '_std' in row.metrics:
                    cell += f' ± {row.metrics[n + "_std"]:.2f}'
                cells.append(cell)
            table.append(cells)
        widths = [
            max(len(n), *(len(r[i]) for r in table)) + 2
            for i, n in enumerate(names)
        ]
        rule = '+' + '+'.join('-' * w for w in widths) + '+'
        head = '|' + '|'.join(n.center(w) for n, w in zip(names, widths))
        body = [
            '|' + '|'.join(v.center(w) for v, w in zip(r, widths)) + '|'
            for r in table
        ]
        extras = ''
        if self.aqe is not None:
            extras += f', AQE {self.aqe}'
        if self.rerank is not None:
            extras += f', k-reciprocal re-ranking {self.rerank}'
        title = (f'ReID evaluation ({self.protocol!r}, {self.metric} '
                 f'distance, feat_norm={self.feat_norm}{extras})')
        if named:
            title += f': {len(rows)} settings'
            trials = sorted({r.num_trials for r in rows if r.num_trials})
            if trials:
                title += (', mean ± std over '
                          f'{"/".join(str(t) for t in trials)} gallery '
                          'trials (gallery = entries per trial)')
        else:
            title += (f': {rows[0].num_query} queries ({rows[0].num_valid} '
                      f'valid), {rows[0].num_gallery} gallery')
        return '\n'.join([title, rule, head + '|', rule, *body, rule])

    def dump(self, out_file: str, samples: List[dict],
             settings: Sequence[EvalSetting], rows: Sequence['SettingResult'],
             metrics: Dict[str, float]) -> None:
        """Write features, meta and the distance matrix (see docs).

        A single unnamed setting writes ``query_feats``, ``distmat``, ...;
        named settings write the same arrays once per setting with the
        setting name as prefix (``ir2vis_query_feats``, ...).
        """
        as_npz = out_file.endswith('.npz')
        content: Dict[str, Any] = {}
        for setting, row in zip(settings, rows):
            prefix = '' if setting.name is None else f'{setting.name}_'
            query_feats, gallery_feats, distmat = row.dump_arrays
            content[prefix + 'query_feats'] = query_feats.numpy()
            content[prefix + 'gallery_feats'] = gallery_feats.numpy()
            content[prefix + 'distmat'] = distmat.cpu().numpy()
            for name, index in (('query', setting.query), ('gallery',
                                                           setting.gallery)):
                side = [samples[i] for i in index]
                self._dump_side(content, f'{prefix}{name}', side, as_npz)
        protocol_cfg = self.protocol_cfg if isinstance(self.protocol_cfg,
                                                       (str, dict)) else None
        info = dict(
            protocol=repr(self.protocol),
            protocol_cfg=protocol_cfg,
            metric=self.metric,
            feat_norm=self.feat_norm,
            aqe=self.aqe,
            rerank=self.rerank,
            settings=[s.name for s in settings],
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

    @staticmethod
    def _dump_side(content: Dict[str, Any], name: str, side: List[dict],
                   as_npz: bool) -> None:
        """Meta arrays of one side (``{name}_pids``, ...) into content."""
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


@dataclass
class SettingResult:
    """Scores of one evaluated setting (a row of the logged table).

    Attributes:
        name (str, optional): setting name (None: the single default).
        metrics (dict): ``mAP``, ``mINP``, ``R{k}`` in percent.
        num_query (int): queries of the setting.
        num_valid (int): queries with at least one positive (counted).
        num_gallery (int): gallery entries (with trials: per trial, the
            mean over the trials rounded).
        num_absent (int): queries whose pid is not in the gallery at all
            (with trials: in some trial's gallery).
        num_trials (int, optional): gallery trials averaged (None: one
            evaluation on the whole gallery).
        dump_arrays (tuple, optional): query / gallery features and the
            distance matrix, kept only when the metric dumps them.
    """
    name: Optional[str]
    metrics: Dict[str, float]
    num_query: int
    num_valid: int
    num_gallery: int
    num_absent: int
    num_trials: Optional[int] = None
    dump_arrays: Optional[Tuple[Tensor, Tensor, Tensor]] = None

    def skipped_note(self) -> Optional[str]:
        """Log line about skipped queries (None when none was skipped)."""
        skipped = self.num_query - self.num_valid
        if skipped == 0:
            return None
        where = ('ReID evaluation'
                 if self.name is None else f'ReID evaluation {self.name}')
        return (f'{where}: {skipped} of {self.num_query} queries skipped, '
                'no positive gallery entry left ('
                f'{self.num_absent} with an identity absent from the '
                f'gallery, {skipped - self.num_absent} whose same-identity '
                'entries are all ignored by the protocol); mAP, mINP and CMC '
                f'average the {self.num_valid} valid queries (torchreid '
                'convention).')


def _plain(value: Any) -> Any:
    """JSON-friendly copy of an img_path / modalities entry."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.generic, )):
        return value.item()
    return value
