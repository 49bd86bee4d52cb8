# Copyright (c) mmreid_text contributors. All rights reserved.
"""NEXT configs: the main configs are the paper (Sec. V-B and the DeMo
recipe, configs/next/README.md), the caption wiring, the chain's feature
contract, every ablation row changes exactly its fields and trains one
tiny step, and the tiny synthetic NEXT trains through the runner and is
evaluated with and without text."""
import copy
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmreid_text.captions.text import split_sentences
from mmreid_text.registry import MODELS
from mmreid_text.structures import ReIDDataSample
from mmreid_text.utils import register_all_modules
from .tiny_sizes import shrink_sizes

register_all_modules()

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NEXT_DIR = osp.join(REPO, 'configs', 'next')
CHAIN = [
    'SampledCaptionEncoder', 'TextModulatedSemanticExperts',
    'ContextSharedStructureExperts', 'MultiGrainedFeatureAggregation'
]
# dataset: (config, identities, (H, W), batch, instances, epochs, warm-up,
#           training caption file, on_missing)
MAIN = {
    'rgbnt201': ('RGBNT201', 171, (256, 128), 64, 8, 50, 10,
                 'data/RGBNT201/captions/train_171.json', 'error'),
    'marketmm': ('MarketMM', 751, (256, 128), 64, 4, 50, 10,
                 'data/Market1501-MM/captions/train.json', 'error'),
    'msvr310': ('MSVR310', 155, (128, 256), 64, 4, 50, 10,
                'data/MSVR310/captions/bounding_box_train.json', 'error'),
    'rgbnt100': ('RGBNT100', 50, (128, 256), 128, 16, 30, 5,
                 'data/RGBNT100/captions/bounding_box_train.json', 'error'),
    'wmveid863': ('WMVEID863', 603, (128, 256), 64, 4, 50, 10,
                  'data/WMVEID863/captions/train.json', 'empty'),
}


def _cfg(rel: str) -> Config:
    return Config.fromfile(osp.join(NEXT_DIR, rel))


def _neck(cfg, name):
    (neck, ) = [n for n in cfg.model.necks if n.type == name]
    return neck


def _step(pipeline, name):
    found = [t for t in pipeline if t['type'] == name]
    return found[0] if found else None


def test_every_dataset_has_a_main_config():
    names = {osp.basename(p) for p in glob.glob(osp.join(NEXT_DIR, '*.py'))}
    assert {f'next_vitb16_{d}.py' for d in MAIN} <= names


