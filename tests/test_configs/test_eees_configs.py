# Copyright (c) mmreid_text contributors. All rights reserved.
"""EEES configs: the paper's settings (Eq. 13, schedule, batch), every
ablation row of Tables 3 and 4, a tiny training run through the real
pipeline, and EEES's losses on the foundation baseline (mixing)."""
import copy
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmreid_text.registry import MODELS
from mmreid_text.structures import ReIDDataSample
from mmreid_text.utils import register_all_modules

register_all_modules()

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
EEES = osp.join(REPO, 'configs', 'eees')
ABLATION_DIR = osp.join(EEES, 'ablations')
MAIN = {
    'sysu': ('eees_rn50_sysu.py', 395, 'sysu'),
    'regdb': ('eees_rn50_regdb.py', 206, 'regdb'),
}
EQ13 = dict(id=1.0, wrt=0.25, con_o=0.2, con_m=0.2, kd=0.08, cmsp=0.01)


def _load(*parts) -> Config:
    return Config.fromfile(osp.join(EEES, *parts))


@pytest.mark.parametrize('name', sorted(MAIN))
def test_main_config_is_the_paper(name):
    file, num_ids, protocol = MAIN[name]
    cfg = _load(file)
    backbone = cfg.model.backbone
    assert backbone.arch == 'RN50' and tuple(backbone.img_size) == (288, 144)
    assert backbone.modality_stems and backbone.modalities == ('vis', 'ir')
    assert backbone.last_stride == 1
    assert cfg.model.text_encoder.arch == 'RN50'
    assert cfg.model.text_encoder.frozen is False  # fine-tuned (1e-6)
    assert cfg.model.head.num_classes == num_ids
    assert cfg.model.head.in_key == 'gem'
    assert cfg.val_evaluator.protocol == protocol
    assert cfg.test_evaluator.protocol == protocol
    # 8 ids x (4 visible + 4 infrared)
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.train_dataloader.sampler.type == 'CrossModalityIdentitySampler'
    assert cfg.train_dataloader.sampler.num_instances == 4
    # 120 epochs, 3e-4 visual / 1e-6 text, x0.1 at 40 and 70
    assert cfg.train_cfg.max_epochs == 120
    assert cfg.optim_wrapper.optimizer.lr == 3e-4
    text_mult = cfg.optim_wrapper.paramwise_cfg.custom_keys[
        'text_encoder'].lr_mult
    assert math.isclose(3e-4 * text_mult, 1e-6)
    # warm-up (not in the paper; AGW / CSDN): 10 epochs from 0.01 x lr
    (warmup, ) = [s for s in cfg.param_scheduler if s.type == 'LinearLR']
    assert (warmup.begin, warmup.end, warmup.start_factor) == (0, 10, 0.01)
    (step, ) = [s for s in cfg.param_scheduler if s.type == 'MultiStepLR']
    assert step.milestones == [40, 70] and step.gamma == 0.1
    assert 'save_best' not in cfg.default_hooks.checkpoint
    # Eq. 13 and M = 1
    assert {k: v.weight for k, v in cfg.model.losses.items()} == EQ13
    (fusion, ) = [n for n in cfg.model.necks if n.type == 'CrossViewFusion']
    assert fusion.num_views == 1
    # the captions are read in training (ESE needs them) and never at test
    train_steps = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    test_steps = [t['type'] for t in cfg.test_dataloader.dataset.pipeline]
    assert 'LoadCaptions' in train_steps and 'LoadCaptions' not in test_steps


def test_losses_read_the_cvsc_features():
    """L_con^m and L_kd consume the multi-view outputs, L_con^o and CMSP
    the single-view ones (a swapped key would still train)."""
    losses = _load('eees_rn50_sysu.py').model.losses
    assert losses.con_o.inputs[:2] == ('proj_cls', 'caption_text')
    assert losses.con_m.inputs[:2] == ('proj_cls_mv', 'caption_text_mv')
    assert losses.kd.inputs[:4] == ('proj_cls_mv', 'proj_cls',
                                    'caption_text_mv', 'caption_text')
    assert losses.cmsp.inputs[:2] == ('proj_cls', 'caption_text')
    assert losses.wrt.inputs == ('global_feat', 'labels')


ALL = set(EQ13)
ESE = {'id', 'wrt', 'con_o'}
# suffix: (table row, necks, loss terms, CVSC's M, captions loaded)
ABLATIONS = {
    't3_baseline': ('3 Baseline', ['GeMPooling'], {'id', 'wrt'}, None, False),
    't3_ise': ('3 ISE', ['GeMPooling',
                         'IdentityPrompt'], {'id', 'wrt', 'v2t'}, None, False),
    't3_1_ese': ('3 row 1', ['GeMPooling',
                             'CaptionTextEncoder'], ESE, None, True),
    't3_2_ese_cvsc':
    ('3 row 2', ['GeMPooling', 'CaptionTextEncoder',
                 'CrossViewFusion'], ESE | {'con_m', 'kd'}, 1, True),
    't3_3_ese_cmsp':
    ('3 row 3', ['GeMPooling',
                 'CaptionTextEncoder'], ESE | {'cmsp'}, None, True),
    **{
        f't4_m{m}': (f'4 M={m}', [
            'GeMPooling', 'CaptionTextEncoder', 'CrossViewFusion'
        ], ALL, m, True)
        for m in (0, 2, 3)
    },
}


