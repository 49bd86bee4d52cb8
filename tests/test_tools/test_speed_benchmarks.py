# Copyright (c) mmreid_text contributors. All rights reserved.
"""The non-timing logic of benchmarks/speed_common.py,
benchmarks/benchmark_vld_speed.py and benchmarks/benchmark_next_speed.py
(turn order, medians, paired ratios, the random-weight build, the
visible-infrared batch, the three NEXT models); nothing is timed."""
import os.path as osp
import sys

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'benchmarks'))

import benchmark_next_speed  # noqa: E402
import benchmark_vld_speed  # noqa: E402
import speed_common  # noqa: E402

TINY_VLD = 'configs/vld/vld_tiny_synthetic_hitszvcm.py'


def _fake_steps(calls, seconds):
    """Steps that record their turn and return preset 'timings'."""

    def make(name):
        values = iter(seconds[name])
        return lambda: calls.append(name) or dict(train=next(values))

    return {name: make(name) for name in seconds}


def test_interleaved_turns_warmup_and_medians():
    calls = []
    seconds = dict(a=[9.0, 1.0, 3.0, 2.0], b=[9.0, 2.0, 4.0, 8.0])
    lines = []
    times = speed_common.interleaved_timings(
        _fake_steps(calls, seconds),
        warmup=1,
        iters=3,
        alternate=True,
        progress=lines.append)
    # A B, then B A, A B, B A: no model always runs after the same one
    assert calls == ['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a']
    # the warm-up iteration (9 s) is dropped
    assert times == dict(
        a=dict(train=[1.0, 3.0, 2.0]), b=dict(train=[2.0, 4.0, 8.0]))
    assert speed_common.median_times(times) == dict(
        a=dict(train=2.0), b=dict(train=4.0))
    assert speed_common.paired_ratios(times, 'b', 'a',
                                      'train') == [2.0, 4.0 / 3.0, 4.0]
    assert len(lines) == 6 and lines[0].startswith('iteration 1/3 b')


def test_interleaved_fixed_order_and_bad_counts():
    calls = []
    speed_common.interleaved_timings(
        _fake_steps(calls, dict(a=[1.0] * 2, b=[1.0] * 2)), 0, 2)
    assert calls == ['a', 'b', 'a', 'b']
    with pytest.raises(ValueError, match='iters >= 1'):
        speed_common.interleaved_timings({}, 0, 0)
    with pytest.raises(ValueError, match='has 1 train timings'):
        speed_common.paired_ratios(
            dict(a=dict(train=[1.0]), b=dict(train=[1.0, 2.0])), 'a', 'b',
            'train')


def test_vi_batch_meta():
    samples = benchmark_vld_speed.make_vi_samples(2, 2, 6)
    meta = [(s.pid, s.camid, s.modality, s.modalities, s.num_frames)
            for s in samples]
    assert meta == [(0, 0, 'vis', ('vis', ), 6)] * 2 + [
        (0, 1, 'ir', ('ir', ), 6)
    ] * 2 + [(1, 0, 'vis', ('vis', ), 6)] * 2 + [(1, 1, 'ir', ('ir', ), 6)] * 2
    with pytest.raises(ValueError, match='>= 2 identities'):
        benchmark_vld_speed.make_vi_samples(1, 1, 6)


def test_random_model_build_and_training_step():
    """Pretrained weights off, ``modify`` applied, and one step of the
    config's optimizer changes the learnable weights."""
    from mmengine.optim import build_optim_wrapper

    from mmreid_text.utils import register_all_modules
    register_all_modules()

    def fewer_ids(model_cfg):
        model_cfg.head.num_classes = 3
        model_cfg.necks[0].num_ids = 3

    torch.manual_seed(0)
    model, cfg = speed_common.build_random_model(TINY_VLD, torch.device('cpu'),
                                                 fewer_ids)
    assert cfg.model.head.num_classes == 3
    assert model.necks[0].id_tokens.shape[0] == 3
    parts = speed_common.part_params(model)
    assert set(parts) == {'backbone', 'necks.0', 'necks.1', 'head'}
    assert sum(parts.values()) == speed_common.learnable_params(model)
    assert 'text_encoder' in speed_common.part_params(
        model, learnable_only=False)  # frozen: not learnable
    optimizer = build_optim_wrapper(model, cfg.optim_wrapper)
    before = model.backbone.hub.detach().clone()
    samples = benchmark_vld_speed.make_vi_samples(2, 1, cfg.num_frames)
    inputs = torch.randn(4, 1, cfg.num_frames, 3, *cfg.img_size)
    seconds = speed_common.training_step(model, optimizer, inputs, samples,
                                         torch.device('cpu'))
    assert seconds > 0
    assert not torch.equal(before, model.backbone.hub)
    with pytest.raises(FileNotFoundError, match='relative to the repository'):
        speed_common.build_random_model('configs/no_such.py',
                                        torch.device('cpu'))


TINY_NEXT = 'configs/next/next_tiny_synthetic_rgbnt201.py'
TINY_BASELINE = 'configs/demo/clip_tiny_synthetic_rgbnt201.py'


def test_next_benchmark_compares_the_right_models():
    """NEXT with and without text are the same weights and differ only in
    encoding the captions at test; the report has every model and ratio."""
    from mmreid_text.utils import register_all_modules
    register_all_modules()
    args = benchmark_next_speed.parse_args(
        ['--baseline', TINY_BASELINE, '--next', TINY_NEXT])
    models, img_size = benchmark_next_speed.build_models(
        args, torch.device('cpu'))
    assert img_size == (64, 32)
    assert models['next'].necks[0].test_text is True
    assert models['next_wo_text'].necks[0].test_text is False
    with_text = models['next'].state_dict()
    without = models['next_wo_text'].state_dict()
    assert with_text.keys() == without.keys()
    assert all(torch.equal(with_text[k], without[k]) for k in with_text)
    assert not any(
        n.startswith('necks')
        for n, _ in models['baseline'].named_parameters())
    inputs = torch.randn(2, 3, 3, *img_size)
    samples = benchmark_next_speed.make_samples(2)
    with torch.no_grad():
        feats = {
            name:
            torch.stack(
                [s.pred_feature for s in model.predict(inputs, samples)])
            for name, model in models.items()
        }
    # the captions change NEXT's feature: the text is really used
    assert not torch.allclose(feats['next'], feats['next_wo_text'])

    results = benchmark_next_speed.main([
        '--baseline', TINY_BASELINE, '--next', TINY_NEXT, '--batch-size', '2',
        '--warmup', '0', '--iters', '2', '--threads', '1'
    ])
    assert set(
        results['samples_per_s']) == {'baseline', 'next', 'next_wo_text'}
    assert all(v > 0 for v in results['samples_per_s'].values())
    assert set(results['throughput_ratios']) == {
        'next/next_wo_text', 'next/baseline', 'next_wo_text/baseline'
    }
    assert results['paper']['ratio_next_over_wo_text'] == pytest.approx(275.1 /
                                                                        354.0)