@pytest.mark.parametrize('name', sorted(MAIN))
def test_main_config_is_the_paper(name):
    (dataset, ids, size, batch, instances, epochs, warmup, caption_file,
     on_missing) = MAIN[name]
    cfg = _cfg(f'next_vitb16_{name}.py')
    model = cfg.model
    assert cfg.train_dataloader.dataset.type == dataset
    assert tuple(cfg.img_size) == size == tuple(model.backbone.img_size)
    assert model.head.num_classes == ids
    # Sec. V-B: Adam 3.5e-4, weight decay 1e-4, momentum 0.9; the CLIP
    # visual branch trainable (DeMo's 5e-6), the text encoder frozen
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type == 'Adam' and optimizer.lr == 3.5e-4
    assert optimizer.weight_decay == 1e-4 and optimizer.betas[0] == 0.9
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys == {
        'backbone': dict(lr_mult=5e-6 / 3.5e-4)
    }
    assert model.text_encoder.frozen is True
    assert model.text_encoder.arch == model.backbone.arch == 'ViT-B-16'
    assert model.backbone.share_weights is True
    # DeMo's schedule: warm-up from 0.1 x lr, cosine to 1e-3 x lr
    assert cfg.train_cfg.max_epochs == epochs
    warm, cosine = cfg.param_scheduler
    assert (warm.type, warm.start_factor, warm.end) == ('LinearLR', 0.1,
                                                        warmup)
    assert (cosine.type, cosine.begin, cosine.end,
            cosine.T_max) == ('CosineAnnealingLR', warmup, epochs,
                              epochs - warmup)
    assert cosine.eta_min_ratio == 1e-3
    assert cfg.train_dataloader.batch_size == batch
    assert cfg.train_dataloader.sampler.num_instances == instances
    # the chain (Fig. 3) and its defaults
    assert [n.type for n in model.necks] == CHAIN
    text, tmse, csse, mgfa = model.necks
    assert text.num_experts == tmse.num_experts == 3
    assert csse.num_experts == 3
    assert text.keep_prob == 0.75 and text.test_text is True
    assert text.sample_at_test is False
    assert (tmse.threshold_mode, tmse.router_sharing) == ('dynamic',
                                                          'modality')
    assert tmse.dropout == csse.dropout == 0.1  # Eq. 1
    assert (csse.router_sharing, csse.routing) == ('shared', 'token')
    assert tuple(mgfa.expert_keys) == ('next_semantic', 'next_structure')
    assert tuple(mgfa.get('modality_token_keys', ())) == ()
    assert (model.head.type, model.head.in_key,
            model.head.fuse) == ('BNNeckHead', 'next_identity', 'concat')
    # Eq. 12: L_id + L_tri, weights 1
    assert {
        k: v.weight
        for k, v in model.losses.items()
    } == dict(
        id=1.0, triplet=1.0)
    # Fig. 6 statistics logged with the losses
    hooks = [h for h in cfg.custom_hooks if h.type == 'ExpertStatsHook']
    assert len(hooks) == 1
    assert hooks[0].interval == cfg.default_hooks.logger.interval
    assert any(h.type == 'EpochSeedHook' for h in cfg.custom_hooks)
    # captions: the config variables, in both pipelines
    assert cfg.train_caption_file == caption_file
    assert cfg.test_caption_file == osp.dirname(caption_file) + '/test.json'
    assert cfg.caption_on_missing == on_missing
    for loader, file in (('train_dataloader', cfg.train_caption_file),
                         ('val_dataloader', cfg.test_caption_file),
                         ('test_dataloader', cfg.test_caption_file)):
        pipeline = cfg[loader].dataset.pipeline
        load = _step(pipeline, 'LoadCaptions')
        assert load is not None, loader
        assert load.caption_file == file
        assert load.attach_sentences is True
        assert load.on_missing == on_missing
        assert load.get('sentence_keep_prob') is None  # sampled per expert
        assert [t['type'] for t in pipeline].index('LoadCaptions') == 1
        pack = pipeline[-1]
        assert pack['type'] == 'PackReIDInputs'
        assert 'caption_sentences' in pack.meta_keys
        from mmreid_text.datasets.transforms.formatting import PackReIDInputs
        assert set(PackReIDInputs.DEFAULT_META_KEYS) <= set(pack.meta_keys)


# ---------------------------------------------------------------- tiny
TINY = dict(
    embed_dims=128,
    in_channels=128,
    num_heads=2,
    token_dims=128,
    ffn_dims=64,
    hidden_dims=16)


def tiny_model_cfg(model_cfg: dict) -> dict:
    """The same components on clip-tiny (width 128, patch 8) at 32x16:
    4 x 2 = 8 patch tokens per modality."""
    model_cfg = copy.deepcopy(model_cfg)
    model_cfg['backbone'].update(
        arch='clip-tiny', img_size=(32, 16), pretrained=None)
    if model_cfg.get('text_encoder'):
        model_cfg['text_encoder'].update(arch='clip-tiny', pretrained=None)
    shrink_sizes(model_cfg.get('necks', []), TINY)
    shrink_sizes(model_cfg['head'], TINY)
    return model_cfg


TEXTS = [
    'A man in a red coat. He wears black trousers. He carries a bag.',
    'A woman seen from the side. She has long hair. She wears a hat.',
]


def tiny_batch(with_captions=True):
    samples = []
    for index in range(4):
        pid = index // 2
        meta = dict(pid=pid, camid=index % 2, modalities=('rgb', 'nir', 'tir'))
        if with_captions:
            meta['captions'] = {m: TEXTS[pid] for m in meta['modalities']}
            meta['caption_sentences'] = {
                m: split_sentences(TEXTS[pid])
                for m in meta['modalities']
            }
        samples.append(ReIDDataSample(metainfo=meta))
    return torch.randn(4, 3, 3, 32, 16), samples


