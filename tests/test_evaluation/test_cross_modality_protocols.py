# Copyright (c) mmreid_text contributors. All rights reserved.
"""The ``vcm`` and ``bupt`` protocols: several directions in one run.

Checked against torchreid's ``evaluate_rank`` (an independent
implementation; BUPT's "no filtering" is obtained there by giving query and
gallery different camera ids), against a plain per-query loop for mINP, and
on tiny hand-computed cases.
"""
import importlib
import json
import warnings

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

from mmreid_text.evaluation import (BUPTCampusProtocol, MarketProtocol,
                                    ReIDMetric, VCMProtocol, build_protocol,
                                    evaluate_rank)
from mmreid_text.structures.reid_data_sample import ReIDDataSample

FEAT_DIM = 8
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


def sample(idx, pid, camid, modality, is_query, is_gallery, feature):
    return dict(
        pred_feature=torch.as_tensor(feature, dtype=torch.float32).reshape(-1),
        pid=pid,
        camid=camid,
        modality=modality,
        modalities=(modality, ),
        is_query=is_query,
        is_gallery=is_gallery,
        sample_idx=idx,
        img_path={modality: [f'/data/{idx:03d}/{t}.jpg' for t in range(2)]})


def random_vi_samples(layout, seed):
    """Random features around identity centres, hand-set meta.

    ``'vcm'``: infrared queries (is_query only) of ids 0-11 (ids 10, 11
    absent from the gallery), visible gallery of ids 0-9 and distractors
    20-25, 6 cameras.  ``'bupt'``: query and gallery files each with both
    modalities; some ids in one modality only.
    """
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((30, FEAT_DIM))
    rows = []  # (pid, camid, modality, is_query, is_gallery)
    if layout == 'vcm':
        rows += [(p, int(rng.integers(6)), 'ir', True, False)
                 for p in range(12) for _ in range(2)]
        rows += [(p, int(rng.integers(6)), 'vis', False, True)
                 for p in list(range(10)) * 4 + list(range(20, 26))]
    else:
        rows += [(p, int(rng.integers(6)), m, True, False) for p in range(14)
                 for m in ('vis', 'ir')]
        rows += [(p, int(rng.integers(6)), m, False, True)
                 for p in list(range(12)) * 2 + list(range(20, 26))
                 for m in ('vis', 'ir')]
        rows += [(p, 0, 'vis', True, False) for p in (26, 27)]  # vis only
    order = rng.permutation(len(rows))
    samples = []
    for idx, row in enumerate(rows[i] for i in order):
        pid = row[0]
        feature = centres[pid] + 0.9 * rng.standard_normal(FEAT_DIM)
        samples.append(sample(idx, *row, feature))
    return samples


def side_arrays(samples, index):
    side = [samples[i] for i in index]
    feats = np.stack([s['pred_feature'].numpy() for s in side]).astype(float)
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    return (feats, np.array([s['pid'] for s in side]),
            np.array([s['camid'] for s in side]))


def loop_scores(distmat, q_pids, g_pids, ignore, max_rank):
    """Plain per-query loop: mAP, mINP, CMC, valid queries (fractions)."""
    aps, inps, first = [], [], []
    for i in range(len(q_pids)):
        order = np.argsort(distmat[i], kind='stable')
        order = order[~ignore[i][order]]
        matches = g_pids[order] == q_pids[i]
        if not matches.any():
            continue
        ranks = np.flatnonzero(matches) + 1
        aps.append(np.mean(np.arange(1, len(ranks) + 1) / ranks))
        inps.append(len(ranks) / ranks[-1])
        first.append(ranks[0])
    cmc = [np.mean(np.asarray(first) <= k) for k in range(1, max_rank + 1)]
    return np.mean(aps), np.mean(inps), np.asarray(cmc), len(aps)


def run_metric(samples, protocol, **kwargs):
    metric = ReIDMetric(protocol=protocol, **kwargs)
    for start in range(0, len(samples), 7):
        metric.process(None, samples[start:start + 7])
    return metric.evaluate(len(samples))


