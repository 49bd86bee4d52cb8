# Copyright (c) mmreid_text contributors. All rights reserved.
"""VLD configs: one T everywhere, identities, the paper's parameter count
(Table X) and a short tiny training run through the real pipeline."""
import copy
import glob
import math
import os.path as osp

import pytest
from mmengine.config import Config

from mmreid_text.registry import MODELS
from mmreid_text.utils import register_all_modules

register_all_modules()

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
VLD_CONFIGS = sorted(
    glob.glob(osp.join(REPO, 'configs', 'vld', '**', '*.py'), recursive=True))
IDS = [osp.relpath(p, osp.join(REPO, 'configs', 'vld')) for p in VLD_CONFIGS]
MAIN = {
    'hitszvcm': ('vld_vitb16_hitszvcm.py', 500, 'vcm'),
    'buptcampus': ('vld_vitb16_buptcampus.py', 1074, 'bupt'),
}


def _frame_counts(cfg) -> dict:
    """Every place a config states T."""
    found = {}
    hub = cfg.model.backbone.get('hub')
    if hub:
        found['backbone.hub.num_frames'] = hub.num_frames
    for index, neck in enumerate(cfg.model.get('necks', [])):
        if 'num_frames' in neck:
            found[f'necks.{index}({neck.type}).num_frames'] = neck.num_frames
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for step in cfg[loader].dataset.pipeline:
            if step['type'] == 'SampleFrames':
                found[f'{loader}.SampleFrames'] = step['num_frames']
    return found


@pytest.mark.parametrize('path', VLD_CONFIGS, ids=IDS)
def test_one_t_everywhere(path):
    """T is one value: sampling, hub, STA and pooling (the public code
    hard-codes 6 in several places)."""
    cfg = Config.fromfile(path)
    found = _frame_counts(cfg)
    assert found, 'no frame count found'
    assert set(found.values()) == {cfg.num_frames}, found
    assert any(k.startswith('train_dataloader') for k in found)
    assert any(k.startswith('test_dataloader') for k in found)


@pytest.mark.parametrize('path', VLD_CONFIGS, ids=IDS)
def test_identities_agree(path):
    cfg = Config.fromfile(path)
    prompts = [
        n for n in cfg.model.get('necks', []) if n.type == 'IdentityPrompt'
    ]
    for prompt in prompts:
        assert prompt.num_ids == cfg.model.head.num_classes


@pytest.mark.parametrize('name', sorted(MAIN))
def test_main_config_is_the_paper(name):
    file, num_ids, protocol = MAIN[name]
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'vld', file))
    assert cfg.num_frames == 6 and tuple(cfg.img_size) == (288, 144)
    assert cfg.model.head.num_classes == num_ids
    assert cfg.model.backbone.hub.start_layer == 9
    assert cfg.val_evaluator.protocol == protocol
    assert cfg.test_evaluator.protocol == protocol
    # batch 2 modalities x 4 ids x 4 tracklets (Sec. IV-B)
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.train_dataloader.sampler.type == 'CrossModalityIdentitySampler'
    assert cfg.train_dataloader.sampler.num_instances == 4
    # 24 x 200 iterations, AdamW 2.5e-5, prompts x25, cosine
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == 24 * 200
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.lr == 2.5e-5
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys == {
        'id_tokens': dict(lr_mult=25.0)
    }
    assert [s.type
            for s in cfg.param_scheduler] == ['LinearLR', 'CosineAnnealingLR']
    assert cfg.param_scheduler[-1].end == 4800
    # no checkpoint selected on the test split
    assert 'save_best' not in cfg.default_hooks.checkpoint
    assert cfg.default_hooks.checkpoint.by_epoch is False
    # Eq. 14 weights
    losses = cfg.model.losses
    assert {
        k: v.weight
        for k, v in losses.items()
    } == dict(
        id_cls=1.0, wrt_cls=1.0, v2t=0.08, id_sta=0.4, wrt_sta=1.0)


@pytest.fixture(scope='module')
def vld_hitszvcm():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'vld', MAIN['hitszvcm'][0]))
    model_cfg = copy.deepcopy(cfg.model.to_dict())
    model_cfg['backbone']['pretrained'] = None
    model_cfg['text_encoder']['pretrained'] = None
    return MODELS.build(model_cfg)


def test_vld_adds_the_paper_parameters(vld_hitszvcm):
    """Table X: the ViT at 288x144 is 86.17 M, VLD's hub + STA add 2.39 M
    (identity prompts and classifiers are outside the paper's count)."""
    model = vld_hitszvcm
    backbone = sum(p.numel() for n, p in model.backbone.named_parameters()
                   if not n.startswith('hub'))
    hub = model.backbone.hub.numel()
    sta = sum(p.numel() for p in model.necks[1].parameters())
    assert math.isclose(backbone / 1e6, 86.17, abs_tol=0.01)
    assert hub == 6 * 6 * 768
    assert math.isclose((hub + sta) / 1e6, 2.39, abs_tol=0.01)
    assert not any(p.requires_grad for p in model.text_encoder.parameters())
    assert model.necks[0].id_tokens.shape == (500, 4, 512)


def test_tiny_vld_trains_with_the_runner(tmp_path):
    """The tiny synthetic config, two iterations end to end: synthetic
    HITSZ-VCM files, the video pipeline, the cross-modality sampler, the
    hub, STA, IMLP and every Eq. 14 term, then the vcm evaluation of both
    directions."""
    from mmreid_text.engine.runner import ReIDRunner
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'vld', 'vld_tiny_synthetic_hitszvcm.py'))
    generator = dict(
        cfg.generator,
        num_train_ids=4,
        num_test_ids=4,
        tracklets_per_modality=2,
        progress=False)
    data_root = str(tmp_path / 'HITSZ-VCM')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
        cfg[loader].dataset.update(data_root=data_root, generator=generator)
    cfg.train_dataloader.batch_size = 8  # 2 ids x (2 vis + 2 ir)
    cfg.model.necks[0].num_ids = 4
    cfg.model.head.num_classes = 4
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop', max_iters=2, val_interval=2)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', by_epoch=False, interval=2, max_keep_ckpts=1)
    cfg.visualizer = dict(type='UniversalVisualizer', vis_backends=[])
    runner = ReIDRunner.from_cfg(cfg)
    runner.train()
    scalars = runner.message_hub.log_scalars
    for term in ('loss_id_cls', 'loss_wrt_cls', 'loss_v2t', 'loss_id_sta',
                 'loss_wrt_sta'):
        assert math.isfinite(scalars[f'train/{term}'].current()), term
    keys = sorted(scalars)
    for direction in ('ir2vis', 'vis2ir'):
        assert any(f'{direction}/mAP' in k for k in keys), keys
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_2.pth'))