def test_main_chain_contract_builds_and_trains_tiny():
    """The main chain on clip-tiny: the declared feature keys check at
    build, one step updates every learnable part, the frozen text encoder
    stays frozen, retrieval is 3 x 128 with and without text."""
    cfg = _cfg('next_vitb16_rgbnt201.py')
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(cfg.model.to_dict()))
    assert model.feature_check.checked
    inputs, samples = tiny_batch()
    model.train()
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_id', 'loss_triplet'}
    sum(losses.values()).backward()
    learnable = [(n, p) for n, p in model.named_parameters()
                 if p.requires_grad]
    missing = [n for n, p in learnable if p.grad is None]
    assert not missing, missing
    assert not any(p.requires_grad for p in model.text_encoder.parameters())
    model.eval()
    with torch.no_grad():
        with_text = torch.stack(
            [s.pred_feature for s in model.predict(inputs, samples)])
        model.necks[0].test_text = False
        without = torch.stack([
            s.pred_feature for s in model.predict(inputs,
                                                  tiny_batch(False)[1])
        ])
    assert with_text.shape == without.shape == (4, 3 * 128)
    assert not torch.allclose(with_text, without)


# ----------------------------------------------------------- ablations
ABLATION_DIR = osp.join(NEXT_DIR, 'ablations')
NO_TEXT = ('ContextSharedStructureExperts', 'MultiGrainedFeatureAggregation')
# suffix: (base dataset, neck types, {(neck type | 'head' | 'text_encoder',
#          field): value} changed w.r.t. the main config, captions read in
#          (train, test))
ABLATIONS = {}
for _ds in ('rgbnt201', 'msvr310'):
    ABLATIONS.update({
        f'{_ds}_t4a_baseline': (_ds, [], {
            ('head', 'in_key'): 'proj_cls',
            ('text_encoder', None): None
        }, (False, False)),
        f'{_ds}_t4b_mgfa': (_ds, ['MultiGrainedFeatureAggregation'], {
            ('MultiGrainedFeatureAggregation', 'expert_keys'): (),
            ('MultiGrainedFeatureAggregation', 'modality_token_keys'):
            ('proj_tokens', ),
            ('text_encoder', None):
            None
        }, (False, False)),
        f'{_ds}_t4c_mgfa_tmse': (_ds, CHAIN[:2] + CHAIN[3:], {
            ('MultiGrainedFeatureAggregation', 'expert_keys'):
            ('next_semantic', )
        }, (True, True)),
    })
ABLATIONS.update({
    'rgbnt201_t6a_all_token': ('rgbnt201', CHAIN[1:], {
        ('TextModulatedSemanticExperts', 'threshold_mode'):
        'all',
        ('TextModulatedSemanticExperts', 'text_key'):
        None,
        ('text_encoder', None):
        None
    }, (False, False)),
    'rgbnt201_t6b_topk': ('rgbnt201', CHAIN, {
        ('TextModulatedSemanticExperts', 'threshold_mode'):
        'topk'
    }, (True, True)),
    'rgbnt201_t6c_fixed_sigma': ('rgbnt201', CHAIN, {
        ('TextModulatedSemanticExperts', 'threshold_mode'):
        'fixed'
    }, (True, True)),
    'rgbnt201_t7a_multi_multi': ('rgbnt201', CHAIN, {
        ('ContextSharedStructureExperts', 'router_sharing'):
        'modality'
    }, (True, True)),
    'rgbnt201_t7b_share_multi': ('rgbnt201', CHAIN, {
        ('TextModulatedSemanticExperts', 'router_sharing'):
        'shared',
        ('ContextSharedStructureExperts', 'router_sharing'):
        'modality'
    }, (True, True)),
    'rgbnt201_t7c_share_share': ('rgbnt201', CHAIN, {
        ('TextModulatedSemanticExperts', 'router_sharing'):
        'shared'
    }, (True, True)),
    'rgbnt201_f6_p060': ('rgbnt201', CHAIN, {
        ('SampledCaptionEncoder', 'keep_prob'): 0.6
    }, (True, True)),
    'rgbnt201_f6_p090': ('rgbnt201', CHAIN, {
        ('SampledCaptionEncoder', 'keep_prob'): 0.9
    }, (True, True)),
    'rgbnt201_t8_wo_text': ('rgbnt201', CHAIN, {
        ('SampledCaptionEncoder', 'test_text'): False
    }, (True, False)),
})
for _n in (1, 2, 4):
    ABLATIONS[f'rgbnt201_f8_nt{_n}'] = ('rgbnt201', CHAIN, {
        ('SampledCaptionEncoder', 'num_experts'):
        _n,
        ('TextModulatedSemanticExperts', 'num_experts'):
        _n
    }, (True, True))
    ABLATIONS[f'rgbnt201_f8_nc{_n}'] = ('rgbnt201', CHAIN, {
        ('ContextSharedStructureExperts', 'num_experts'):
        _n
    }, (True, True))