DIRECTION_SIDES = {
    # protocol, direction -> (query selector, gallery selector)
    ('vcm', 'ir2vis'): (lambda s: s['is_query'], lambda s: s['is_gallery']),
    ('vcm', 'vis2ir'): (lambda s: s['is_gallery'], lambda s: s['is_query']),
    ('bupt', 'vis2ir'): (lambda s: s['is_query'] and s['modality'] == 'vis',
                         lambda s: s['is_gallery'] and s['modality'] == 'ir'),
    ('bupt', 'ir2vis'): (lambda s: s['is_query'] and s['modality'] == 'ir',
                         lambda s: s['is_gallery'] and s['modality'] == 'vis'),
}


@pytest.mark.parametrize('layout', ['vcm', 'bupt'])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_both_directions_match_torchreid(layout, seed):
    reference = torchreid_rank()
    samples = random_vi_samples(layout, seed)
    scores = run_metric(samples, layout, max_rank=20)
    directions = ('ir2vis', 'vis2ir') if layout == 'vcm' else ('vis2ir',
                                                               'ir2vis')
    expected_keys = {
        f'reid/{d}/{k}'
        for d in directions
        for k in ('mAP', 'mINP', 'R1', 'R5', 'R10', 'R20', 'num_queries',
                  'num_valid_queries')
    }
    assert set(scores) == expected_keys
    for direction in directions:
        pick_q, pick_g = DIRECTION_SIDES[(layout, direction)]
        q_index = [i for i, s in enumerate(samples) if pick_q(s)]
        g_index = [i for i, s in enumerate(samples) if pick_g(s)]
        qf, q_pids, q_cams = side_arrays(samples, q_index)
        gf, g_pids, g_cams = side_arrays(samples, g_index)
        distmat = np.sqrt(((qf[:, None] - gf[None])**2).sum(-1))
        if layout == 'bupt':  # no filtering: cameras that never match
            q_cams, g_cams = np.zeros_like(q_cams), np.ones_like(g_cams)
        cmc, mean_ap = reference(
            distmat,
            q_pids,
            g_pids,
            q_cams,
            g_cams,
            20,
            use_metric_cuhk03=False,
            use_cython=False)
        key = f'reid/{direction}'
        assert scores[f'{key}/mAP'] == pytest.approx(100 * mean_ap, abs=1e-4)
        for k in RANKS:
            assert scores[f'{key}/R{k}'] == pytest.approx(
                100 * cmc[k - 1], abs=1e-4)
        ignore = ((q_pids[:, None] == g_pids[None]) &
                  (q_cams[:, None] == g_cams[None]))
        _, minp, _, valid = loop_scores(distmat, q_pids, g_pids, ignore, 20)
        assert scores[f'{key}/mINP'] == pytest.approx(100 * minp, abs=1e-4)
        assert scores[f'{key}/num_queries'] == len(q_index)
        assert scores[f'{key}/num_valid_queries'] == valid
        assert valid < len(q_index)  # absent identities were skipped
        assert 0 < scores[f'{key}/mAP'] < 100


def vcm_tiny():
    """1-D features, ``feat_norm=False``: distance = |f_q - f_g|."""
    rows = [
        # pid cam modality  query  gallery  feature
        (1, 0, 'ir', True, False, 0.0),  # q0
        (2, 1, 'ir', True, False, 5.0),  # q1
        (3, 0, 'ir', True, False, 9.0),  # q2: pid 3 not in the gallery
        (1, 0, 'vis', False, True, 0.1),  # g0
        (2, 0, 'vis', False, True, 0.2),  # g1
        (1, 1, 'vis', False, True, 0.3),  # g2
        (2, 1, 'vis', False, True, 5.5),  # g3
        (4, 2, 'vis', False, True, 4.0),  # g4
    ]
    return [sample(i, *row[:5], [row[5]]) for i, row in enumerate(rows)]


