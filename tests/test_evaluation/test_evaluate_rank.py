# Copyright (c) mmreid_text contributors. All rights reserved.
"""evaluate_rank against torchreid and against a plain per-query loop."""
import importlib
import warnings

import numpy as np
import pytest
import torch

from mmreid_text.evaluation import evaluate_rank
from mmreid_text.evaluation.functional import rank as rank_module


def _torchreid_evaluate_rank():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # "Cython evaluation unavailable"
        for name in ('torchreid.reid.metrics.rank', 'torchreid.metrics.rank'):
            try:
                return importlib.import_module(name).evaluate_rank
            except ImportError:
                continue
    raise ImportError('torchreid (requirements/runtime.txt) is needed')


def reference_rank(distmat, q_pids, g_pids, q_keys, g_keys, max_rank):
    """Plain loop: same pid & same key ignored, stable (distance, index)."""
    aps, inps, first_hits = [], [], []
    for i in range(distmat.shape[0]):
        order = np.argsort(distmat[i], kind='stable')
        keep = ~((g_pids[order] == q_pids[i]) & (g_keys[order] == q_keys[i]))
        matches = g_pids[order][keep] == q_pids[i]
        if not matches.any():
            continue
        positions = np.flatnonzero(matches) + 1  # 1-based ranks
        aps.append(np.mean(np.arange(1, len(positions) + 1) / positions))
        inps.append(len(positions) / positions[-1])
        first_hits.append(positions[0])
    first_hits = np.asarray(first_hits)
    cmc = np.asarray([(first_hits <= k).mean()
                      for k in range(1, max_rank + 1)])
    return dict(
        mAP=np.mean(aps),
        mINP=np.mean(inps),
        cmc=cmc,
        num_valid_queries=len(aps))


def random_case(rng, max_query=60, max_gallery=200):
    num_query = int(rng.integers(1, max_query))
    num_gallery = int(rng.integers(5, max_gallery))
    num_ids = int(rng.integers(1, 20))
    num_cams = int(rng.integers(1, 5))
    q_pids = rng.integers(0, num_ids + 3, num_query)  # some ids unseen
    g_pids = rng.integers(0, num_ids, num_gallery)
    q_camids = rng.integers(0, num_cams, num_query)
    g_camids = rng.integers(0, num_cams, num_gallery)
    return q_pids, g_pids, q_camids, g_camids


def test_matches_torchreid_on_random_cases():
    torchreid_rank = _torchreid_evaluate_rank()
    rng = np.random.default_rng(2024)
    compared = 0
    for _ in range(120):
        q_pids, g_pids, q_camids, g_camids = random_case(rng)
        distmat = rng.random((len(q_pids), len(g_pids)))
        removed = ((q_pids[:, None] == g_pids[None]) &
                   (q_camids[:, None] == g_camids[None]))
        positive = (q_pids[:, None] == g_pids[None]) & ~removed
        valid = positive.any(1)
        if not valid.any():
            with pytest.raises(AssertionError):
                torchreid_rank(
                    distmat,
                    q_pids,
                    g_pids,
                    q_camids,
                    g_camids,
                    5,
                    use_cython=False)
            with pytest.raises(ValueError, match='No valid query'):
                evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids, 5)
            continue
        # torchreid builds ragged CMC arrays when max_rank exceeds the kept
        # gallery of a query: stay below the smallest kept gallery
        kept = (~removed).sum(1)[valid]
        max_rank = int(min(10, kept.min()))
        cmc, mean_ap = torchreid_rank(
            distmat,
            q_pids,
            g_pids,
            q_camids,
            g_camids,
            max_rank,
            use_metric_cuhk03=False,
            use_cython=False)
        ours = evaluate_rank(
            distmat,
            q_pids,
            g_pids,
            q_camids,
            g_camids,
            max_rank,
            chunk_size=int(rng.integers(1, 40)))
        assert ours['mAP'] == pytest.approx(mean_ap, abs=1e-6)
        np.testing.assert_allclose(ours['cmc'], cmc, atol=1e-6)
        assert ours['num_valid_queries'] == int(valid.sum())
        assert ours['num_queries'] == len(q_pids)
        compared += 1
    assert compared > 60


