# Copyright (c) mmreid_text contributors. All rights reserved.
"""The ``sysu`` protocol: 4 settings x gallery trials, identity-level CMC.

Checked against a plain per-query loop written here after AGW's
``eval_sysu`` (camera-2 gallery removed for camera-3 queries, ranked pid
list de-duplicated for the CMC, image-level AP and INP), per trial, and on
tiny hand-computed cases (identity- vs image-level CMC, camera removal,
multi-shot counts, trial reproducibility).
"""
import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger

from mmreid_text.evaluation import ReIDMetric, SYSUMM01Protocol, evaluate_rank
from mmreid_text.evaluation.protocols import draw_sysu_galleries
from mmreid_text.registry import REID_PROTOCOLS

SETTINGS = ('all_single', 'all_multi', 'indoor_single', 'indoor_multi')
MODE_CAMS = dict(all=(1, 2, 4, 5), indoor=(1, 2))


def eval_sysu_loop(distmat, q_pids, g_pids, q_cams, g_cams, max_rank):
    """AGW ``eval_sysu`` as a loop: (identity-level CMC, mAP, mINP, valid).

    Ties are broken by gallery index (stable sort), as the core does.
    """
    cmc_sum = np.zeros(max_rank)
    aps, inps = [], []
    for i in range(len(q_pids)):
        order = np.argsort(distmat[i], kind='stable')
        keep = ~((q_cams[i] == 3) & (g_cams[order] == 2))
        ranked = g_pids[order][keep]
        matches = (ranked == q_pids[i]).astype(int)
        if not matches.any():
            continue
        distinct = []
        for pid in ranked:  # first occurrence of each pid
            if pid not in distinct:
                distinct.append(pid)
        hit = np.cumsum(np.asarray(distinct) == q_pids[i])[:max_rank]
        hit = np.concatenate([hit, np.full(max_rank - len(hit), hit[-1])])
        cmc_sum += hit
        positions = np.flatnonzero(matches) + 1
        aps.append(np.mean(np.arange(1, len(positions) + 1) / positions))
        inps.append(len(positions) / positions[-1])
    return cmc_sum / len(aps), np.mean(aps), np.mean(inps), len(aps)


def sysu_samples(seed, num_ids=10, feat_dim=6):
    """A small random SYSU-like test split (meta per ``sysu`` contract).

    Infrared queries in cameras 3 and 6; visible folders of 1-14 images in
    cameras 1, 2, 4, 5 with some (id, camera) folders missing: ids 0-1
    have no indoor (camera 1/2) image, id 2 only camera-2 images (its
    camera-3 queries have no indoor positive), ids 10-11 queries only.
    """
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((num_ids + 2, feat_dim))
    rows = []  # pid, camid, modality, is_query
    for pid in range(num_ids + 2):
        for cam in (3, 6):
            rows += [(pid, cam, 'ir', True)] * int(rng.integers(1, 4))
    for pid in range(num_ids):
        cams = [1, 2, 4, 5]
        if pid < 2:
            cams = [4, 5]
        elif pid == 2:
            cams = [2, 5]
        for cam in cams:
            if pid > 2 and cam > 2 and rng.random() < 0.3:
                continue
            rows += [(pid, cam, 'vis', False)] * int(rng.integers(1, 15))
    samples = []
    for idx, (pid, cam, modality, is_query) in enumerate(rows):
        feature = centres[pid] + 1.2 * rng.standard_normal(feat_dim)
        samples.append(
            dict(
                pred_feature=torch.as_tensor(feature, dtype=torch.float32),
                pid=pid,
                camid=cam,
                modality=modality,
                modalities=(modality, ),
                is_query=is_query,
                is_gallery=not is_query,
                sample_idx=idx,
                img_path={modality: f'/sysu/cam{cam}/{pid:04d}/{idx}.jpg'}))
    return samples


def arrays(samples, is_query):
    side = [s for s in samples if s['is_query'] == is_query]
    feats = np.stack([s['pred_feature'].numpy() for s in side]).astype(float)
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    return (feats, np.array([s['pid'] for s in side]),
            np.array([s['camid'] for s in side]))


def run_metric(samples, **protocol):
    metric = ReIDMetric(
        protocol=dict(type='sysu', **protocol), max_rank=20, ranks=(1, 5, 10))
    for start in range(0, len(samples), 9):
        metric.process(None, samples[start:start + 9])
    return metric.evaluate(len(samples))