def test_vcm_hand_computed():
    scores = run_metric(
        vcm_tiny(), 'vcm', feat_norm=False, max_rank=3, ranks=(1, 2, 3))
    # ir2vis (same pid AND same camera ignored):
    #   q0: g0 ignored; kept g1- (0.2) g2+ (0.3) g4- g3-  -> AP 1/2, first 2
    #   q1: g3 ignored; kept g4- (1.0) g2- (4.7) g1+ (4.8) g0- -> AP 1/3
    #   q2: pid 3 absent from the gallery -> skipped (counted)
    assert scores['reid/ir2vis/num_queries'] == 3
    assert scores['reid/ir2vis/num_valid_queries'] == 2
    assert scores['reid/ir2vis/mAP'] == pytest.approx(100 * (1 / 2 + 1 / 3) /
                                                      2)
    assert scores['reid/ir2vis/mINP'] == pytest.approx(100 * (1 / 2 + 1 / 3) /
                                                       2)
    assert [scores[f'reid/ir2vis/R{k}']
            for k in (1, 2, 3)] == pytest.approx([0, 50, 100])
    # vis2ir (the gallery samples query the query samples):
    #   g0: its only match q0 has its camera -> skipped (all ignored)
    #   g1: q0- (0.2) q1+ (4.8) q2-  -> AP 1/2;  g2: q0+ first -> AP 1
    #   g3: q1 ignored -> skipped;  g4: pid 4 absent -> skipped
    assert scores['reid/vis2ir/num_queries'] == 5
    assert scores['reid/vis2ir/num_valid_queries'] == 2
    assert scores['reid/vis2ir/mAP'] == pytest.approx(100 * (1 / 2 + 1) / 2)
    assert [scores[f'reid/vis2ir/R{k}']
            for k in (1, 2, 3)] == pytest.approx([50, 100, 100])


def bupt_tiny():
    rows = [
        # pid cam modality  query  gallery  feature
        (1, 0, 'vis', True, False, 0.0),  # a
        (2, 0, 'ir', True, False, 5.0),  # b
        (3, 1, 'vis', True, False, 9.0),  # c: pid 3 has no ir gallery entry
        (1, 0, 'ir', False, True, 0.1),  # d: same camera as a, kept
        (2, 1, 'ir', False, True, 0.2),  # e
        (2, 1, 'vis', False, True, 4.0),  # f
        (1, 2, 'vis', False, True, 4.5),  # g
        (1, 1, 'ir', False, True, 8.0),  # h
    ]
    return [sample(i, *row[:5], [row[5]]) for i, row in enumerate(rows)]


def test_bupt_hand_computed_without_camera_filtering():
    scores = run_metric(
        bupt_tiny(),
        dict(type='bupt', directions=('vis2ir', 'ir2vis', 'all')),
        feat_norm=False,
        max_rank=3,
        ranks=(1, 2))
    # vis2ir: queries a, c; gallery d, e, h.
    #   a: d+ (0.1, same camera: still a positive) e- (0.2) h+ (8.0)
    #      -> AP (1/1 + 2/3) / 2, INP 2/3;  c: pid 3 absent -> skipped
    assert scores['reid/vis2ir/num_queries'] == 2
    assert scores['reid/vis2ir/num_valid_queries'] == 1
    assert scores['reid/vis2ir/mAP'] == pytest.approx(100 * 5 / 6)
    assert scores['reid/vis2ir/mINP'] == pytest.approx(100 * 2 / 3)
    assert scores['reid/vis2ir/R1'] == pytest.approx(100)
    # ir2vis: query b; gallery f, g.  b: g- (0.5) f+ (1.0) -> AP 1/2
    assert scores['reid/ir2vis/num_queries'] == 1
    assert scores['reid/ir2vis/mAP'] == pytest.approx(50)
    assert scores['reid/ir2vis/R1'] == 0 and scores['reid/ir2vis/R2'] == 100
    # all: a: d+ e- f- g+ h+ -> (1 + 2/4 + 3/5) / 3
    #      b: g- f+ h- e+ d- -> (1/2 + 2/4) / 2;  c skipped
    assert scores['reid/all/num_valid_queries'] == 2
    assert scores['reid/all/mAP'] == pytest.approx(100 * (0.7 + 0.5) / 2)
    # the market rule would drop d for a: a different number
    market = evaluate_rank(
        np.array([[0.1, 0.2, 8.0]]), [1], [1, 2, 1], [0], [0, 1, 1], 3)
    assert 100 * market['mAP'] != pytest.approx(scores['reid/vis2ir/mAP'])


