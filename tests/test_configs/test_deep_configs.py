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
from .tiny_sizes import shrink_sizes

register_all_modules()

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEEP_CONFIGS = sorted(
    glob.glob(osp.join(REPO, 'configs', 'deep', '**', '*.py'), recursive=True))
IDS = [osp.relpath(p, osp.join(REPO, 'configs', 'deep')) for p in DEEP_CONFIGS]
# Documented in configs/deep/README.md ("Architecture fidelity").
DEEP_RGBNT201_LEARNABLE_PARAMS = 106_174_464
TINY = dict(  # clip-tiny: embed_dim = text width = 128, 64x32 / 8 = 8x4
    embed_dims=128,
    token_dims=128,
    in_channels=128,
    hidden_dims=16,
    ffn_dims=64,
    num_heads=2,
    num_patches=32)


def _necks_of_type(cfg, name):
    return [n for n in cfg.model.get('necks', []) if n.type == name]


def tiny_model_cfg(model_cfg: dict) -> dict:
    """The same components on the tiny random CLIP arch at 64x32."""
    model_cfg = copy.deepcopy(model_cfg)
    arch = tiny_clip_arch()
    model_cfg['backbone'].update(arch=arch, img_size=(64, 32), pretrained=None)
    if model_cfg.get('text_encoder'):
        model_cfg['text_encoder'].update(arch=arch, pretrained=None)
    shrink_sizes(model_cfg.get('necks', []), TINY)
    shrink_sizes(model_cfg['head'], TINY)
    return model_cfg


def test_the_main_config_exists_and_all_datasets_are_covered():
    names = {osp.basename(p) for p in DEEP_CONFIGS}
    for dataset in ('rgbnt201', 'msvr310', 'rgbnt100', 'wmveid863',
                    'marketmm'):
        assert f'deep_vitb16_{dataset}.py' in names


def _config_modalities(cfg) -> tuple:
    """The spectra a config uses: its datasets' ``modalities`` (Table IX
    subsets) or, when unset, all of the benchmark's."""
    found = set()
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader].dataset
        stored = DATASETS.get(dataset.type).METAINFO['modalities']
        found.add(tuple(dataset.get('modalities') or stored))
    assert len(found) == 1, f'the dataloaders disagree: {found}'
    return found.pop()


@pytest.mark.parametrize('path', DEEP_CONFIGS, ids=IDS)
def test_config_is_consistent_with_its_dataset(path):
    cfg = Config.fromfile(path)
    dataset_type = cfg.train_dataloader.dataset.type
    dataset_cls = DATASETS.get(dataset_type)
    assert dataset_cls is not None, dataset_type
    metainfo = dataset_cls.METAINFO
    modalities = _config_modalities(cfg)
    backbone = cfg.model.backbone
    assert tuple(backbone.modalities) == modalities
    assert tuple(backbone.img_size) == tuple(cfg.img_size)
    for dsp in _necks_of_type(cfg, 'SpectralInversionPrompt'):
        assert dsp.class_name == metainfo['classes'][0]
        assert tuple(dsp.get('modalities', ('rgb', 'nir', 'tir'))) == \
            modalities
    for neck in cfg.model.get('necks', []):
        if 'num_modalities' in neck or neck.type in (
                'SemanticGuidedSpectralFusion', 'SpectralSemanticEmbedding'):
            assert neck.get('num_modalities', 3) == len(modalities), neck.type
    head = cfg.model.head
    assert head.get('num_modalities', 3) == len(modalities)
    if head.type == 'DEEPHead':
        assert tuple(head.get('modalities', ('rgb', 'nir', 'tir'))) == \
            modalities
    # pipeline sizes and SSE num_patches: test_config_sizes.py (all configs)
    assert cfg.model.text_encoder is None or (cfg.model.text_encoder.frozen
                                              and cfg.model.text_encoder.arch
                                              == backbone.arch)


