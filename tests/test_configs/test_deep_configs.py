# Copyright (c) mmreid_text contributors. All rights reserved.
"""DEEP configs: consistency, tiny builds of every variant, the real
ViT-B/16 parameter count and a short end-to-end training run."""
import copy
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import mmreid_text.models.heads.deep_head  # noqa: F401
import mmreid_text.models.losses.supcon_loss  # noqa: F401
from mmreid_text.models.utils import tiny_clip_arch
from mmreid_text.registry import DATASETS, MODELS
from mmreid_text.structures import ReIDDataSample
from mmreid_text.utils import register_all_modules

register_all_modules()

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEEP_CONFIGS = sorted(
    glob.glob(osp.join(REPO, 'configs', 'deep', '**', '*.py'), recursive=True))
IDS = [osp.relpath(p, osp.join(REPO, 'configs', 'deep')) for p in DEEP_CONFIGS]
# Documented in configs/deep/README.md ("Architecture fidelity").
DEEP_RGBNT201_LEARNABLE_PARAMS = 106_174_464
TINY = dict(
    embed_dims=32,
    token_dims=32,
    in_channels=32,
    hidden_dims=16,
    ffn_dims=64,
    num_heads=2,
    num_patches=8)


def _necks_of_type(cfg, name):
    return [n for n in cfg.model.get('necks', []) if n.type == name]


def tiny_model_cfg(model_cfg: dict) -> dict:
    """The same components on the tiny random CLIP arch at 64x32."""
    model_cfg = copy.deepcopy(model_cfg)
    arch = tiny_clip_arch()
    model_cfg['backbone'].update(arch=arch, img_size=(64, 32), pretrained=None)
    if model_cfg.get('text_encoder'):
        model_cfg['text_encoder'].update(arch=arch, pretrained=None)

    def shrink(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in TINY and isinstance(value, int):
                    node[key] = TINY[key]
                else:
                    shrink(value)
        elif isinstance(node, list):
            for value in node:
                shrink(value)

    shrink(model_cfg.get('necks', []))
    shrink(model_cfg['head'])
    return model_cfg


def test_the_main_config_exists_and_all_datasets_are_covered():
    names = {osp.basename(p) for p in DEEP_CONFIGS}
    for dataset in ('rgbnt201', 'msvr310', 'rgbnt100', 'wmveid863',
                    'marketmm'):
        assert f'deep_vitb16_{dataset}.py' in names


@pytest.mark.parametrize('path', DEEP_CONFIGS, ids=IDS)
def test_config_is_consistent_with_its_dataset(path):
    cfg = Config.fromfile(path)
    dataset_type = cfg.train_dataloader.dataset.type
    dataset_cls = DATASETS.get(dataset_type)
    assert dataset_cls is not None, dataset_type
    metainfo = dataset_cls.METAINFO
    backbone = cfg.model.backbone
    assert tuple(backbone.modalities) == tuple(metainfo['modalities'])
    assert tuple(backbone.img_size) == tuple(cfg.img_size)
    for dsp in _necks_of_type(cfg, 'SpectralInversionPrompt'):
        assert dsp.class_name == metainfo['classes'][0]
        assert tuple(dsp.get('modalities', ('rgb', 'nir', 'tir'))) == tuple(
            metainfo['modalities'])
    # pipeline sizes and SSE num_patches: test_config_sizes.py (all configs)
    assert cfg.model.text_encoder is None or (cfg.model.text_encoder.frozen
                                              and cfg.model.text_encoder.arch
                                              == backbone.arch)


@pytest.mark.parametrize('path', DEEP_CONFIGS, ids=IDS)
def test_every_variant_trains_and_predicts_on_a_tiny_arch(path):
    cfg = Config.fromfile(path)
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(cfg.model.to_dict()))
    inputs = torch.randn(4, 3, 3, 64, 32)
    samples = [
        ReIDDataSample(
            metainfo=dict(pid=p, camid=0, modalities=('rgb', 'nir', 'tir')))
        for p in (0, 0, 1, 1)
    ]
    model.train()
    losses = model.loss(inputs, samples)
    expected = {'loss_id', 'loss_triplet'}
    if 'supcon' in cfg.model.losses:
        expected.add('loss_supcon')
    assert set(losses) == expected
    sum(losses.values()).backward()
    learnable = [p for p in model.parameters() if p.requires_grad]
    assert all(p.grad is not None for p in learnable)
    if model.text_encoder is not None:
        assert not any(p.requires_grad
                       for p in model.text_encoder.parameters())
    model.eval()
    with torch.no_grad():
        out = model.predict(inputs, samples)
    head = cfg.model.head
    width = 3 * 32 * (2 if head.get('text_key') else 1)
    assert out[0].pred_feature.shape == (width, )


def test_learnable_parameters_of_deep_vitb16_rgbnt201():
    """Real ViT-B/16 archs with random weights: the learnable parameters
    (the frozen text encoder excluded) are the documented count, within
    2 % of the paper's 105.9 M."""
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'deep', 'deep_vitb16_rgbnt201.py'))
    cfg.model.backbone.pretrained = None
    cfg.model.text_encoder.pretrained = None
    model = MODELS.build(cfg.model)
    learnable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert learnable == DEEP_RGBNT201_LEARNABLE_PARAMS
    assert math.isclose(learnable / 1e6, 105.9, rel_tol=0.02)
    frozen = sum(p.numel() for p in model.text_encoder.parameters())
    assert frozen > 60e6 and not any(p.requires_grad
                                     for p in model.text_encoder.parameters())
    # the shared text encoder is stored once in the checkpoint
    keys = model.state_dict().keys()
    assert not any(k.startswith('necks.') and 'encoder' in k for k in keys)


def test_tiny_deep_trains_end_to_end_with_the_runner(tmp_path):
    from mmreid_text.engine.runner import ReIDRunner
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'deep', 'deep_tiny_synthetic_rgbnt201.py'))
    cfg.model = Config(tiny_model_cfg(cfg.model.to_dict()))._cfg_dict
    data_root = str(tmp_path / 'synthetic' / 'RGBNT201')
    generator = dict(
        seed=0,
        num_train_ids=4,
        num_test_ids=3,
        images_per_camera=1,
        img_size=(64, 32),
        progress=False)
    for loader, batch in (('train_dataloader', 8), ('val_dataloader', 16),
                          ('test_dataloader', 16)):
        cfg[loader].batch_size = batch
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
        cfg[loader].dataset.data_root = data_root
        cfg[loader].dataset.generator = generator
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.val_evaluator = dict(
        type='ReIDMetric', protocol='market', max_rank=5, ranks=(1, 5))
    cfg.test_evaluator = cfg.val_evaluator
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=1, save_best=None)
    cfg.visualizer = dict(type='UniversalVisualizer', vis_backends=[])
    runner = ReIDRunner.from_cfg(cfg)
    runner.train()
    scalars = runner.message_hub.log_scalars
    for term in ('loss_id', 'loss_triplet', 'loss_supcon'):
        value = scalars[f'train/{term}'].current()
        assert math.isfinite(value), term
    assert any('mAP' in key for key in scalars), sorted(scalars)
    assert osp.isfile(osp.join(cfg.work_dir, 'epoch_1.pth'))