def test_table_and_skipped_queries_in_the_log(tmp_path):
    log_file = tmp_path / 'eval.log'
    logger = MMLogger.get_instance(
        'test_vcm_table', log_file=str(log_file), log_level='INFO')
    assert MMLogger.get_current_instance() is logger
    scores = run_metric(
        vcm_tiny(), 'vcm', feat_norm=False, max_rank=3, ranks=(1, 2, 3))
    for handler in logger.handlers:
        handler.flush()
    text = log_file.read_text()
    assert ("ReID evaluation (VCMProtocol(directions=('ir2vis', 'vis2ir')), "
            'euclidean distance, feat_norm=False): 2 settings') in text
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if '2 settings' in line)
    table = lines[start + 1:start + 7]
    assert len({len(line) for line in table}) == 1  # aligned columns
    cells = [[c.strip() for c in line.strip('|').split('|')] for line in table
             if line.startswith('|')]
    assert cells[0] == [
        'setting', 'query', 'valid', 'gallery', 'mAP', 'mINP', 'R1', 'R2', 'R3'
    ]
    assert cells[1] == [
        'ir2vis', '3', '2', '5', f"{scores['reid/ir2vis/mAP']:.2f}",
        f"{scores['reid/ir2vis/mINP']:.2f}", '0.00', '50.00', '100.00'
    ]
    assert cells[2][:5] == ['vis2ir', '5', '2', '3', '75.00']
    assert ('ReID evaluation ir2vis: 1 of 3 queries skipped, no positive '
            'gallery entry left (1 with an identity absent from the gallery, '
            '0 whose same-identity entries are all ignored by the protocol)'
            ) in text
    assert ('ReID evaluation vis2ir: 3 of 5 queries skipped, no positive '
            'gallery entry left (1 with an identity absent from the gallery, '
            '2 whose same-identity entries') in text


def test_through_the_mmengine_evaluator_and_dump(tmp_path):
    samples = random_vi_samples('vcm', 4)
    out_file = tmp_path / 'vcm.npz'
    with DefaultScope.overwrite_default_scope('mmreid_text'):
        evaluator = Evaluator(
            dict(
                type='ReIDMetric',
                protocol='vcm',
                prefix='test-monitor',
                out_file=str(out_file)))
    data_samples = []
    for item in samples:
        meta = {k: v for k, v in item.items() if k != 'pred_feature'}
        data_samples.append(
            ReIDDataSample(metainfo=meta).set_pred_feature(
                item['pred_feature']))
    evaluator.process(data_samples[:30])
    evaluator.process(data_samples[30:])
    scores = evaluator.evaluate(len(data_samples))
    direct = run_metric(samples, 'vcm')
    assert scores == {
        k.replace('reid/', 'test-monitor/'): v
        for k, v in direct.items()
    }
    dump = dict(np.load(out_file))
    info = json.loads(str(dump['info']))
    assert info['settings'] == ['ir2vis', 'vis2ir']
    num_query = sum(s['is_query'] for s in samples)
    num_gallery = len(samples) - num_query
    assert dump['ir2vis_distmat'].shape == (num_query, num_gallery)
    assert dump['vis2ir_distmat'].shape == (num_gallery, num_query)
    np.testing.assert_allclose(
        dump['vis2ir_distmat'], dump['ir2vis_distmat'].T, atol=1e-5)
    np.testing.assert_array_equal(dump['ir2vis_query_sample_idx'],
                                  dump['vis2ir_gallery_sample_idx'])
    assert [json.loads(m)
            for m in dump['ir2vis_query_modalities']] == [['ir']] * num_query