@pytest.mark.parametrize('path', DEEP_CONFIGS, ids=IDS)
def test_every_variant_trains_and_predicts_on_a_tiny_arch(path):
    cfg = Config.fromfile(path)
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(cfg.model.to_dict()))
    modalities = _config_modalities(cfg)
    inputs = torch.randn(4, len(modalities), 3, 64, 32)
    samples = [
        ReIDDataSample(metainfo=dict(pid=p, camid=0, modalities=modalities))
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
    width = len(modalities) * 128 * (2 if head.get('text_key') else 1)
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


# ------------------------------------------------ main config wiring
MAIN = osp.join(REPO, 'configs', 'deep', 'deep_vitb16_rgbnt201.py')


def _plain(value):
    """Lists -> tuples, recursively (config files mix both)."""
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def test_main_config_wiring_is_the_paper():
    """The DEEP pipeline of Fig. 2 / Eq. 15, field by field. Catches, e.g.,
    SupCon aligning the prompts with ``proj_cls`` (Table VIII (b)) instead
    of the fused ``f_hat`` (VIII (c), the paper's choice), SGSF residuals
    switched off, or SSE fed with another feature than SGSF's output."""
    model = Config.fromfile(MAIN).model
    assert [n.type for n in model.necks] == [
        'SpectralInversionPrompt', 'SemanticGuidedSpectralFusion',
        'SpectralSemanticEmbedding'
    ]
    dsp, sgsf, sse = model.necks
    assert (dsp.spectral_prompt, dsp.content_prompt) == ('learnable',
                                                         'inverted')
    assert dsp.in_key == 'proj_cls'
    assert (sgsf.query_key, sgsf.context_key,
            sgsf.out_key) == ('proj_cls', 'proj_tokens', 'fused')
    assert sgsf.residual is True
    assert sse.global_key == 'fused' and sse.out_key == 'embedded'
    assert sse.get('tokens_key', 'proj_tokens') == 'proj_tokens'
    assert sse.get('text_key', 'text') == 'text'
    assert (sse.mode, sse.num_layers, sse.share_layers,
            sse.pos_embed) == ('sse', 3, True, True)
    assert (model.head.type, model.head.in_key,
            model.head.text_key) == ('DEEPHead', 'embedded', 'text')
    losses = model.losses
    assert set(losses) == {'id', 'triplet', 'supcon'}
    assert _plain(losses.id.inputs) == ('logits', 'labels')
    assert _plain(losses.triplet.inputs) == ('global_feat', 'labels')
    assert losses.supcon.type == 'SupConLoss'
    assert _plain(losses.supcon.inputs) == ('fused', 'text', 'labels')
    assert losses.supcon.weight == 0.5  # lambda of Eq. 15


def _tiny_main_model():
    torch.manual_seed(0)
    return MODELS.build(tiny_model_cfg(Config.fromfile(MAIN).model.to_dict()))


def _tiny_batch():
    inputs = torch.randn(4, 3, 3, 64, 32)
    samples = [
        ReIDDataSample(
            metainfo=dict(pid=p, camid=0, modalities=('rgb', 'nir', 'tir')))
        for p in (0, 0, 1, 1)
    ]
    return inputs, samples


def _neck(model, name):
    (neck, ) = [n for n in model.necks if type(n).__name__ == name]
    return neck


def test_main_supcon_aligns_the_sgsf_output_with_the_prompts():
    """Behaviour of the built main model: the SupCon term receives exactly
    the tensor SGSF wrote (``f_hat``) and the prompts DSP wrote, and its
    value is ``0.5 * SupCon(f_hat, p)``. Catches ``inputs`` pointing at
    ``proj_cls``, ``embedded`` or any other feature."""
    model = _tiny_main_model().train()
    written = {}

    def keep(name, keys):

        def hook(module, args, output):
            written.update({k: output[k] for k in keys})

        return hook

    _neck(model, 'SemanticGuidedSpectralFusion').register_forward_hook(
        keep('sgsf', ('fused', 'proj_cls')))
    _neck(model, 'SpectralInversionPrompt').register_forward_hook(
        keep('dsp', ('text', )))
    (term, ) = [t for t in model.loss_terms if t.name == 'supcon']
    received = []
    original = term.loss.forward

    def record(*args):
        received.append(args)
        return original(*args)

    term.loss.forward = record
    inputs, samples = _tiny_batch()
    losses = model.loss(inputs, samples)
    (args, ) = received
    assert args[0] is written['fused']
    assert args[0] is not written['proj_cls']
    assert args[1] is written['text']
    assert args[2].tolist() == [0, 0, 1, 1]
    torch.testing.assert_close(
        losses['loss_supcon'],
        0.5 * original(written['fused'], written['text'], args[2]))


def test_main_sgsf_keeps_its_residuals():
    """Behaviour of the built main model's SGSF: with the cross-attention
    output projection and the FFN output layer zeroed, each residual block
    is ``x -> LN(x)``, so ``f_hat = LN(LN(LN(v)))`` of the global features;
    the literal Eq. 4 (``residual=False``) would give zeros instead."""
    model = _tiny_main_model().eval()
    sgsf = _neck(model, 'SemanticGuidedSpectralFusion')
    assert len(sgsf.blocks) == 3 and all(b.residual for b in sgsf.blocks)
    with torch.no_grad():
        for block in sgsf.blocks:
            block.attn.out_proj.weight.zero_()
            block.attn.out_proj.bias.zero_()
            block.ffn[3].weight.zero_()
            block.ffn[3].bias.zero_()
    inputs, samples = _tiny_batch()
    with torch.no_grad():
        feats = model.extract_feat(inputs, samples)
    expected = feats['proj_cls']
    for _ in range(3):
        expected = torch.nn.functional.layer_norm(expected,
                                                  expected.shape[-1:])
    torch.testing.assert_close(feats['fused'], expected)
    assert feats['fused'].abs().sum() > 0


# ------------------------------------- ablations differ as documented
MISSING = '<missing>'


def _typed_list(value):
    """A list of dicts whose ``type`` values are all different."""
    if not isinstance(value, (list, tuple)) or not value:
        return False
    types = [v.get('type') if isinstance(v, dict) else None for v in value]
    return None not in types and len(set(types)) == len(types)


def config_diff(main, other, path=''):
    """``{field: value in other}`` for every field that differs.

    Dicts are compared key by key (a key only in ``main`` maps to
    ``MISSING``); a dict whose ``type`` changed is one field. Lists of
    typed dicts (necks, pipelines) are matched by type, written
    ``path[Type]``; when the list of types differs, ``path`` maps to the
    new tuple of types. Other lists are compared by index when they hold
    dicts or lists, else as one value.
    """
    if isinstance(main, dict) and isinstance(
            other, dict) and main.get('type') == other.get('type'):
        out = {}
        for key in sorted(set(main) | set(other), key=str):
            sub = f'{path}.{key}' if path else str(key)
            out.update(
                config_diff(
                    main.get(key, MISSING), other.get(key, MISSING), sub))
        return out
    if _typed_list(main) and _typed_list(other):
        out = {}
        main_types = [v['type'] for v in main]
        other_types = [v['type'] for v in other]
        if main_types != other_types:
            out[path] = tuple(other_types)
        for value in other:
            sub = f'{path}[{value["type"]}]'
            if value['type'] in main_types:
                out.update(
                    config_diff(main[main_types.index(value['type'])], value,
                                sub))
            else:
                out[sub] = _plain(value)
        return out
    if (isinstance(main, (list, tuple)) and isinstance(other, (list, tuple))
            and len(main) == len(other)
            and any(isinstance(v, (dict, list, tuple)) for v in main)):
        out = {}
        for index, (a, b) in enumerate(zip(main, other)):
            out.update(config_diff(a, b, f'{path}.{index}'))
        return out
    if _plain(main) != _plain(other):
        return {path: _plain(other)}
    return {}


def _size_384():
    """Table XI (f): 384x192 inputs, a 24x12 = 288 patch grid."""
    diff = {
        'img_size': (384, 192),
        'num_patches': 288,
        'model.backbone.img_size': (384, 192),
        'model.necks[SpectralSemanticEmbedding].num_patches': 288,
    }
    resize = '[BroadcastToModalities].transforms[Resize].scale'
    crop = '[BroadcastToModalities].transforms[RandomCrop].crop_size'
    for pipeline in ('train_pipeline', 'train_dataloader.dataset.pipeline'):
        diff[pipeline + resize] = (192, 384)  # (W, H)
        diff[pipeline + crop] = (384, 192)
    for pipeline in ('test_pipeline', 'val_dataloader.dataset.pipeline',
                     'test_dataloader.dataset.pipeline'):
        diff[pipeline + resize] = (192, 384)
    return diff


DSP, SGSF, SSE = ('SpectralInversionPrompt', 'SemanticGuidedSpectralFusion',
                  'SpectralSemanticEmbedding')
NO_SUPCON = {'model.losses.supcon': MISSING}
ALIGN_SPEC = {'model.losses.supcon.inputs': ('proj_cls', 'text', 'labels')}
# One entry per config under configs/deep/ablations/: (table row of the DEEP
# paper, {field: value}) - exactly the fields configs/deep/README.md's
# ablation table says the row changes relative to deep_vitb16_rgbnt201.py.
ABLATIONS = {
    't6a_baseline': ('VI (a) baseline', {
        'model.text_encoder': None,
        'model.necks': (),
        'model.head.in_key': 'proj_cls',
        'model.head.text_key': None,
        **NO_SUPCON,
    }),
    't6b_dsp': ('VI (b) +DSP', {
        'model.necks': (DSP, ),
        'model.head.in_key': 'proj_cls',
        **ALIGN_SPEC,
    }),
    't6c_dsp_sse': ('VI (c) +DSP+SSE = X (a) No Fusion', {
        'model.necks': (DSP, SSE),
        f'model.necks[{SSE}].global_key': 'proj_cls',
        **ALIGN_SPEC,
    }),
    't6d_sgsf': ('VI (d) +SGSF', {
        'model.text_encoder': None,
        'model.necks': (SGSF, ),
        'model.head.in_key': 'fused',
        'model.head.text_key': None,
        **NO_SUPCON,
    }),
    't6e_dsp_sgsf': ('VI (e) +DSP+SGSF', {
        'model.necks': (DSP, SGSF),
        'model.head.in_key': 'fused',
    }),
    't7a_fixed_template': ('VII (a) fixed "A photo of a person."', {
        f'model.necks[{DSP}].spectral_prompt': 'none',
        f'model.necks[{DSP}].content_prompt': 'none',
    }),
    't7b_spectral_only': ('VII (b) p_spectra only', {
        f'model.necks[{DSP}].content_prompt': 'none',
    }),
    't7c_content_only': ('VII (c) p_content only', {
        f'model.necks[{DSP}].spectral_prompt': 'none',
    }),
    't7e_inv_inv': ('VII (e) Inv. spectra / Inv. content', {
        f'model.necks[{DSP}].spectral_prompt': 'inverted',
    }),
    't7f_ler_ler': ('VII (f) Ler. spectra / Ler. content', {
        f'model.necks[{DSP}].content_prompt': 'learnable',
    }),
    't7g_inv_ler': ('VII (g) Inv. spectra / Ler. content', {
        f'model.necks[{DSP}].spectral_prompt': 'inverted',
        f'model.necks[{DSP}].content_prompt': 'learnable',
    }),
    't8a_no_align': ('VIII (a) No Align', NO_SUPCON),
    't8b_align_spec': ('VIII (b) Align-Spec', ALIGN_SPEC),
    't10b_linear_weight': ('X (b) Linear Weight', {
        'model.necks': (DSP, 'LinearWeightFusion', SSE),
        'model.necks[LinearWeightFusion]': {
            'type': 'LinearWeightFusion',
            'embed_dims': 512
        },
    }),
    't10c_conv1x1': ('X (c) Conv 1x1', {
        'model.necks': (DSP, 'ConvFusion', SSE),
        'model.necks[ConvFusion]': {
            'type': 'ConvFusion',
            'embed_dims': 512,
            'kernel_size': 1
        },
    }),
    't10d_conv3x3': ('X (d) Conv 3x3', {
        'model.necks': (DSP, 'ConvFusion', SSE),
        'model.necks[ConvFusion]': {
            'type': 'ConvFusion',
            'embed_dims': 512,
            'kernel_size': 3
        },
    }),
    't11a_no_refine': ('XI (a) No Refine', {
        f'model.necks[{SSE}].mode': 'no_refine',
    }),
    't11b_no_rearrange': ('XI (b) No Rearrange', {
        f'model.necks[{SSE}].mode': 'no_rearrange',
    }),
    't11c_mean_pool': ('XI (c) Mean Pooling', {
        f'model.necks[{SSE}].mode': 'mean_pool',
    }),
    't11d_mean_pool_384': ('XI (d) Mean Pooling (384x192)', {
        f'model.necks[{SSE}].mode': 'mean_pool',
        **_size_384(),
    }),
    't11f_sse_384': ('XI (f) / XII SSE, DEEP (384x192)', _size_384()),
}
ABLATION_DIR = osp.join(REPO, 'configs', 'deep', 'ablations')
TABLE_IX = {  # suffix: (row, spectra) on both of the table's datasets
    't9a_rgb': ('IX (a) Only RGB', ('rgb', )),
    't9b_nir': ('IX (b) Only NIR', ('nir', )),
    't9c_tir': ('IX (c) Only TIR', ('tir', )),
    't9d_rgb_nir': ('IX (d) RGB + NIR', ('rgb', 'nir')),
    't9e_rgb_tir': ('IX (e) RGB + TIR', ('rgb', 'tir')),
    't9f_nir_tir': ('IX (f) NIR + TIR', ('nir', 'tir')),
}


def _subset_diff(spectra):
    """Table IX: the spectra named wherever the model or data has slots."""
    return {
        'modalities': spectra,
        'model.backbone.modalities': spectra,
        f'model.necks[{DSP}].modalities': spectra,
        f'model.necks[{SGSF}].num_modalities': len(spectra),
        f'model.necks[{SSE}].num_modalities': len(spectra),
        'model.head.num_modalities': len(spectra),
        'model.head.modalities': spectra,
        'train_dataloader.dataset.modalities': spectra,
        'val_dataloader.dataset.modalities': spectra,
        'test_dataloader.dataset.modalities': spectra,
    }


for _dataset in ('rgbnt201', 'msvr310'):
    for _suffix, (_row, _spectra) in TABLE_IX.items():
        ABLATIONS[f'{_dataset}_{_suffix}'] = (_row, _subset_diff(_spectra))
# the other tables are ablated on RGBNT201 only
ABLATIONS = {
    (k if k.startswith(('rgbnt201_', 'msvr310_')) else f'rgbnt201_{k}'): v
    for k, v in ABLATIONS.items()
}


def test_every_ablation_config_has_a_table_entry():
    found = {
        osp.basename(p)[len('deep_vitb16_'):-len('.py')]
        for p in glob.glob(osp.join(ABLATION_DIR, '*.py'))
    }
    assert found == set(ABLATIONS)


def test_config_diff_sees_every_kind_of_change():
    main = dict(
        a=1,
        b=dict(c=(1, 2)),
        necks=[dict(type='X', k=1), dict(type='Y')],
        gone=3)
    other = dict(
        a=1,
        b=dict(c=[1, 3]),
        necks=[dict(type='X', k=2), dict(type='Z', q=0)],
        new=4)
    assert config_diff(main, main) == {}
    assert config_diff(main, other) == {
        'b.c': (1, 3),
        'gone': MISSING,
        'new': 4,
        'necks': ('X', 'Z'),
        'necks[X].k': 2,
        'necks[Z]': dict(type='Z', q=0),
    }


@pytest.mark.parametrize('suffix', sorted(ABLATIONS))
def test_ablation_differs_from_the_main_config_exactly_as_its_row(suffix):
    """Adding, removing or changing any difference between an ablation and
    the main config (its own or one inherited from a changed main config)
    fails until ABLATIONS and configs/deep/README.md say so."""
    row, expected = ABLATIONS[suffix]
    dataset = suffix.split('_')[0]
    main = Config.fromfile(
        osp.join(REPO, 'configs', 'deep',
                 f'deep_vitb16_{dataset}.py')).to_dict()
    path = osp.join(ABLATION_DIR, f'deep_vitb16_{suffix}.py')
    diff = config_diff(main, Config.fromfile(path).to_dict())
    assert diff == expected, f'Table {row}'


def test_main_config_ships_the_paper_readings_of_its_switches():
    """Defaults whose meaning the DEEP README states: the paper-literal
    missing-spectrum protocol (blank input only, model unchanged), the
    retrieval feature normalised as a whole, Eq. 9's relative reading.
    Flipping any default in the code or the configs fails here."""
    model = _tiny_main_model()
    assert model.data_preprocessor.missing_mode == 'input'
    assert model.head.retrieval_norm == 'global'
    assert _neck(model, 'SpectralSemanticEmbedding').fusion_mode == 'relative'


# ------------------------------------------ Table IX: spectra subsets
TINY_DATA = dict(  # layout: (generator params, tiny (H, W))
    rgbnt201=('RGBNT201',
              dict(num_train_ids=2, num_test_ids=2,
                   images_per_camera=2), (64, 32)),
    msvr310=('MSVR310', dict(num_train_ids=3, num_test_ids=4,
                             num_query_ids=2), (32, 64)),
)


@pytest.fixture(scope='module')
def tiny_roots(tmp_path_factory):
    """Tiny synthetic RGBNT201 and MSVR310 folders in the real layouts."""
    from mmreid_text.synthetic import make_synthetic
    root = str(tmp_path_factory.mktemp('table_ix'))
    return {
        name: make_synthetic(layout, root, img_size=size,
                             **params)['dataset_dir']
        for name, (layout, params, size) in TINY_DATA.items()
    }


def _resized(pipeline, size):
    """The config's pipeline at a tiny ``(H, W)``."""
    pipeline = copy.deepcopy(pipeline)
    for step in pipeline:
        for t in [step] + list(step.get('transforms', [])):
            if t['type'] == 'Resize':
                t['scale'] = size[::-1]
            if t['type'] == 'RandomCrop':
                t.update(crop_size=size, padding=2)
    return pipeline


@pytest.mark.parametrize('dataset', sorted(TINY_DATA))
@pytest.mark.parametrize('suffix', sorted(TABLE_IX))
def test_table_ix_row_trains_two_iterations_on_its_spectra(
        tiny_roots, dataset, suffix):
    """The config's own dataset (real layout, tiny synthetic files) loads
    only the row's spectra, the model built from the config has one slot
    per spectrum, and two optimiser steps run through the data pipeline
    and change the weights; the retrieval feature has one block per
    spectrum and per prompt."""
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import OptimWrapper
    _, spectra = TABLE_IX[suffix]
    cfg = Config.fromfile(
        osp.join(ABLATION_DIR, f'deep_vitb16_{dataset}_{suffix}.py'))
    size = TINY_DATA[dataset][2]
    train_cfg = copy.deepcopy(cfg.train_dataloader.dataset.to_dict())
    train_cfg.update(
        data_root=tiny_roots[dataset],
        pipeline=_resized(train_cfg['pipeline'], size))
    train = DATASETS.build(train_cfg)
    assert train.metainfo['modalities'] == spectra
    model_cfg = tiny_model_cfg(cfg.model.to_dict())
    model_cfg['backbone']['img_size'] = size
    model_cfg['head']['num_classes'] = train.num_ids
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    assert model.backbone.modalities == spectra
    assert model.necks[0].modalities == spectra
    assert model.necks[1].num_modalities == len(spectra)
    assert len(model.necks[1].blocks) == len(spectra)
    assert model.necks[2].num_modalities == len(spectra)
    assert model.head.modalities == spectra

    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    before = copy.deepcopy(model.head.state_dict())
    batch = pseudo_collate([train[i] for i in range(min(8, len(train)))])
    assert tuple(batch['inputs'][0].shape) == (len(spectra), 3, *size)
    model.train()
    for _ in range(2):
        losses = model.train_step(batch, wrapper)
        assert set(losses) == {
            'loss', 'loss_id', 'loss_triplet', 'loss_supcon'
        }
        assert all(math.isfinite(v.item()) for v in losses.values())
    after = model.head.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)

    test_cfg = copy.deepcopy(cfg.test_dataloader.dataset.to_dict())
    test_cfg.update(
        data_root=tiny_roots[dataset],
        pipeline=_resized(test_cfg['pipeline'], size))
    test = DATASETS.build(test_cfg)
    model.eval()
    out = model.test_step(pseudo_collate([test[0], test[1]]))
    assert out[0].pred_feature.shape == (2 * len(spectra) * 128, )
    assert out[0].metainfo['modalities'] == spectra