@pytest.mark.parametrize('kind', ['ties', 'zeros', 'inf', 'half', 'scaled'])
def test_matches_reference_loop_including_minp_and_ties(kind):
    rng = np.random.default_rng(sum(map(ord, kind)))
    checked = 0
    for _ in range(40):
        q_pids, g_pids, q_camids, g_camids = random_case(rng, 30, 90)
        shape = (len(q_pids), len(g_pids))
        if kind == 'ties':
            distmat = rng.integers(0, 4, shape).astype(np.float32)
        elif kind == 'zeros':
            distmat = np.zeros(shape, np.float32)
        elif kind == 'inf':
            distmat = rng.choice([-np.inf, np.inf, -1., 0., 2.], shape)
        elif kind == 'half':
            distmat = rng.standard_normal(shape).astype(np.float16)
        else:
            distmat = rng.standard_normal(shape) * 10.**rng.integers(-30, 30)
        expected_valid = ((q_pids[:, None] == g_pids[None]) &
                          (q_camids[:, None] != g_camids[None])).any(1)
        if not expected_valid.any():
            continue
        max_rank = int(rng.integers(1, 15))
        expected = reference_rank(
            distmat.astype(np.float64), q_pids, g_pids, q_camids, g_camids,
            max_rank)
        ours = evaluate_rank(
            distmat,
            q_pids,
            g_pids,
            q_camids,
            g_camids,
            max_rank,
            chunk_size=int(rng.integers(1, 40)))
        assert ours['mAP'] == pytest.approx(expected['mAP'], abs=1e-12)
        assert ours['mINP'] == pytest.approx(expected['mINP'], abs=1e-12)
        np.testing.assert_allclose(ours['cmc'], expected['cmc'], atol=1e-12)
        assert ours['num_valid_queries'] == expected['num_valid_queries']
        checked += 1
    assert checked > 20


def test_hand_computed_example():
    # gallery:        0        1        2        3        4
    g_pids = np.array([1, 2, 1, 3, 1])
    g_camids = np.array([0, 1, 1, 1, 2])
    q_pids = np.array([1, 3, 2])
    q_camids = np.array([0, 1, 2])
    distmat = np.array([
        # query 0 (pid 1, cam 0): g0 ignored; kept order g1- g2+ g3- g4+
        [0.0, 0.1, 0.2, 0.3, 0.4],
        # query 1 (pid 3, cam 1): its only match g3 has the same camera
        [0.9, 0.8, 0.7, 0.6, 0.5],
        # query 2 (pid 2, cam 2): order g4- g2- g3- g1+ g0-
        [0.5, 0.3, 0.1, 0.2, 0.0],
    ])
    out = evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids, 5)
    # query 0: positives at ranks 2 and 4 -> AP (1/2 + 2/4) / 2, INP 2/4
    # query 2: one positive at rank 4 -> AP 1/4, INP 1/4
    assert out['num_valid_queries'] == 2
    assert out['mAP'] == pytest.approx((0.5 + 0.25) / 2)
    assert out['mINP'] == pytest.approx((0.5 + 0.25) / 2)
    np.testing.assert_allclose(out['cmc'], [0, 0.5, 0.5, 1, 1])
    assert out['cmc'].dtype == np.float64 and out['cmc'].shape == (5, )


def test_ties_are_broken_by_gallery_index():
    q_pids, q_camids = np.array([1]), np.array([0])
    g_camids = np.array([1, 1, 1])
    distmat = np.ones((1, 3))
    late = evaluate_rank(distmat, q_pids, np.array([2, 1, 3]), q_camids,
                         g_camids, 3)
    early = evaluate_rank(distmat, q_pids, np.array([1, 2, 3]), q_camids,
                          g_camids, 3)
    assert late['mAP'] == pytest.approx(0.5)  # negative 0 comes first
    np.testing.assert_allclose(late['cmc'], [0, 1, 1])
    assert early['mAP'] == pytest.approx(1.0)
    np.testing.assert_allclose(early['cmc'], [1, 1, 1])


def test_max_rank_beyond_kept_gallery_keeps_last_value():
    out = evaluate_rank(
        np.array([[0.1, 0.3]]), [1], [2, 1], [0], [1, 1], max_rank=6)
    np.testing.assert_allclose(out['cmc'], [0, 1, 1, 1, 1, 1])


def test_chunk_size_and_budget_invariance():
    rng = np.random.default_rng(7)
    q_pids = rng.integers(0, 15, 97)
    g_pids = rng.integers(0, 15, 301)
    q_camids = rng.integers(0, 3, 97)
    g_camids = rng.integers(0, 3, 301)
    distmat = rng.random((97, 301)).astype(np.float32)
    runs = [
        evaluate_rank(
            distmat, q_pids, g_pids, q_camids, g_camids, 20, chunk_size=chunk)
        for chunk in (1, 2, 13, 96, 97, 1000, None)
    ]
    runs.append(
        evaluate_rank(
            distmat,
            q_pids,
            g_pids,
            q_camids,
            g_camids,
            20,
            memory_budget_mb=0.05))
    for run in runs[1:]:
        assert run['mAP'] == pytest.approx(runs[0]['mAP'], abs=1e-12)
        assert run['mINP'] == pytest.approx(runs[0]['mINP'], abs=1e-12)
        np.testing.assert_array_equal(run['cmc'], runs[0]['cmc'])
        assert run['num_valid_queries'] == runs[0]['num_valid_queries']


@pytest.mark.parametrize('per_bucket,samples', [(1, 64), (1000, 2**22),
                                                (4, 7)])