@pytest.mark.parametrize('seed', [0, 1])
def test_every_setting_and_trial_matches_the_eval_sysu_loop(seed):
    samples = sysu_samples(seed)
    num_trials = 3
    scores = run_metric(samples, num_trials=num_trials, seed=seed)
    metrics = ('mAP', 'mINP', 'R1', 'R5', 'R10')
    assert set(scores) == {
        f'reid/{s}/{k}'
        for s in SETTINGS
        for k in metrics + tuple(m + '_std' for m in metrics) +
        ('num_queries', 'num_valid_queries')
    }
    qf, q_pids, q_cams = arrays(samples, True)
    gf, g_pids, g_cams = arrays(samples, False)
    distmat = np.sqrt(((qf[:, None] - gf[None])**2).sum(-1))
    for name in SETTINGS:
        mode, shot = name.split('_')
        shot_size = 1 if shot == 'single' else 10
        galleries = draw_sysu_galleries(g_pids, g_cams, MODE_CAMS[mode],
                                        shot_size, num_trials, seed)
        per_trial = [
            eval_sysu_loop(distmat[:, g], q_pids, g_pids[g], q_cams, g_cams[g],
                           20) for g in galleries
        ]
        direct = evaluate_rank(
            distmat,
            q_pids,
            g_pids,
            q_cams,
            g_cams,
            20,
            protocol=dict(
                type='sysu_setting',
                mode=mode,
                shot_size=shot_size,
                num_trials=num_trials,
                seed=seed))
        for trial, (cmc, mean_ap, minp, valid) in zip(direct['trials'],
                                                      per_trial):
            assert trial['mAP'] == pytest.approx(mean_ap, abs=1e-12)
            assert trial['mINP'] == pytest.approx(minp, abs=1e-12)
            np.testing.assert_allclose(trial['cmc'], cmc, atol=1e-12)
            assert trial['num_valid_queries'] == valid
        key = f'reid/{name}'
        for metric, values in (('mAP', [t[1] for t in per_trial]),
                               ('mINP', [t[2] for t in per_trial]),
                               ('R1', [t[0][0] for t in per_trial]),
                               ('R5', [t[0][4] for t in per_trial])):
            assert scores[f'{key}/{metric}'] == pytest.approx(
                100 * np.mean(values), abs=1e-4)
            assert scores[f'{key}/{metric}_std'] == pytest.approx(
                100 * np.std(values), abs=1e-4)
        assert scores[f'{key}/num_queries'] == len(q_pids)
        valid = {t[3] for t in per_trial}
        assert len(valid) == 1  # every non-empty folder is in every trial
        assert scores[f'{key}/num_valid_queries'] == valid.pop()
    # indoor: ids 0, 1 (no camera 1/2 image), 10, 11 (no gallery) and the
    # camera-3 queries of id 2 (camera 2 only) are skipped, and counted
    skipped = np.isin(q_pids, [0, 1, 10, 11]) | ((q_pids == 2) & (q_cams == 3))
    assert scores['reid/indoor_single/num_valid_queries'] == int(
        (~skipped).sum())
    assert scores['reid/all_single/num_valid_queries'] == int(
        (~np.isin(q_pids, [10, 11])).sum())
    assert 0 < scores['reid/all_multi/mAP'] < 100
    assert scores['reid/all_multi/mAP_std'] > 0  # trials differ


def test_identity_level_cmc_vs_image_level():
    # one camera-6 query of pid 1; ranking: pid 2, pid 2, pid 3, pid 1
    distmat = np.array([[0.1, 0.2, 0.3, 0.4]])
    g_pids, g_cams = np.array([2, 2, 3, 1]), np.array([1, 4, 5, 1])
    rule = dict(type='sysu_setting', mode='all', shot_size=10, num_trials=1)
    out = evaluate_rank(distmat, [1], g_pids, [6], g_cams, 4, protocol=rule)
    np.testing.assert_allclose(out['cmc'], [0, 0, 1, 1])  # identity rank 3
    market_like = evaluate_rank(
        distmat, [1], g_pids, [0], [1, 2, 3, 4], 4, protocol='market')
    np.testing.assert_allclose(market_like['cmc'], [0, 0, 0, 1])  # image 4
    assert out['mAP'] == pytest.approx(1 / 4)  # image-level AP
    assert market_like['mAP'] == pytest.approx(1 / 4)


def test_camera3_queries_lose_every_camera2_gallery_image():
    # gallery: g0 pid 1 cam 2 (closest), g1 pid 2 cam 2, g2 pid 2 cam 1,
    # g3 pid 1 cam 4
    distmat = np.array([[0.1, 0.2, 0.3, 0.4]])
    g_pids, g_cams = np.array([1, 2, 2, 1]), np.array([2, 2, 1, 4])
    rule = REID_PROTOCOLS.build(
        dict(type='sysu_setting', shot_size=10, num_trials=1))
    out = evaluate_rank(
        distmat, [1], g_pids, [3], g_cams, 3, protocol=rule)  # cam 3
    # kept for the camera-3 query: g2 (pid 2), g3 (pid 1) -> rank 2
    np.testing.assert_allclose(out['cmc'], [0, 1, 1])
    assert out['mAP'] == pytest.approx(1 / 2)
    out = evaluate_rank(distmat, [1], g_pids, [6], g_cams, 3, protocol=rule)
    # camera 6: nothing removed, g0 is a hit at rank 1; AP (1 + 2/4) / 2
    np.testing.assert_allclose(out['cmc'], [1, 1, 1])
    assert out['mAP'] == pytest.approx(0.75)
    # a camera-3 query whose only positives are in camera 2: invalid
    with pytest.raises(ValueError, match='No valid query'):
        evaluate_rank(
            distmat, [1], [1, 2, 2, 1], [3], [2, 2, 1, 2], protocol=rule)