def test_protocol_objects_and_rules():
    vcm, bupt = build_protocol('vcm'), build_protocol(dict(type='bupt'))
    assert isinstance(vcm, VCMProtocol) and isinstance(vcm, MarketProtocol)
    assert vcm.required_keys == ('camid', )
    assert vcm.selection_keys == bupt.selection_keys == ('modality', )
    assert isinstance(bupt, BUPTCampusProtocol) and bupt.required_keys == ()
    assert bupt.directions == ('vis2ir', 'ir2vis')
    # as ranking rules: vcm = same pid & camera ignored, bupt = nothing
    distmat = np.array([[0.1, 0.2, 0.3]])
    args = (distmat, [1], [1, 2, 1], [0], [0, 0, 1], 3)
    assert evaluate_rank(*args, protocol='vcm')['mAP'] == pytest.approx(1 / 2)
    assert evaluate_rank(
        *args, protocol='bupt')['mAP'] == pytest.approx((1 + 2 / 3) / 2)
    single = build_protocol(dict(type='vcm', directions=('vis2ir', )))
    assert set(
        run_metric(
            vcm_tiny(), single, feat_norm=False, max_rank=3, ranks=(1, ))) == {
                'reid/vis2ir/mAP', 'reid/vis2ir/mINP', 'reid/vis2ir/R1',
                'reid/vis2ir/num_queries', 'reid/vis2ir/num_valid_queries'
            }
    for bad in (('ir2rgb', ), (), ('ir2vis', 'ir2vis')):
        with pytest.raises(ValueError, match='directions must be'):
            VCMProtocol(directions=bad)
    with pytest.raises(ValueError, match='directions must be'):
        BUPTCampusProtocol(directions=('vis2rgb', ))


def test_errors_name_the_direction_and_the_counts():
    # no 'modality' in the metainfo (e.g. a multi-spectral dataset)
    no_modality = [{
        k: v
        for k, v in s.items() if k != 'modality'
    } for s in vcm_tiny()]
    for protocol in ('vcm', 'bupt'):
        with pytest.raises(KeyError, match=r"lacks \['modality'\].*'vis' or"):
            run_metric(no_modality, protocol)
    rgb = [dict(s, modality='rgb') for s in bupt_tiny()]
    with pytest.raises(ValueError, match=r"one of \('vis', 'ir'\), got"):
        run_metric(rgb, 'bupt')
    # an empty side: no infrared gallery entry
    no_ir = [
        s for s in bupt_tiny()
        if not (s['is_gallery'] and s['modality'] == 'ir')
    ]
    with pytest.raises(
            ValueError,
            match=(r"direction 'vis2ir' has 2 queries \(is_query samples "
                   r"with modality 'vis'\) and 0 gallery entries \(is_gallery"
                   r" samples with modality 'ir'\).*is_gallery modalities: "
                   r'vis: 2')):
        run_metric(no_ir, 'bupt', feat_norm=False, max_rank=1, ranks=(1, ))
    no_gallery = [s for s in vcm_tiny() if s['is_query']]
    with pytest.raises(ValueError, match="direction 'ir2vis' has 3 queries"):
        run_metric(no_gallery, 'vcm')
    # a direction in which no query has a positive
    lonely = [
        s for s in bupt_tiny() if not (s['is_gallery'] and s['pid'] == 2)
    ]
    with pytest.raises(ValueError, match="setting 'ir2vis'.*No valid query"):
        run_metric(lonely, 'bupt', feat_norm=False, max_rank=1, ranks=(1, ))


def test_vcm_warns_about_a_mixed_query_side(tmp_path):
    log_file = tmp_path / 'warn.log'
    logger = MMLogger.get_instance('test_vcm_warning', log_file=str(log_file))
    # a split as query_IDX gives it: nothing to warn about
    run_metric(vcm_tiny(), 'vcm', feat_norm=False, max_rank=3, ranks=(1, ))
    for handler in logger.handlers:
        handler.flush()
    assert 'the direction name assumes' not in log_file.read_text()
    mixed = vcm_tiny()
    mixed[1] = dict(mixed[1], modality='vis', modalities=('vis', ))
    run_metric(mixed, 'vcm', feat_norm=False, max_rank=3, ranks=(1, ))
    for handler in logger.handlers:
        handler.flush()
    text = log_file.read_text()
    assert ('vcm ir2vis: the query side (is_query samples (query_IDX)) holds '
            "ir: 2, vis: 1; the direction name assumes every query sample is "
            "'ir'") in text
    warning = next(line for line in text.splitlines()
                   if 'the direction name assumes' in line)
    assert 'WARNING' in warning
