# Copyright (c) mmreid_text contributors. All rights reserved.
"""ReIDMetric end to end, its dump file and its error messages."""
import json
import random

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import DefaultScope

from mmreid_text.evaluation import (ReIDMetric, compute_distance_matrix,
                                    evaluate_rank)
from mmreid_text.evaluation.metrics.reid_metric import SettingResult
from mmreid_text.evaluation.protocols import MarketProtocol
from mmreid_text.registry import METRICS
from mmreid_text.structures.reid_data_sample import ReIDDataSample

FEAT_DIM = 16


def fake_samples(num_ids=8, shots=6, num_cams=3, seed=0):
    """Dict samples as the Evaluator passes them (``to_dict()`` output).

    Each identity is a random direction plus noise; query = every third
    sample, gallery = all samples (queries are also gallery entries).
    """
    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(num_ids, FEAT_DIM, generator=gen)
    samples = []
    for idx in range(num_ids * shots):
        pid = 100 + idx % num_ids
        feature = centres[idx % num_ids] + 0.8 * torch.randn(
            FEAT_DIM, generator=gen)
        samples.append(
            dict(
                pred_feature=feature,
                pid=pid,
                camid=(idx // num_ids) % num_cams,
                scene_id=(idx // num_ids) % 2,
                is_query=idx % 3 == 0,
                is_gallery=True,
                sample_idx=idx,
                img_path={'rgb': f'/data/rgb/{idx:04d}.jpg'},
                modalities=('rgb', )))
    return samples


def expected_scores(samples, metric='euclidean', max_rank=50):
    """Distances recomputed in numpy, then evaluate_rank."""
    query = [s for s in samples if s['is_query']]
    gallery = [s for s in samples if s['is_gallery']]

    def feats(side):
        f = np.stack([s['pred_feature'].numpy() for s in side]).astype(float)
        return f / np.linalg.norm(f, axis=1, keepdims=True)

    qf, gf = feats(query), feats(gallery)
    if metric == 'euclidean':
        distmat = np.sqrt(((qf[:, None] - gf[None])**2).sum(-1))
    else:
        distmat = 1 - qf @ gf.T
    return evaluate_rank(distmat, [s['pid'] for s in query],
                         [s['pid']
                          for s in gallery], [s['camid'] for s in query],
                         [s['camid'] for s in gallery], max_rank)


def test_end_to_end_shuffled_and_duplicated():
    samples = fake_samples()
    expected = expected_scores(samples)
    shuffled = samples + samples[:5]  # padded duplicates, as DDP may add
    random.Random(1).shuffle(shuffled)
    metric = METRICS.build(dict(type='ReIDMetric'))
    for start in range(0, len(shuffled), 7):
        metric.process(None, shuffled[start:start + 7])
    assert len(metric.results) == len(shuffled)  # one result per sample
    assert metric.results[0]['feature'].device.type == 'cpu'
    scores = metric.evaluate(len(shuffled))
    assert set(scores) == {
        'reid/mAP', 'reid/mINP', 'reid/R1', 'reid/R5', 'reid/R10', 'reid/R20'
    }
    assert scores['reid/mAP'] == pytest.approx(100 * expected['mAP'])
    assert scores['reid/mINP'] == pytest.approx(100 * expected['mINP'])
    for k in (1, 5, 10, 20):
        assert scores[f'reid/R{k}'] == pytest.approx(100 *
                                                     expected['cmc'][k - 1])
    assert 0 < scores['reid/mAP'] < 100  # a non-trivial case


def test_cosine_equals_euclidean_ranking_after_normalisation():
    samples = fake_samples(seed=3)
    results = {}
    for name in ('euclidean', 'cosine'):
        metric = ReIDMetric(metric=name, ranks=(1, 3))
        metric.process(None, samples)
        results[name] = metric.evaluate(len(samples))
    assert set(
        results['cosine']) == {'reid/mAP', 'reid/mINP', 'reid/R1', 'reid/R3'}
    for key, value in results['cosine'].items():
        assert value == pytest.approx(results['euclidean'][key])
    expected = expected_scores(samples, 'cosine')
    assert results['cosine']['reid/mAP'] == pytest.approx(100 *
                                                          expected['mAP'])


def test_through_mmengine_evaluator_with_data_samples():
    samples = fake_samples(seed=5)
    # the runner sets default_scope='mmreid_text'; mimic it
    with DefaultScope.overwrite_default_scope('mmreid_text'):
        evaluator = Evaluator(
            dict(type='ReIDMetric', protocol='msvr310', prefix='val'))
    data_samples = []
    for sample in samples:
        meta = {k: v for k, v in sample.items() if k != 'pred_feature'}
        data_samples.append(
            ReIDDataSample(metainfo=meta).set_pred_feature(
                sample['pred_feature']))
    evaluator.process(data_samples[:20])
    evaluator.process(data_samples[20:])
    scores = evaluator.evaluate(len(data_samples))
    query = [s for s in samples if s['is_query']]
    qf = torch.nn.functional.normalize(
        torch.stack([s['pred_feature'] for s in query]))
    gf = torch.nn.functional.normalize(
        torch.stack([s['pred_feature'] for s in samples]))
    expected = evaluate_rank(
        torch.cdist(qf.double(), gf.double()), [s['pid'] for s in query],
        [s['pid'] for s in samples],
        protocol='msvr310',
        query_meta=dict(scene_id=[s['scene_id'] for s in query]),
        gallery_meta=dict(scene_id=[s['scene_id'] for s in samples]))
    assert scores['val/mAP'] == pytest.approx(100 * expected['mAP'])
    assert scores['val/R1'] == pytest.approx(100 * expected['cmc'][0])


@pytest.mark.parametrize('suffix', ['.npz', '.pth'])
def test_dump_file(tmp_path, suffix):
    samples = fake_samples(num_ids=4, shots=3)
    for sample in samples:
        sample['is_gallery'] = not sample['is_query']
    out_file = tmp_path / 'sub' / f'dump{suffix}'
    metric = ReIDMetric(out_file=str(out_file))
    shuffled = list(samples)
    random.Random(0).shuffle(shuffled)
    metric.process(None, shuffled)
    scores = metric.evaluate(len(shuffled))
    if suffix == '.npz':
        dump = dict(np.load(out_file))  # no pickles needed
        img_paths = [json.loads(p) for p in dump['query_img_paths']]
        info = json.loads(str(dump['info']))
    else:
        dump = torch.load(out_file, weights_only=False)
        dump = {
            k: v.numpy() if isinstance(v, torch.Tensor) else v
            for k, v in dump.items()
        }
        img_paths = dump['query_img_paths']
        info = dump['info']
    query = [s for s in samples if s['is_query']]
    gallery = [s for s in samples if s['is_gallery']]
    np.testing.assert_array_equal(dump['query_sample_idx'],
                                  [s['sample_idx'] for s in query])
    np.testing.assert_array_equal(dump['gallery_sample_idx'],
                                  [s['sample_idx'] for s in gallery])
    np.testing.assert_array_equal(dump['query_pids'],
                                  [s['pid'] for s in query])
    np.testing.assert_array_equal(dump['gallery_camids'],
                                  [s['camid'] for s in gallery])
    np.testing.assert_array_equal(dump['gallery_scene_ids'],
                                  [s['scene_id'] for s in gallery])
    assert img_paths == [s['img_path'] for s in query]
    assert dump['query_feats'].shape == (len(query), FEAT_DIM)
    assert dump['gallery_feats'].shape == (len(gallery), FEAT_DIM)
    np.testing.assert_allclose(
        np.linalg.norm(dump['query_feats'], axis=1), 1, rtol=1e-5)
    distmat = np.sqrt(((dump['query_feats'][:, None] -
                        dump['gallery_feats'][None])**2).sum(-1))
    np.testing.assert_allclose(dump['distmat'], distmat, atol=1e-5)
    assert info['metric'] == 'euclidean' and info['feat_norm'] is True
    assert info['metrics']['mAP'] == pytest.approx(scores['reid/mAP'])


def test_results_table_format():
    metric = ReIDMetric(ranks=(1, 5))
    scores = {'mAP': 81.234, 'mINP': 50.0, 'R1': 90.0, 'R5': 95.5}
    table = metric.format_table([SettingResult(None, scores, 10, 9, 40, 1)])
    assert '10 queries (9 valid), 40 gallery' in table
    assert '81.23' in table and '95.50' in table
    lines = table.splitlines()
    assert len({len(line) for line in lines[1:]}) == 1  # aligned columns


def test_distance_matrix_chunked():
    gen = torch.Generator().manual_seed(0)
    query, gallery = torch.randn(
        23, 5, generator=gen), torch.randn(
            31, 5, generator=gen)
    euclid = compute_distance_matrix(query, gallery, chunk_size=4)
    torch.testing.assert_close(euclid, torch.cdist(query, gallery))
    cosine = compute_distance_matrix(
        query, gallery, 'cosine', memory_budget_mb=1e-3)
    expected = 1 - torch.nn.functional.cosine_similarity(
        query[:, None], gallery[None], dim=-1)
    torch.testing.assert_close(cosine, expected)
    with pytest.raises(ValueError, match='feature sizes differ'):
        compute_distance_matrix(query, gallery[:, :3])


def test_error_messages(tmp_path):
    samples = fake_samples(num_ids=3, shots=2)

    def run(items, **kwargs):
        metric = ReIDMetric(**kwargs)
        metric.process(None, items)
        return metric.compute_metrics(metric.results)

    no_query = [dict(s, is_query=False) for s in samples]
    with pytest.raises(ValueError, match='is_query=True'):
        run(no_query)
    no_gallery = [dict(s, is_gallery=False) for s in samples]
    with pytest.raises(ValueError, match='is_gallery=True'):
        run(no_gallery)
    no_feature = [{
        k: v
        for k, v in s.items() if k != 'pred_feature'
    } for s in samples]
    with pytest.raises(KeyError, match='pred_feature'):
        run(no_feature)
    no_camid = [{k: v for k, v in s.items() if k != 'camid'} for s in samples]
    with pytest.raises(KeyError, match=r"\['camid'\]"):
        run(no_camid)
    no_scene = [{
        k: v
        for k, v in s.items() if k != 'scene_id'
    } for s in samples]
    with pytest.raises(KeyError, match=r"\['scene_id'\]"):
        run(no_scene, protocol='msvr310')
    run(no_scene)  # market does not need scene ids
    one_camera = [dict(s, camid=0) for s in samples]
    with pytest.raises(ValueError, match='single-camera'):
        run(one_camera)
    with pytest.raises(ValueError, match=r'\[F\]'):
        run([dict(samples[0], pred_feature=torch.zeros(2, 3))])
    with pytest.raises(ValueError, match='ranks'):
        ReIDMetric(ranks=(1, 60))
    with pytest.raises(ValueError, match='unknown metric'):
        ReIDMetric(metric='manhattan')
    with pytest.raises(ValueError, match='out_file'):
        ReIDMetric(out_file=str(tmp_path / 'dump.txt'))
    with pytest.raises(KeyError, match='Unknown ReID protocol'):
        ReIDMetric(protocol='nope')


def _scores(samples, **kwargs):
    metric = METRICS.build(dict(type='ReIDMetric', **kwargs))
    metric.process(None, samples)
    return metric.evaluate(len(samples))


def _sides(samples):
    """Normalised query / gallery features and meta of fake_samples."""
    query = [s for s in samples if s['is_query']]
    gallery = [s for s in samples if s['is_gallery']]

    def feats(side):
        return torch.nn.functional.normalize(
            torch.stack([s['pred_feature'] for s in side]), dim=1)

    meta = [[s[k] for s in side] for side in (query, gallery)
            for k in ('pid', 'camid')]
    return feats(query), feats(gallery), meta


def test_rerank_aqe_and_tpr_at_fpr_options():
    """Each option changes the ranked distances exactly as documented."""
    from mmreid_text.evaluation.functional import (alpha_query_expansion,
                                                   evaluate_roc,
                                                   k_reciprocal_distance)
    samples = fake_samples(num_ids=10, shots=8)
    query, gallery, (q_pids, q_cams, g_pids, g_cams) = _sides(samples)
    plain = _scores(samples)

    def ranked(distmat):
        return evaluate_rank(distmat, q_pids, g_pids, q_cams, g_cams)

    reranked = k_reciprocal_distance(query, gallery, 'euclidean', 8, 3, 0.3)
    scores = _scores(samples, rerank=dict(k1=8, k2=3))
    assert scores['reid/mAP'] == pytest.approx(100 * ranked(reranked)['mAP'])
    assert scores['reid/mAP'] != pytest.approx(plain['reid/mAP'])
    assert _scores(
        samples, rerank=True)['reid/mAP'] == pytest.approx(
            100 * ranked(k_reciprocal_distance(query, gallery))['mAP'])

    new_q, new_g = alpha_query_expansion(query, gallery, qe_k=3)
    new_q = torch.nn.functional.normalize(new_q, dim=1)
    new_g = torch.nn.functional.normalize(new_g, dim=1)
    expanded = compute_distance_matrix(new_q, new_g)
    scores = _scores(samples, aqe=dict(qe_k=3))
    assert scores['reid/mAP'] == pytest.approx(100 * ranked(expanded)['mAP'])
    assert scores['reid/mAP'] != pytest.approx(plain['reid/mAP'])

    # both: AQE first, then re-ranking of the expanded features
    both = k_reciprocal_distance(new_q, new_g, 'euclidean', 8, 3, 0.3)
    scores = _scores(samples, aqe=dict(qe_k=3), rerank=dict(k1=8, k2=3))
    assert scores['reid/mAP'] == pytest.approx(100 * ranked(both)['mAP'])

    fprs = (1e-2, 0.1)
    scores = _scores(samples, tpr_at_fpr=fprs)
    roc = evaluate_roc(
        compute_distance_matrix(query, gallery),
        q_pids,
        g_pids,
        q_cams,
        g_cams,
        fprs=fprs)
    assert scores['reid/TPR@FPR=1e-02'] == pytest.approx(100 * roc['tpr'][0])
    assert scores['reid/TPR@FPR=1e-01'] == pytest.approx(100 * roc['tpr'][1])
    assert 'reid/TPR@FPR=1e-01' not in plain


def test_rerank_in_the_dump_and_table(tmp_path):
    samples = fake_samples()
    out = str(tmp_path / 'dump.npz')
    metric = METRICS.build(
        dict(type='ReIDMetric', rerank=dict(k1=5, k2=2), out_file=out))
    metric.process(None, samples)
    metric.evaluate(len(samples))
    query, gallery, _ = _sides(samples)
    from mmreid_text.evaluation.functional import k_reciprocal_distance
    with np.load(out) as dump:
        np.testing.assert_allclose(
            dump['distmat'],
            k_reciprocal_distance(query, gallery, k1=5, k2=2).numpy(),
            atol=1e-6)
        info = json.loads(str(dump['info']))
    assert info['rerank'] == dict(k1=5, k2=2, lambda_value=0.3)
    assert info['aqe'] is None
    assert info['protocol_cfg'] == 'market'  # what vis_roc rebuilds
    rows = [SettingResult(None, {'mAP': 1.}, 1, 1, 1, 0)]
    assert 'k-reciprocal re-ranking' in metric.format_table(rows)


class TwoTrials(MarketProtocol):
    """A market-rule protocol whose gallery is drawn in two trials."""

    def gallery_trials(self, gallery):
        num = gallery['pid'].numel()
        return [torch.arange(num // 2), torch.arange(num // 2, num)]


def test_rerank_and_aqe_option_errors():
    with pytest.raises(
            ValueError, match=r"unknown rerank option\(s\) \[.k.\]"):
        ReIDMetric(rerank=dict(k=20))
    with pytest.raises(ValueError, match=r"unknown aqe option\(s\)"):
        ReIDMetric(aqe=dict(qe_time=1))
    with pytest.raises(TypeError, match='rerank must be None, True or a dict'):
        ReIDMetric(rerank='yes')
    with pytest.raises(
            ValueError, match="rerank needs metric in.*metric='cosine'"):
        ReIDMetric(rerank=True, metric='dot')
    with pytest.raises(ValueError, match='outside'):
        ReIDMetric(tpr_at_fpr=(0., ))
    samples = fake_samples()
    for option in (dict(rerank=True), dict(aqe=True)):
        metric = ReIDMetric(protocol=TwoTrials(), **option)
        metric.process(None, samples)
        with pytest.raises(ValueError, match='gallery-trial protocol'):
            metric.evaluate(len(samples))
    # TPR@FPR is defined per trial and averaged
    scores = _scores(samples, protocol=TwoTrials(), tpr_at_fpr=(0.1, ))
    assert 'reid/TPR@FPR=1e-01_std' in scores