def test_multi_shot_counts_and_short_folders():
    # folders (pid, cam): sizes 3, 10, 15 in cam 1, 7 in cam 4, 12 in cam 2
    pids = np.repeat([0, 1, 2, 0, 1], [3, 10, 15, 7, 12])
    cams = np.repeat([1, 1, 1, 4, 2], [3, 10, 15, 7, 12])
    for shot_size, mode, expected in ((10, 'all', {
        (0, 1): 3,
        (1, 1): 10,
        (2, 1): 10,
        (0, 4): 7,
        (1, 2): 10
    }), (1, 'all', {
        (0, 1): 1,
        (1, 1): 1,
        (2, 1): 1,
        (0, 4): 1,
        (1, 2): 1
    }), (10, 'indoor', {
        (0, 1): 3,
        (1, 1): 10,
        (2, 1): 10,
        (1, 2): 10
    })):
        for gallery in draw_sysu_galleries(pids, cams, MODE_CAMS[mode],
                                           shot_size, 4, 0):
            assert np.all(np.diff(gallery) > 0)  # sorted, no repeats
            keys, counts = np.unique(
                np.stack([pids[gallery], cams[gallery]], 1),
                axis=0,
                return_counts=True)
            assert {
                tuple(k): c
                for k, c in zip(keys.tolist(), counts)
            } == expected


def test_trials_are_reproducible_and_nested():
    rng = np.random.default_rng(0)
    pids = rng.integers(20, size=400)
    cams = rng.choice([1, 2, 4, 5], size=400)
    first = draw_sysu_galleries(pids, cams, (1, 2, 4, 5), 1, 10, 7)
    again = draw_sysu_galleries(pids, cams, (1, 2, 4, 5), 1, 10, 7)
    for a, b in zip(first, again):  # same seed -> same galleries
        np.testing.assert_array_equal(a, b)
    # different trials / seeds -> different galleries
    assert len({tuple(g) for g in first}) == 10
    other_seed = draw_sysu_galleries(pids, cams, (1, 2, 4, 5), 1, 10, 8)
    assert all(not np.array_equal(a, b) for a, b in zip(first, other_seed))
    # trial t of a longer run equals trial t of a shorter one
    np.testing.assert_array_equal(
        draw_sysu_galleries(pids, cams, (1, 2, 4, 5), 1, 3, 7)[2], first[2])
    # indoor = all-search restricted to cameras 1, 2; single ⊂ multi
    indoor = draw_sysu_galleries(pids, cams, (1, 2), 1, 10, 7)
    multi = draw_sysu_galleries(pids, cams, (1, 2, 4, 5), 10, 10, 7)
    for a, i, m in zip(first, indoor, multi):
        np.testing.assert_array_equal(i, a[np.isin(cams[a], (1, 2))])
        assert set(a) <= set(m)


def test_one_distance_matrix_and_one_table(monkeypatch, capsys):
    import mmreid_text.evaluation.metrics.reid_metric as module
    calls = []
    original = module.compute_distance_matrix

    def counting(*args, **kwargs):
        calls.append(args[0].shape)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, 'compute_distance_matrix', counting)
    samples = sysu_samples(3)
    MMLogger.get_instance('test_sysu_table')  # logs to stdout
    capsys.readouterr()
    scores = run_metric(samples, num_trials=2)
    assert len(calls) == 1  # query features x candidates, once
    out = capsys.readouterr().out
    assert 'ReID evaluation (SYSUMM01Protocol(' in out
    assert '4 settings, mean ± std over 2 gallery trials' in out
    for name in SETTINGS:
        row = next(line for line in out.splitlines() if f' {name} ' in line)
        mean, std = scores[f'reid/{name}/mAP'], scores[f'reid/{name}/mAP_std']
        assert f'{mean:.2f} ± {std:.2f}' in row
    assert 'ReID evaluation indoor_single: ' in out