def test_bucketing_parameters_do_not_change_results(monkeypatch, per_bucket,
                                                    samples):
    # buckets only speed things up: any monotone bucketing is exact
    rng = np.random.default_rng(11)
    q_pids = rng.integers(0, 10, 60)
    g_pids = rng.integers(0, 10, 400)
    q_camids = rng.integers(0, 3, 60)
    g_camids = rng.integers(0, 3, 400)
    distmat = np.round(rng.random((60, 400)), 2)  # many exact ties
    expected = reference_rank(distmat, q_pids, g_pids, q_camids, g_camids, 10)
    monkeypatch.setattr(rank_module, 'GALLERY_PER_BUCKET', per_bucket)
    monkeypatch.setattr(rank_module, 'HISTOGRAM_SAMPLES', samples)
    out = evaluate_rank(
        distmat, q_pids, g_pids, q_camids, g_camids, 10, chunk_size=17)
    assert out['mAP'] == pytest.approx(expected['mAP'], abs=1e-12)
    assert out['mINP'] == pytest.approx(expected['mINP'], abs=1e-12)
    np.testing.assert_allclose(out['cmc'], expected['cmc'], atol=1e-12)


def test_torch_numpy_and_list_inputs_agree():
    rng = np.random.default_rng(3)
    q_pids = rng.integers(0, 6, 20)
    g_pids = rng.integers(0, 6, 50)
    q_camids = rng.integers(0, 2, 20)
    g_camids = rng.integers(0, 2, 50)
    distmat = rng.random((20, 50)).astype(np.float32)
    base = evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids, 10)
    variants = [
        evaluate_rank(
            torch.from_numpy(distmat), torch.from_numpy(q_pids),
            torch.from_numpy(g_pids), torch.from_numpy(q_camids),
            torch.from_numpy(g_camids), 10),
        evaluate_rank(
            torch.from_numpy(distmat).double(), q_pids.tolist(),
            g_pids.tolist(), q_camids.tolist(), g_camids.tolist(), 10),
        evaluate_rank(
            distmat.tolist(),
            q_pids.astype(np.float32),
            g_pids,
            q_camids,
            g_camids,
            10,
            device='cpu'),
    ]
    for out in variants:
        assert out['mAP'] == pytest.approx(base['mAP'], abs=1e-12)
        assert out['mINP'] == pytest.approx(base['mINP'], abs=1e-12)
        np.testing.assert_array_equal(out['cmc'], base['cmc'])
        assert isinstance(out['mAP'], float)
        assert isinstance(out['num_valid_queries'], int)


def test_num_threads_is_restored():
    rng = np.random.default_rng(9)
    q_pids, g_pids = rng.integers(0, 5, 30), rng.integers(0, 5, 80)
    q_camids, g_camids = rng.integers(0, 2, 30), rng.integers(0, 2, 80)
    distmat = rng.random((30, 80))
    before = torch.get_num_threads()
    single = evaluate_rank(
        distmat, q_pids, g_pids, q_camids, g_camids, 5, num_threads=1)
    assert torch.get_num_threads() == before
    default = evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids, 5)
    assert single['mAP'] == default['mAP']
    np.testing.assert_array_equal(single['cmc'], default['cmc'])


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_gpu_matches_cpu():
    rng = np.random.default_rng(5)
    q_pids, g_pids, q_camids, g_camids = random_case(rng, 50, 300)
    q_pids[:5] = g_pids[:5]
    g_camids[:5] = (q_camids[:5] + 1) % 7
    distmat = torch.rand(len(q_pids), len(g_pids))
    cpu = evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids, 5)
    gpu = evaluate_rank(
        distmat, q_pids, g_pids, q_camids, g_camids, 5, device='cuda')
    assert gpu['mAP'] == pytest.approx(cpu['mAP'], abs=1e-12)
    assert gpu['mINP'] == pytest.approx(cpu['mINP'], abs=1e-12)
    np.testing.assert_array_equal(gpu['cmc'], cpu['cmc'])


def test_error_messages():
    distmat = np.random.default_rng(0).random((3, 4))
    pids = np.array([1, 2, 3])
    g_pids = np.array([1, 2, 3, 1])
    with pytest.raises(ValueError, match='single-camera'):
        evaluate_rank(distmat, pids, g_pids, np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match='NaN'):
        bad = distmat.copy()
        bad[1, 2] = np.nan
        evaluate_rank(bad, pids, g_pids, np.zeros(3), np.ones(4))
    with pytest.raises(ValueError, match='gallery pid has 3 entries'):
        evaluate_rank(distmat, pids, pids, np.zeros(3), np.ones(4))
    with pytest.raises(ValueError, match='2-D'):
        evaluate_rank(distmat[None], pids, g_pids, np.zeros(3), np.ones(4))
    with pytest.raises(ValueError, match='max_rank'):
        evaluate_rank(distmat, pids, g_pids, np.zeros(3), np.ones(4), 0)
    with pytest.raises(KeyError, match='camid'):
        evaluate_rank(distmat, pids, g_pids)
    with pytest.raises(ValueError, match='integers'):
        evaluate_rank(distmat, pids + 0.5, g_pids, np.zeros(3), np.ones(4))
    with pytest.raises(ValueError, match='empty'):
        evaluate_rank(np.zeros((0, 4)), [], g_pids, [], np.ones(4))