def _plain(value):
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _parts(model: dict) -> dict:
    """``{part: {field: value}}`` with necks keyed by their type."""
    parts = {n['type']: _plain(n) for n in model.get('necks', [])}
    for key in ('backbone', 'head', 'losses', 'data_preprocessor'):
        parts[key] = _plain(model[key])
    parts['text_encoder'] = _plain(model.get('text_encoder'))
    return parts


def _changes(main: dict, row: dict) -> dict:
    """``{(part, field): value}`` of the row that differ from the main
    config, for parts both have (``(part, None)`` for a part set to None).
    """
    out = {}
    for part, fields in row.items():
        if part not in main:
            continue
        if fields is None or main[part] is None:
            if fields != main[part]:
                out[(part, None)] = fields
            continue
        for key in set(fields) | set(main[part]):
            if fields.get(key, 'MISSING') != main[part].get(key, 'MISSING'):
                out[(part, key)] = fields.get(key, 'MISSING')
    return out


#: configs of ablations/ that change the schedule, not the model
SCHEDULE_VARIANTS = ('rgbnt201_s2_lr_as_written', )


def test_every_ablation_config_has_a_table_entry():
    found = {
        osp.basename(p)[len('next_vitb16_'):-len('.py')]
        for p in glob.glob(osp.join(ABLATION_DIR, '*.py'))
    }
    assert found == set(ABLATIONS) | set(SCHEDULE_VARIANTS)


def _group_lrs(cfg: Config) -> dict:
    """``{parameter name: lr}`` of the config's optimiser on the tiny
    model (mmengine's default constructor with its paramwise_cfg)."""
    from mmengine.optim import build_optim_wrapper
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(cfg.model.to_dict()))
    wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    lr_of = {}
    for group in wrapper.optimizer.param_groups:
        for param in group['params']:
            lr_of[id(param)] = group['lr']
    return {
        name: lr_of[id(p)]
        for name, p in model.named_parameters() if p.requires_grad
    }


def test_visual_encoder_rate_main_and_as_written():
    """S2: the main config trains the CLIP visual encoder at 5e-6 and every
    new module at 3.5e-4 (DeMo); the as-written variant trains all at
    3.5e-4. The frozen text encoder has no trainable parameter."""
    main = _group_lrs(_cfg('next_vitb16_rgbnt201.py'))
    assert not [n for n in main if n.startswith('text_encoder.')]
    backbone = {n: lr for n, lr in main.items() if n.startswith('backbone.')}
    rest = {n: lr for n, lr in main.items() if not n.startswith('backbone.')}
    assert backbone and rest
    assert all(lr == pytest.approx(5e-6) for lr in backbone.values())
    assert set(rest.values()) == {3.5e-4}
    assert any(n.startswith('necks.') for n in rest)
    variant = Config.fromfile(
        osp.join(ABLATION_DIR, 'next_vitb16_rgbnt201_s2_lr_as_written.py'))
    written = _group_lrs(variant)
    assert set(written) == set(main)
    assert set(written.values()) == {3.5e-4}
    main_cfg = _cfg('next_vitb16_rgbnt201.py').to_dict()
    main_cfg['optim_wrapper'].pop('paramwise_cfg')
    assert variant.to_dict() == dict(
        main_cfg,
        optim_wrapper=dict(main_cfg['optim_wrapper'], paramwise_cfg=dict()))


def _without(cfg: dict, keys) -> dict:
    return {k: v for k, v in cfg.items() if k not in keys}


