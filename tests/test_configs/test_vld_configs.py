# Copyright (c) mmreid_text contributors. All rights reserved.
"""VLD configs: one T everywhere, identities, the paper's parameter count
(Table X) and a short tiny training run through the real pipeline."""
import copy
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

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


# Eq. 14: the feature each loss term reads (None: the term is absent)
LOSS_INPUTS = dict(
    id_cls=('cls_logits', 'labels'),
    wrt_cls=('cls_feat', 'labels'),
    v2t=('seq_proj_cls', 'id_text', 'labels'),
    id_sta=('sta_logits', 'labels'),
    wrt_sta=('sta_feat', 'labels'))


@pytest.mark.parametrize('path', VLD_CONFIGS, ids=IDS)
def test_loss_terms_read_the_eq_14_features(path):
    """Every loss term of every VLD config reads its own feature: ID and
    WRT on the CLS branch, v2t on the projected sequence CLS against the
    identity texts, ID and WRT on the STA branch; the head reads the
    sequence features the necks write."""
    cfg = Config.fromfile(path)
    for name, term in cfg.model.losses.items():
        assert tuple(term.inputs) == LOSS_INPUTS[name], (name, term.inputs)
    head = cfg.model.head
    assert head.cls_key == 'seq_cls'
    has_sta = any(n.type == 'SpatialTemporalAggregation'
                  for n in cfg.model.necks)
    assert head.sta_key == ('seq_sta' if has_sta else None)
    assert has_sta == ({'id_sta', 'wrt_sta'} <= set(cfg.model.losses))


@pytest.mark.parametrize(
    'file, source, target',
    [('vld_vitb16_hitszvcm_to_buptcampus.py', 'hitszvcm', 'buptcampus'),
     ('vld_vitb16_buptcampus_to_hitszvcm.py', 'buptcampus', 'hitszvcm')])