def test_subsets_of_settings_and_bad_input():
    samples = sysu_samples(4)
    scores = run_metric(
        samples, modes=('indoor', ), shots=('multi', ), num_trials=2)
    assert {k.split('/')[1] for k in scores} == {'indoor_multi'}
    with pytest.raises(ValueError, match='modes must be'):
        SYSUMM01Protocol(modes=('outdoor', ))
    with pytest.raises(ValueError, match='num_trials'):
        SYSUMM01Protocol(num_trials=0)
    zero_based = [dict(s, camid=s['camid'] - 1) for s in samples]
    with pytest.raises(ValueError, match='SYSU camera number'):
        run_metric(zero_based)
    swapped = [
        dict(s, modality='vis' if s['modality'] == 'ir' else 'ir')
        for s in samples
    ]
    with pytest.raises(ValueError, match="must be 'ir' images"):
        run_metric(swapped)
    with pytest.raises(ValueError, match="ReIDMetric\\(protocol='sysu'\\)"):
        evaluate_rank(
            np.ones((1, 2)), [1], [1, 2], [3], [1, 2], protocol='sysu')


def dataset_samples(dataset, seed):
    """Data samples of a dataset's info dicts with random features."""
    from mmreid_text.structures.reid_data_sample import ReIDDataSample
    rng = np.random.default_rng(seed)
    centres = {}
    samples = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        centre = centres.setdefault(info['pid'], rng.standard_normal(4))
        meta = {
            k: info[k]
            for k in ('pid', 'camid', 'modality', 'modalities', 'is_query',
                      'is_gallery', 'sample_idx', 'img_path')
        }
        feature = torch.as_tensor(centre + rng.standard_normal(4))
        samples.append(
            ReIDDataSample(metainfo=meta).set_pred_feature(feature.float()))
    return samples


def test_sysu_dataset_through_the_evaluator(tmp_path):
    """The SYSUMM01 test split (synthetic layout) as the evaluator gets it:
    infrared queries, every visible image a candidate, SYSU camera ids."""
    from mmengine.evaluator import Evaluator
    from mmengine.registry import DefaultScope

    from mmreid_text.datasets import SYSUMM01
    from mmreid_text.synthetic import ensure_synthetic
    ensure_synthetic(
        'SYSUMM01',
        str(tmp_path),
        img_size=(32, 16),
        num_train_ids=2,
        num_val_ids=1,
        num_test_ids=6,
        images_per_camera=3)
    dataset = SYSUMM01(
        data_root=str(tmp_path / 'SYSU-MM01'), split='test', pipeline=[])
    samples = dataset_samples(dataset, 0)
    with DefaultScope.overwrite_default_scope('mmreid_text'):
        evaluator = Evaluator(
            dict(
                type='ReIDMetric',
                protocol=dict(type='sysu', num_trials=2),
                max_rank=20))
    evaluator.process(samples)
    scores = evaluator.evaluate(len(samples))
    num_ir = sum(s.metainfo['modality'] == 'ir' for s in samples)
    for name in SETTINGS:
        assert scores[f'reid/{name}/num_queries'] == num_ir
        assert 0 < scores[f'reid/{name}/mAP'] <= 100
        assert f'reid/{name}/R1_std' in scores


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_equals_cpu():
    samples = sysu_samples(5)
    qf, q_pids, q_cams = arrays(samples, True)
    gf, g_pids, g_cams = arrays(samples, False)
    distmat = np.sqrt(((qf[:, None] - gf[None])**2).sum(-1))
    rule = dict(type='sysu_setting', shot_size=10, num_trials=3)
    results = [
        evaluate_rank(
            distmat,
            q_pids,
            g_pids,
            q_cams,
            g_cams,
            20,
            protocol=rule,
            device=device,
            chunk_size=7) for device in ('cpu', 'cuda')
    ]
    for key in ('mAP', 'mINP', 'mAP_std'):
        assert results[1][key] == pytest.approx(results[0][key], abs=1e-12)
    np.testing.assert_allclose(results[1]['cmc'], results[0]['cmc'])


def test_chunking_does_not_change_the_trials():
    samples = sysu_samples(6)
    qf, q_pids, q_cams = arrays(samples, True)
    gf, g_pids, g_cams = arrays(samples, False)
    distmat = np.sqrt(((qf[:, None] - gf[None])**2).sum(-1))
    rule = dict(type='sysu_setting', mode='indoor', shot_size=10, seed=3)
    whole, chunked = (
        evaluate_rank(
            distmat,
            q_pids,
            g_pids,
            q_cams,
            g_cams,
            20,
            protocol=rule,
            chunk_size=size) for size in (None, 5))
    assert whole['num_trials'] == 10
    for a, b in zip(whole['trials'], chunked['trials']):
        assert a['mAP'] == pytest.approx(b['mAP'], abs=1e-12)
        assert a['mINP'] == pytest.approx(b['mINP'], abs=1e-12)
        np.testing.assert_allclose(a['cmc'], b['cmc'], atol=1e-12)
        assert a['num_valid_queries'] == b['num_valid_queries']