@pytest.mark.parametrize('suffix', sorted(ABLATIONS))
def test_ablation_is_its_table_row(suffix):
    """The row changes exactly its fields (necks compared by type), keeps
    everything else of the main config (schedule, data, losses), reads
    captions only where it uses text, and builds tiny and trains one
    step."""
    dataset, types, fields, (train_text, test_text) = ABLATIONS[suffix]
    main = _cfg(f'next_vitb16_{dataset}.py')
    cfg = Config.fromfile(osp.join(ABLATION_DIR, f'next_vitb16_{suffix}.py'))
    assert [n.type for n in cfg.model.necks] == types
    assert _changes(_parts(main.model.to_dict()),
                    _parts(cfg.model.to_dict())) == fields
    for loader, uses in (('train_dataloader', train_text),
                         ('val_dataloader', test_text), ('test_dataloader',
                                                         test_text)):
        steps = cfg[loader].dataset.pipeline
        assert (_step(steps, 'LoadCaptions') is not None) == uses, loader
        main_steps = [
            t for t in main[loader].dataset.pipeline
            if uses or t['type'] != 'LoadCaptions'
        ]
        assert _plain(steps) == _plain(main_steps), loader
    rest = ('model', 'train_dataloader', 'val_dataloader', 'test_dataloader',
            'train_pipeline', 'test_pipeline')
    assert _without(cfg.to_dict(), rest) == _without(main.to_dict(), rest)

    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(cfg.model.to_dict()))
    inputs, samples = tiny_batch(with_captions=train_text)
    model.train()
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_id', 'loss_triplet'}
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in model.parameters()
               if p.requires_grad)
    for neck in model.necks:
        if hasattr(neck, 'experts'):
            expected = fields.get((type(neck).__name__, 'num_experts'), 3)
            assert len(neck.experts) == expected
    model.eval()
    with torch.no_grad():
        out = model.predict(inputs, tiny_batch(with_captions=test_text)[1])
    assert out[0].pred_feature.shape == (3 * 128, )


# ------------------------------------------------- tiny synthetic NEXT
def test_tiny_synthetic_next_trains_and_tests_with_and_without_text(
        tmp_path, monkeypatch):
    """Two iterations through the runner on synthetic RGBNT201 with the
    generator's captions (expert statistics logged), then the test split
    with text and, from the checkpoint, with the w/o-text config (whose
    test pipeline reads no caption)."""
    from mmreid_text.engine.runner import ReIDRunner

    # short relative paths: the runner formats the config with yapf, which
    # takes tens of seconds on long temporary-folder strings
    monkeypatch.chdir(tmp_path)
    data_root = 'syn/RGBNT201'
    generator = dict(
        seed=0,
        num_train_ids=4,
        num_test_ids=3,
        images_per_camera=1,
        img_size=(64, 32),
        progress=False)

    def prepare(name, work):
        cfg = _cfg(name)
        for loader, batch in (('train_dataloader', 8), ('val_dataloader', 16),
                              ('test_dataloader', 16)):
            cfg[loader].batch_size = batch
            cfg[loader].num_workers = 0
            cfg[loader].persistent_workers = False
            cfg[loader].dataset.data_root = data_root
            cfg[loader].dataset.generator = generator
            for step in cfg[loader].dataset.pipeline:
                if step['type'] == 'LoadCaptions':
                    step['caption_file'] = step['caption_file'].replace(
                        'data/synthetic/RGBNT201', data_root)
        cfg.model.head.num_classes = 4
        cfg.work_dir = work
        # no validation during training: the two runner.test() calls
        # below evaluate
        cfg.train_cfg = dict(
            type='IterBasedTrainLoop', max_iters=2, val_interval=100)
        cfg.param_scheduler = [
            dict(type='ConstantLR', factor=1.0, by_epoch=False)
        ]
        cfg.val_evaluator = dict(
            type='ReIDMetric', protocol='market', max_rank=5, ranks=(1, 5))
        cfg.test_evaluator = cfg.val_evaluator
        cfg.default_hooks.logger.interval = 1
        cfg.custom_hooks[-1].interval = 1
        cfg.default_hooks.checkpoint = dict(
            type='CheckpointHook', by_epoch=False, interval=2)
        cfg.visualizer = dict(type='UniversalVisualizer', vis_backends=[])
        return cfg

    cfg = prepare('next_tiny_synthetic_rgbnt201.py', 'work')
    runner = ReIDRunner.from_cfg(cfg)
    runner.train()
    scalars = runner.message_hub.log_scalars
    for term in ('loss_id', 'loss_triplet'):
        assert math.isfinite(scalars[f'train/{term}'].current()), term
    assert 'train/tmse/e1_rgb_tokens' in scalars, sorted(scalars)
    assert scalars['train/captions/text_tir'].current() == 1.0
    with_text = runner.test()
    assert any('mAP' in k for k in with_text), with_text
    checkpoint = osp.join(cfg.work_dir, 'iter_2.pth')
    assert osp.isfile(checkpoint)

    cfg = prepare('next_tiny_synthetic_rgbnt201_wo_text.py', 'wo_text')
    assert _step(cfg.test_dataloader.dataset.pipeline, 'LoadCaptions') is None
    cfg.load_from = checkpoint
    runner = ReIDRunner.from_cfg(cfg)
    without = runner.test()
    assert runner.model.necks[0].test_text is False
    assert set(without) == set(with_text)
    assert all(math.isfinite(v) for v in without.values())