def test_every_ablation_config_has_a_table_entry():
    found = {
        osp.basename(p)[len('eees_rn50_sysu_'):-len('.py')]
        for p in glob.glob(osp.join(ABLATION_DIR, '*.py'))
    }
    assert found == set(ABLATIONS)


def _tiny(model_cfg: dict, num_ids: int = 2) -> dict:
    """The same components on clip-tiny-rn (width 16) at 64x32."""
    model_cfg = copy.deepcopy(model_cfg)
    model_cfg['backbone'].update(
        arch='clip-tiny-rn', img_size=(64, 32), pretrained=None)
    if model_cfg.get('text_encoder'):
        model_cfg['text_encoder'].update(arch='clip-tiny-rn', pretrained=None)
    for neck in model_cfg['necks']:
        if neck['type'] == 'IdentityPrompt':
            neck.update(num_ids=num_ids, token_dims=128, embed_dims=128)
    model_cfg['head'].update(in_channels=512, num_classes=num_ids)
    return model_cfg


def _vi_samples():
    captions = {
        'vis': 'a man in a red shirt and blue jeans.',
        'ir': 'a man in a shirt and trousers.'
    }
    return [
        ReIDDataSample(
            metainfo=dict(
                pid=p,
                camid=1,
                modality=m,
                modalities=(m, ),
                captions={m: captions[m]})) for p in (0, 1)
        for m in ('vis', 'vis', 'ir', 'ir')
    ]


@pytest.mark.parametrize('suffix', sorted(ABLATIONS))
def test_ablation_is_its_table_row(suffix):
    """Built (tiny) and trained one step: the necks, the loss terms, M and
    the captions are exactly the row's; everything else is the main
    config's."""
    row, necks, terms, views, captions = ABLATIONS[suffix]
    cfg = Config.fromfile(
        osp.join(ABLATION_DIR, f'eees_rn50_sysu_{suffix}.py'))
    main = _load('eees_rn50_sysu.py')
    assert [n.type for n in cfg.model.necks] == necks, row
    assert set(cfg.model.losses) == terms, row
    for name in terms & set(main.model.losses):
        assert cfg.model.losses[name] == main.model.losses[name], (row, name)
    fusion = [n for n in cfg.model.necks if n.type == 'CrossViewFusion']
    assert (fusion[0].num_views if fusion else None) == views, row
    steps = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert ('LoadCaptions' in steps) == captions, row
    assert cfg.model.backbone == main.model.backbone, row
    assert cfg.model.head == main.model.head, row
    assert cfg.optim_wrapper == main.optim_wrapper, row
    assert cfg.param_scheduler == main.param_scheduler, row
    if suffix == 't3_ise':
        (prompt, ) = [n for n in cfg.model.necks if n.type == 'IdentityPrompt']
        assert prompt.template == 'A photo of a {tokens} person.'
        assert prompt.num_ids == main.model.head.num_classes
        assert cfg.model.text_encoder.frozen is True

    torch.manual_seed(0)
    model = MODELS.build(_tiny(cfg.model.to_dict()))
    samples = _vi_samples()
    losses = model.loss(torch.randn(len(samples), 1, 3, 64, 32), samples)
    assert set(losses) == {f'loss_{t}' for t in terms}, row
    if views == 0:
        assert float(losses['loss_kd']) == 0.0  # multi-view = single view
        assert torch.isclose(losses['loss_con_m'], losses['loss_con_o'])
    sum(losses.values()).backward()
    model.eval()
    with torch.no_grad():
        out = model.predict(torch.randn(4, 1, 3, 64, 32), samples[:4])
    assert out[0].pred_feature.shape == (512, )  # post-BN GeM, visual only


def _runner_cfg(cfg: Config, tmp_path, dataset_type: str, folder: str,
                generator: dict) -> Config:
    data_root = str(tmp_path / folder)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
        cfg[loader].dataset.update(
            type=dataset_type, data_root=data_root, generator=generator)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=1)
    cfg.visualizer = dict(type='UniversalVisualizer', vis_backends=[])
    return cfg


def _caption_file(cfg: Config) -> str:
    (step, ) = [
        t for t in cfg.train_dataloader.dataset.pipeline
        if t['type'] == 'LoadCaptions'
    ]
    return step['caption_file']