def test_cross_dataset_config_is_the_source_model_on_the_target_test(
        file, source, target):
    """Table VIII: the source config's model (its classifier size and all)
    and training, tested on the target dataset exactly as the target's
    own config tests it (dataset, frame sampling, protocol)."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'vld', file))
    src = Config.fromfile(osp.join(REPO, 'configs', 'vld', MAIN[source][0]))
    tgt = Config.fromfile(osp.join(REPO, 'configs', 'vld', MAIN[target][0]))
    assert cfg.model == src.model
    assert cfg.model.head.num_classes == MAIN[source][1]
    assert cfg.train_dataloader == src.train_dataloader
    assert cfg.test_dataloader.dataset == tgt.test_dataloader.dataset
    assert cfg.test_dataloader.dataset.split == 'test'
    assert cfg.test_evaluator == tgt.test_evaluator
    assert cfg.test_evaluator.protocol == MAIN[target][2]


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
    first = {}

    class KeepFirstHub(Hook):
        """The hub as the first iteration sees it (after weight init)."""

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            first.setdefault('hub', runner.model.backbone.hub.detach().clone())

    runner.register_hook(KeepFirstHub())
    runner.train()
    hub_at_start = first['hub']
    scalars = runner.message_hub.log_scalars
    for term in ('loss_id_cls', 'loss_wrt_cls', 'loss_v2t', 'loss_id_sta',
                 'loss_wrt_sta'):
        assert math.isfinite(scalars[f'train/{term}'].current()), term
    # Both directions evaluated on every test tracklet: 4 identities x 2
    # tracklets of the query modality, none dropped or skipped.
    for direction in ('ir2vis', 'vis2ir'):
        for count in ('num_queries', 'num_valid_queries'):
            key = f'val/test-monitor/{direction}/{count}'
            assert scalars[key].current() == 4 * 2, key
        assert 0 < scalars[f'val/test-monitor/{direction}/mAP'].current()
    ckpt = torch.load(
        osp.join(cfg.work_dir, 'iter_2.pth'),
        map_location='cpu',
        weights_only=False)
    hub = ckpt['state_dict']['backbone.hub']
    assert hub.shape == hub_at_start.shape
    assert not torch.equal(hub, hub_at_start), 'the hub was not trained'


def _transform_types(pipeline) -> list:
    """Every transform type of a pipeline, nested ones included."""
    types = []
    for step in pipeline:
        types.append(step['type'])
        types += _transform_types(step.get('transforms', []))
    return types


@pytest.mark.parametrize('name', [
    'vld_tiny_synthetic_hitszvcm', 'vld_tiny_synthetic_hitszvcm_no_stp',
    'vld_tiny_synthetic_hitszvcm_sth'
])
def test_tiny_twin_configs_keep_the_order_cue(name):
    """The tiny comparison's data: reversed temporal twins walking right
    across the crop (the first twin left to right, the second right to
    left), the same generator for every loader and for both configs, frame
    order kept by the samplers and no horizontal flip (it would swap the
    two twins of a pair)."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'vld', name + '.py'))
    vld = Config.fromfile(
        osp.join(REPO, 'configs', 'vld', 'vld_tiny_synthetic_hitszvcm.py'))
    generator = cfg.train_dataloader.dataset.generator
    assert generator.temporal_twins == 'reversed'
    assert (generator.walk_view, generator.walk_facing) == ('side', 1)
    assert 0 < generator.walk_drift <= 0.4
    for loader in ('val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.generator == generator
        assert cfg[loader].dataset.data_root == \
            cfg.train_dataloader.dataset.data_root
    assert generator == vld.train_dataloader.dataset.generator
    assert cfg.train_dataloader.dataset.pipeline == \
        vld.train_dataloader.dataset.pipeline
    train = cfg.train_dataloader.dataset.pipeline
    assert 'RandomFlip' not in _transform_types(train)
    assert train[0]['type'] == 'SampleFrames'
    assert train[0]['mode'] == 'chunk_random'
    assert cfg.test_dataloader.dataset.pipeline[0]['mode'] == 'chunk_first'


def test_tiny_comparison_rows_differ_only_in_hub_and_sta():
    """The three tiny rows (VLD, hub without STA, neither) share data,
    pipelines, optimiser and schedule; they differ only in the hub, the
    STA neck and the loss terms of Eq. 14 that need them."""
    rows = {
        'vld_tiny_synthetic_hitszvcm': (2, True, ALL),
        'vld_tiny_synthetic_hitszvcm_sth': (2, False, CLS_ONLY | {'v2t'}),
        'vld_tiny_synthetic_hitszvcm_no_stp': (None, False, CLS_ONLY | {'v2t'})
    }
    rest = {}
    for name, (start, sta, terms) in rows.items():
        cfg = Config.fromfile(osp.join(REPO, 'configs', 'vld', name + '.py'))
        model = cfg.model.to_dict()
        hub = model['backbone'].pop('hub')
        assert (hub and hub['start_layer']) == start, name
        if hub:
            assert hub['num_frames'] == cfg.num_frames
        necks = [n['type'] for n in model.pop('necks')]
        assert ('SpatialTemporalAggregation' in necks) == sta, name
        assert (model['head'].pop('sta_key') is not None) == sta, name
        assert set(model.pop('losses')) == terms, name
        rest[name] = (model, cfg.train_dataloader.to_dict(),
                      cfg.test_dataloader.to_dict(),
                      cfg.optim_wrapper.to_dict(), cfg.param_scheduler,
                      cfg.train_cfg.to_dict())
    first = rest.pop('vld_tiny_synthetic_hitszvcm')
    for name, other in rest.items():
        assert other == first, name


# ------------------------------------------------------------ ablations
ABLATION_DIR = osp.join(REPO, 'configs', 'vld', 'ablations')
ALL = {'id_cls', 'wrt_cls', 'v2t', 'id_sta', 'wrt_sta'}
CLS_ONLY = {'id_cls', 'wrt_cls'}
MAIN_TEMPLATE = 'A {tokens} person observed in both day and night conditions.'
# suffix: (table row, hub start layer or None, STA, IMLP, loss terms,
# template)
ABLATIONS = {
    't3a_baseline': ('III B', None, False, False, CLS_ONLY, None),
    't3b_imlp': ('III B+IMLP = IV TAP = V row 1', None, False, True,
                 CLS_ONLY | {'v2t'}, MAIN_TEMPLATE),
    't3c_stp': ('III B+STP', 9, True, False, ALL - {'v2t'}, None),
    't4b_conv1d':
    ('IV Conv1D', None, False, True, CLS_ONLY | {'v2t'}, MAIN_TEMPLATE),
    't4c_transf':
    ('IV Transf', None, False, True, CLS_ONLY | {'v2t'}, MAIN_TEMPLATE),
    't4d_transf_cls':
    ('IV Transf_cls', None, False, True, CLS_ONLY | {'v2t'}, MAIN_TEMPLATE),
    't5b_sth':
    ('V B+IMLP+STH', 9, False, True, CLS_ONLY | {'v2t'}, MAIN_TEMPLATE),
    **{
        f't6_start{k}': (f'VI start {k}', k, True, True, ALL, MAIN_TEMPLATE)
        for k in range(11) if k != 9
    },
    't7a_template1': ('VII template 1', 9, True, True, ALL,
                      '{tokens} person.'),
    't7b_template2': ('VII template 2', 9, True, True, ALL,
                      'A {tokens} person.'),
    't7c_template3':
    ('VII template 3', 9, True, True, ALL,
     'A {tokens} person observed in RGB and infrared sequences.'),
}
# Table IV: the neck that writes seq_proj_cls (TemporalPooling elsewhere)
TEMPORAL_FUSION = {
    't4b_conv1d': 'TemporalConv1D',
    't4c_transf': 'TemporalTransformer',
    't4d_transf_cls': 'TemporalTransformer',
}

# Table IV parameters of the temporal fusion at the CLIP projection width
# (512): the paper's +0.04 / +18.91 / +18.96 M (configs/vld/README.md)
TEMPORAL_PARAMS = {
    't4b_conv1d': 512 * 3,
    't4c_transf': 6 * 3_152_384 + 6 * 512,
    't4d_transf_cls': 6 * 3_152_384 + 1024 + 512 + 7 * 512,
}


@pytest.mark.parametrize('suffix', sorted(TEMPORAL_PARAMS))
def test_temporal_fusion_parameters(suffix):
    cfg = Config.fromfile(
        osp.join(ABLATION_DIR, f'vld_vitb16_hitszvcm_{suffix}.py'))
    (neck, ) = [
        n for n in cfg.model.necks if n.type == TEMPORAL_FUSION[suffix]
    ]
    assert neck.embed_dims == 512 and neck.num_frames == 6
    module = MODELS.build(neck)
    count = sum(p.numel() for p in module.parameters() if p.requires_grad)
    assert count == TEMPORAL_PARAMS[suffix]


def test_every_ablation_config_has_a_table_entry():
    found = {
        osp.basename(p)[len('vld_vitb16_hitszvcm_'):-len('.py')]
        for p in glob.glob(osp.join(ABLATION_DIR, '*.py'))
    }
    assert found == set(ABLATIONS)


def _tiny(model_cfg: dict) -> dict:
    """The same components on clip-tiny (width 128, 4 blocks) at 32x16,
    T = 6; hub start layers beyond the last tiny block (3) become 3."""
    model_cfg = copy.deepcopy(model_cfg)
    backbone = model_cfg['backbone']
    backbone.update(arch='clip-tiny', img_size=(32, 16), pretrained=None)
    if backbone.get('hub'):
        backbone['hub']['start_layer'] = min(backbone['hub']['start_layer'], 3)
    if model_cfg.get('text_encoder'):
        model_cfg['text_encoder'].update(arch='clip-tiny', pretrained=None)
    for neck in model_cfg['necks']:
        if neck['type'] == 'IdentityPrompt':
            neck.update(num_ids=2, token_dims=128, embed_dims=128)
        if neck['type'] == 'SpatialTemporalAggregation':
            neck.update(embed_dims=128, num_heads=2)
        if neck['type'] == 'TemporalConv1D':
            neck.update(embed_dims=128)
        if neck['type'] == 'TemporalTransformer':
            neck.update(embed_dims=128, num_heads=2, num_layers=2)
    model_cfg['head'].update(in_channels=128, num_classes=2)
    return model_cfg


@pytest.mark.parametrize('suffix', sorted(ABLATIONS))
def test_ablation_is_its_table_row(suffix):
    """Built (tiny) and trained one step: hub, STA, IMLP, the loss terms
    and the template are exactly the row's."""
    import torch

    from mmreid_text.structures import ReIDDataSample
    row, start, sta, imlp, terms, template = ABLATIONS[suffix]
    cfg = Config.fromfile(
        osp.join(ABLATION_DIR, f'vld_vitb16_hitszvcm_{suffix}.py'))
    hub = cfg.model.backbone.get('hub')
    assert (hub.start_layer if hub else None) == start, row
    types = [n.type for n in cfg.model.necks]
    assert ('SpatialTemporalAggregation' in types) == sta, row
    assert ('IdentityPrompt' in types) == imlp, row
    assert (cfg.model.text_encoder is not None) == imlp, row
    assert set(cfg.model.losses) == terms, row
    assert (cfg.model.head.sta_key is not None) == sta, row
    if imlp:
        (fusion, ) = [
            n.type for n in cfg.model.necks
            if 'seq_proj_cls' in n.get('out_keys', (n.get('out_key'), ))
        ]
        assert fusion == TEMPORAL_FUSION.get(suffix, 'TemporalPooling'), row
        (prompt, ) = [n for n in cfg.model.necks if n.type == 'IdentityPrompt']
        assert prompt.template == template, row
    torch.manual_seed(0)
    model = MODELS.build(_tiny(cfg.model.to_dict()))
    samples = [
        ReIDDataSample(
            metainfo=dict(
                pid=p, camid=0, modality=m, modalities=(m, ), num_frames=6))
        for p, m in [(0, 'vis'), (0, 'ir'), (1, 'vis'), (1, 'ir')]
    ]
    losses = model.loss(torch.randn(4, 1, 6, 3, 32, 16), samples)
    assert set(losses) == {f'loss_{t}' for t in terms}, row
    sum(losses.values()).backward()
    model.eval()
    with torch.no_grad():
        out = model.predict(torch.randn(4, 1, 6, 3, 32, 16), samples)
    assert out[0].pred_feature.shape == ((256 if sta else 128), )