# -------------------------------------------------------------- mixing
MIXING_DIR = osp.join(NEXT_DIR, 'mixing')


def _train_tiny(cfg, steps=3):
    """Build ``cfg.model`` tiny, take ``steps`` Adam steps; the model, the
    last losses and the parameters before training."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(cfg.model.to_dict()))
    assert model.feature_check.checked
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad], lr=1e-3)
    inputs, samples = tiny_batch()
    model.train()
    for _ in range(steps):
        losses = model.loss(inputs, samples)
        assert all(math.isfinite(float(v.detach())) for v in losses.values())
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        out = model.predict(inputs, samples)
    assert out[0].pred_feature.shape == (3 * 128, )
    return model, losses, before


def _changed(model, before, prefix):
    return any(not torch.equal(p.detach(), before[n])
               for n, p in model.named_parameters() if n.startswith(prefix))


def test_mixing_deep_dsp_prompts_with_next_experts():
    """DEEP's DSP prompts (SupCon with the class tokens) in front of NEXT's
    experts; every part learns, the text encoder stays frozen."""
    cfg = Config.fromfile(
        osp.join(MIXING_DIR, 'next_vitb16_rgbnt201_deep_dsp.py'))
    assert [n.type
            for n in cfg.model.necks] == ['SpectralInversionPrompt'] + CHAIN
    assert _plain(cfg.model.losses.supcon.inputs) == ('proj_cls', 'text',
                                                      'labels')
    model, losses, before = _train_tiny(cfg)
    assert set(losses) == {'loss_id', 'loss_triplet', 'loss_supcon'}
    for prefix in ('backbone.', 'necks.0.', 'necks.2.', 'necks.3.', 'necks.4.',
                   'head.'):
        assert _changed(model, before, prefix), prefix
    assert not _changed(model, before, 'text_encoder.')


def test_mixing_deep_sgsf_in_front_of_mgfa():
    """SGSF's fused class tokens (not the raw ones) are MGFA's query, and
    every part learns."""
    cfg = Config.fromfile(
        osp.join(MIXING_DIR, 'next_vitb16_rgbnt201_deep_sgsf.py'))
    assert [n.type for n in cfg.model.necks
            ] == CHAIN[:3] + ['SemanticGuidedSpectralFusion', CHAIN[3]]
    model, losses, before = _train_tiny(cfg)
    assert set(losses) == {'loss_id', 'loss_triplet'}
    for prefix in ('backbone.', 'necks.1.', 'necks.2.', 'necks.3.', 'necks.4.',
                   'head.'):
        assert _changed(model, before, prefix), prefix
    seen = {}
    mgfa = model.necks[4]
    original = mgfa.expert_features

    def record(query, experts):
        seen['query'] = query
        return original(query, experts)

    mgfa.expert_features = record
    inputs, samples = tiny_batch()
    with torch.no_grad():
        feats = model.extract_feat(inputs, samples)
    assert seen['query'] is feats['fused']
    assert not torch.equal(feats['fused'], feats['proj_cls'])


def test_every_mixing_config_is_tested():
    found = {osp.basename(p) for p in glob.glob(osp.join(MIXING_DIR, '*.py'))}
    assert found == {
        'next_vitb16_rgbnt201_deep_dsp.py', 'next_vitb16_rgbnt201_deep_sgsf.py'
    }
