# Copyright (c) mmreid_text contributors. All rights reserved.
"""The ``regdb`` protocol: visible<->thermal, no filtering, image CMC.

Checked against torchreid's ``evaluate_rank`` (query cameras 0, gallery
cameras 1, so that nothing is filtered, as ``eval_regdb`` does with 1 / 2)
and a plain loop for mINP.
"""
import importlib
import warnings

import numpy as np
import pytest
import torch

from mmreid_text.evaluation import RegDBProtocol, ReIDMetric

RANKS = (1, 5, 10, 20)


def torchreid_rank():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # "Cython evaluation unavailable"
        for name in ('torchreid.reid.metrics.rank', 'torchreid.metrics.rank'):
            try:
                return importlib.import_module(name).evaluate_rank
            except ImportError:
                continue
    raise ImportError('torchreid (requirements/runtime.txt) is needed')


def loop_minp(distmat, q_pids, g_pids):
    """mINP and valid queries by a plain loop (no filtering)."""
    inps = []
    for i in range(len(q_pids)):
        order = np.argsort(distmat[i], kind='stable')
        positions = np.flatnonzero(g_pids[order] == q_pids[i]) + 1
        if len(positions):
            inps.append(len(positions) / positions[-1])
    return np.mean(inps), len(inps)


def regdb_samples(seed, num_ids=12, per_id=4, feat_dim=8):
    """A RegDB-like test split: every sample is query AND gallery, camid 1
    (visible) / 2 (thermal), per_id images per identity and modality."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((num_ids, feat_dim))
    rows = [(p, m) for p in range(num_ids) for m in ('vis', 'ir')
            for _ in range(per_id)]
    samples = []
    for idx in rng.permutation(len(rows)):
        pid, modality = rows[idx]
        feature = centres[pid] + 1.1 * rng.standard_normal(feat_dim)
        samples.append(
            dict(
                pred_feature=torch.as_tensor(feature, dtype=torch.float32),
                pid=pid,
                camid=1 if modality == 'vis' else 2,
                modality=modality,
                modalities=(modality, ),
                is_query=True,
                is_gallery=True,
                sample_idx=len(samples),
                img_path={modality: f'/regdb/{modality}/{pid}/{idx}.bmp'}))
    return samples


def side(samples, modality):
    picked = [s for s in samples if s['modality'] == modality]
    feats = np.stack([s['pred_feature'].numpy() for s in picked]).astype(float)
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    return feats, np.array([s['pid'] for s in picked])


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_both_directions_match_torchreid(seed):
    reference = torchreid_rank()
    samples = regdb_samples(seed)
    metric = ReIDMetric(protocol='regdb', max_rank=20)
    metric.process(None, samples)
    scores = metric.evaluate(len(samples))
    assert set(scores) == {
        f'reid/{d}/{k}'
        for d in ('vis2ir', 'ir2vis')
        for k in ('mAP', 'mINP', 'R1', 'R5', 'R10', 'R20', 'num_queries',
                  'num_valid_queries')
    }
    for direction in ('vis2ir', 'ir2vis'):
        q_mod, g_mod = direction.split('2')
        qf, q_pids = side(samples, q_mod)
        gf, g_pids = side(samples, g_mod)
        distmat = np.sqrt(((qf[:, None] - gf[None])**2).sum(-1))
        cmc, mean_ap = reference(
            distmat,
            q_pids,
            g_pids,
            np.zeros_like(q_pids),
            np.ones_like(g_pids),
            20,
            use_metric_cuhk03=False,
            use_cython=False)
        key = f'reid/{direction}'
        assert scores[f'{key}/mAP'] == pytest.approx(100 * mean_ap, abs=1e-4)
        for k in RANKS:
            assert scores[f'{key}/R{k}'] == pytest.approx(
                100 * cmc[k - 1], abs=1e-4)
        minp, valid = loop_minp(distmat, q_pids, g_pids)
        assert scores[f'{key}/mINP'] == pytest.approx(100 * minp, abs=1e-4)
        assert scores[f'{key}/num_queries'] == len(q_pids) == 48
        assert scores[f'{key}/num_valid_queries'] == valid == 48
        assert 0 < scores[f'{key}/mAP'] < 100


def test_same_camera_same_id_is_not_ignored():
    """Unlike market, a same-pid same-camid gallery entry stays a positive
    (eval_regdb filters nothing)."""
    samples = regdb_samples(5, num_ids=3, per_id=1)
    for s in samples:
        s['camid'] = 0  # market would drop every positive
    metric = ReIDMetric(protocol='regdb', max_rank=3, ranks=(1, 3))
    metric.process(None, samples)
    scores = metric.evaluate(len(samples))
    assert scores['reid/vis2ir/num_valid_queries'] == 3
    assert scores['reid/vis2ir/R3'] == 100


def test_directions_argument():
    assert RegDBProtocol().directions == ('vis2ir', 'ir2vis')
    assert RegDBProtocol(directions=('ir2vis', )).directions == ('ir2vis', )
    with pytest.raises(ValueError, match='regdb protocol: directions'):
        RegDBProtocol(directions=('vis2vis', ))
    samples = regdb_samples(0, num_ids=3, per_id=2)
    metric = ReIDMetric(
        protocol=dict(type='regdb', directions=('ir2vis', )),
        max_rank=5,
        ranks=(1, ))
    metric.process(None, samples)
    assert set(metric.evaluate(len(samples))) == {
        'reid/ir2vis/mAP', 'reid/ir2vis/mINP', 'reid/ir2vis/R1',
        'reid/ir2vis/num_queries', 'reid/ir2vis/num_valid_queries'
    }


def test_regdb_dataset_through_the_evaluator(tmp_path):
    """The RegDB test split (synthetic layout): every sample query and
    gallery, the directions pick the modalities."""
    from mmengine.evaluator import Evaluator
    from mmengine.registry import DefaultScope

    from mmreid_text.datasets import RegDB
    from mmreid_text.structures.reid_data_sample import ReIDDataSample
    from mmreid_text.synthetic import ensure_synthetic
    ensure_synthetic('RegDB', str(tmp_path), img_size=(32, 16))
    dataset = RegDB(
        data_root=str(tmp_path / 'RegDB'), split='test', trial=2, pipeline=[])
    rng = np.random.default_rng(0)
    samples = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        meta = {
            k: info[k]
            for k in ('pid', 'camid', 'modality', 'modalities', 'is_query',
                      'is_gallery', 'sample_idx', 'img_path')
        }
        samples.append(
            ReIDDataSample(metainfo=meta).set_pred_feature(
                torch.as_tensor(rng.standard_normal(4)).float()))
    with DefaultScope.overwrite_default_scope('mmreid_text'):
        evaluator = Evaluator(
            dict(type='ReIDMetric', protocol='regdb', max_rank=20))
    evaluator.process(samples)
    scores = evaluator.evaluate(len(samples))
    for direction, modality in (('vis2ir', 'vis'), ('ir2vis', 'ir')):
        assert scores[f'reid/{direction}/num_queries'] == sum(
            s.metainfo['modality'] == modality for s in samples)
        assert scores[f'reid/{direction}/num_valid_queries'] == scores[
            f'reid/{direction}/num_queries']