def test_tiny_eees_trains_with_the_runner(tmp_path):
    """The tiny synthetic config end to end: synthetic SYSU-MM01 files and
    their ground-truth captions, two modality stems, every Eq. 13 term,
    then the sysu protocol's four settings."""
    from mmreid_text.engine.runner import ReIDRunner
    cfg = _load('eees_tiny_synthetic_sysu.py')
    generator = dict(
        cfg.generator,
        num_train_ids=4,
        num_val_ids=1,
        num_test_ids=3,
        images_per_camera=2,
        progress=False)
    cfg = _runner_cfg(cfg, tmp_path, 'SyntheticSYSUMM01', 'SYSU-MM01',
                      generator)
    caption_file = str(tmp_path / 'SYSU-MM01' / 'captions' / 'train.json')
    assert _caption_file(cfg).endswith('/captions/train.json')
    cfg.train_dataloader.dataset.pipeline = [
        dict(t, caption_file=caption_file)
        if t['type'] == 'LoadCaptions' else t
        for t in cfg.train_dataloader.dataset.pipeline
    ]
    cfg.train_dataloader.batch_size = 8  # 2 ids x (2 visible + 2 infrared)
    cfg.train_dataloader.sampler = dict(
        type='CrossModalityIdentitySampler', num_instances=2)
    cfg.model.head.num_classes = 4
    runner = ReIDRunner.from_cfg(cfg)
    runner.train()
    scalars = runner.message_hub.log_scalars
    for term in EQ13:
        assert math.isfinite(scalars[f'train/loss_{term}'].current()), term
    keys = sorted(scalars)
    for setting in ('all_single', 'all_multi', 'indoor_single',
                    'indoor_multi'):
        assert any(f'{setting}/mAP' in k for k in keys), keys


def test_tiny_baseline_is_eees_without_its_text_side():
    eees = _load('eees_tiny_synthetic_sysu.py')
    base = _load('eees_tiny_synthetic_sysu_baseline.py')
    assert base.model.text_encoder is None
    assert [n.type for n in base.model.necks] == ['GeMPooling']
    assert set(base.model.losses) == {'id', 'wrt'}
    assert base.model.backbone == eees.model.backbone
    assert base.model.head == eees.model.head
    assert base.optim_wrapper == eees.optim_wrapper
    assert base.train_cfg == eees.train_cfg
    assert base.train_dataloader.dataset.generator == \
        eees.train_dataloader.dataset.generator


# ------------------------------------------------------------- mixing
MIX = ('clip_vitb16_rgbnt201_cvsc_cmsp.py',
       'clip_tiny_synthetic_rgbnt201_cvsc_cmsp.py')
MIX_BASES = {
    MIX[0]: osp.join(REPO, 'configs', 'baseline', 'clip_vitb16_rgbnt201.py'),
    MIX[1]: osp.join(REPO, 'configs', 'demo',
                     'clip_tiny_synthetic_rgbnt201.py'),
}


@pytest.mark.parametrize('file', MIX)
def test_mixing_config_adds_cvsc_and_cmsp_to_the_baseline(file):
    cfg = _load('mixing', file)
    base = Config.fromfile(MIX_BASES[file])
    assert cfg.model.backbone == base.model.backbone
    assert cfg.model.head == base.model.head
    assert set(
        cfg.model.losses) == set(base.model.losses) | {'con_m', 'kd', 'cmsp'}
    for name, weight in (('con_m', 0.2), ('kd', 0.08), ('cmsp', 0.01)):
        assert cfg.model.losses[name].weight == weight
        # every sample holds all spectra: no per-sample modality input
        assert 'sample_modalities' not in cfg.model.losses[name].inputs
    (encoder, fusion) = cfg.model.necks
    assert encoder.type == 'CaptionTextEncoder'
    assert tuple(encoder.modalities) == ('rgb', 'nir', 'tir')
    assert fusion.type == 'CrossViewFusion' and fusion.num_views == 1
    steps = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    base_steps = [t['type'] for t in base.train_dataloader.dataset.pipeline]
    assert steps == base_steps[:1] + ['LoadCaptions'] + base_steps[1:]


def test_tiny_mix_trains_with_the_runner(tmp_path):
    """CVSC and CMSP on the triple-stream baseline: synthetic RGBNT201
    files and their captions, [B, 3, E] features, two iterations."""
    from mmreid_text.engine.runner import ReIDRunner
    cfg = _load('mixing', MIX[1])
    generator = dict(
        cfg.generator,
        num_train_ids=4,
        num_test_ids=2,
        images_per_camera=2,
        progress=False)
    cfg = _runner_cfg(cfg, tmp_path, 'SyntheticRGBNT201', 'RGBNT201',
                      generator)
    caption_file = str(tmp_path / 'RGBNT201' / 'captions' / 'train_171.json')
    cfg.train_dataloader.dataset.pipeline = [
        dict(t, caption_file=caption_file)
        if t['type'] == 'LoadCaptions' else t
        for t in cfg.train_dataloader.dataset.pipeline
    ]
    cfg.train_dataloader.batch_size = 8
    cfg.model.head.num_classes = 4
    runner = ReIDRunner.from_cfg(cfg)
    before = copy.deepcopy(runner.model.backbone.state_dict())
    runner.train()
    scalars = runner.message_hub.log_scalars
    for term in ('id', 'triplet', 'con_m', 'kd', 'cmsp'):
        assert math.isfinite(scalars[f'train/loss_{term}'].current()), term
    after = runner.model.backbone.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
