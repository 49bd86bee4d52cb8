# Copyright (c) mmreid_text contributors. All rights reserved.
"""ReIDModel checks the feature-dict chain at build time, and every
component's declared keys equal what its forward pass reads and writes."""
import copy
import itertools
import os.path as osp
import sys

import pytest
import torch
from torch import nn

from mmreid_text.analysis.complexity import make_data_samples
from mmreid_text.analysis.model_flow import trace_model_flow
from mmreid_text.models.necks import SemanticGuidedSpectralFusion
from mmreid_text.models.utils import tiny_clip_arch
from mmreid_text.models.utils.feature_contract import (FeatureContractError,
                                                       get_feature_keys)
from mmreid_text.registry import MODELS
from mmreid_text.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
register_all_modules()

ARCH = tiny_clip_arch('vit')
E = ARCH['embed_dim']  # = text width
WIDTH = ARCH['vision_cfg']['width']
PATCH = ARCH['vision_cfg']['patch_size']
IMG = (64, 32)
GRID = (IMG[0] // PATCH, IMG[1] // PATCH)
N = GRID[0] * GRID[1]

PROMPT = dict(
    type='SpectralInversionPrompt',
    embed_dims=E,
    token_dims=E,
    num_spectral_tokens=2,
    inversion=dict(hidden_dims=E),
    trim_context=True)
SGSF = dict(
    type='SemanticGuidedSpectralFusion',
    embed_dims=E,
    num_heads=2,
    ffn_dims=2 * E)
SSE = dict(
    type='SpectralSemanticEmbedding',
    embed_dims=E,
    num_heads=2,
    ffn_dims=2 * E,
    num_layers=1,
    num_patches=N)


def deep_cfg(**overrides):
    """A tiny DEEP model config (prompt -> SGSF -> SSE -> DEEPHead)."""
    cfg = dict(
        type='ReIDModel',
        backbone=dict(
            type='CLIPVisionBackbone',
            arch=tiny_clip_arch('vit'),
            img_size=IMG),
        text_encoder=dict(
            type='TextEncoder', arch=tiny_clip_arch('vit'), frozen=True),
        necks=[PROMPT, SGSF, SSE],
        head=dict(
            type='DEEPHead', in_key='embedded', in_channels=E, num_classes=4),
        losses=dict(
            id=dict(type='CrossEntropyLoss', inputs=('logits', 'labels')),
            triplet=dict(
                type='TripletLoss',
                margin=0.3,
                inputs=('global_feat', 'labels')),
            supcon=dict(
                type='SupConLoss',
                weight=0.5,
                inputs=('fused', 'text', 'labels'))))
    cfg.update(overrides)
    return copy.deepcopy(cfg)


def batch(num=4, missing=()):
    inputs = torch.randn(num, 3, 3, *IMG)
    samples = make_data_samples(num, ('rgb', 'nir', 'tir'))
    for index, sample in enumerate(samples):
        sample.set_metainfo(
            dict(pid=index // 2, missing_modalities=tuple(missing)))
    return inputs, samples


# ------------------------------------------------------------ build check
TEST_MODULES = {}  # name -> class, registered for this file's tests only

# registered for this file's tests only (tests/test_models/conftest.py)
pytestmark = pytest.mark.usefixtures('test_modules')


def test_deep_chain_builds_and_records_the_check():
    model = MODELS.build(deep_cfg())
    report = model.feature_check
    assert report.checked
    assert report.available['fused'] == 'necks[1] SemanticGuidedSpectralFusion'
    assert report.available['text_mask'] == 'necks[0] SpectralInversionPrompt'
    assert report.available['logits'] == 'head DEEPHead'
    assert report.available['labels'] == 'ReIDModel'


VALID_ORDERS = {(0, 1, 2), (1, 0, 2)}  # prompt and SGSF both before SSE


@pytest.mark.parametrize(
    'order',
    [o for o in itertools.permutations(range(3)) if o not in VALID_ORDERS])
def test_reordered_deep_necks_fail_at_build(order):
    necks = [[PROMPT, SGSF, SSE][i] for i in order]
    with pytest.raises(FeatureContractError) as info:
        MODELS.build(deep_cfg(necks=necks))
    msg = str(info.value)
    position = order.index(2)
    assert msg.startswith(
        f'necks[{position}] SpectralSemanticEmbedding reads feats["')
    missing = 'fused' if order.index(1) > position else 'text'
    assert f'feats["{missing}"]' in msg
    assert 'which runs later: move it before' in msg


def test_swapping_prompt_and_sgsf_is_a_valid_order():
    MODELS.build(deep_cfg(necks=[SGSF, PROMPT, SSE]))


def test_neck_reading_unwritten_key_fails_naming_component_and_key():
    necks = [PROMPT, SGSF, dict(SSE, text_key='captions')]
    with pytest.raises(FeatureContractError) as info:
        MODELS.build(deep_cfg(necks=necks))
    msg = str(info.value)
    assert msg.startswith('necks[2] SpectralSemanticEmbedding reads '
                          'feats["captions"]')
    assert 'text, text_mask (necks[0] SpectralInversionPrompt)' in msg
    assert 'model.necks[2].text_key (now "captions")' in msg


def test_head_reading_text_without_a_prompt_fails():
    # DEEP Table VI (d) without text_key=None: nothing writes "text"
    cfg = deep_cfg(text_encoder=None, necks=[SGSF])
    cfg['head']['in_key'] = 'fused'
    cfg['losses'].pop('supcon')
    with pytest.raises(FeatureContractError) as info:
        MODELS.build(cfg)
    assert str(info.value).startswith('head DEEPHead reads feats["text"]')
    assert 'model.head.text_key' in str(info.value)
    cfg['head']['text_key'] = None
    MODELS.build(cfg)


def test_loss_input_not_produced_fails():
    cfg = deep_cfg()
    cfg['losses']['supcon']['inputs'] = ('fusd', 'text', 'labels')
    with pytest.raises(FeatureContractError) as info:
        MODELS.build(cfg)
    msg = str(info.value)
    assert msg.startswith('Loss "supcon" (SupConLoss) consumes "fusd"')
    assert "Did you mean ['fused']" in msg


def test_loss_may_consume_any_chain_key_and_training_outputs():
    cfg = deep_cfg()
    cfg['losses']['supcon']['inputs'] = ('embedded', 'embedded_text', 'labels')
    MODELS.build(cfg)


class UndeclaredNeck(nn.Module):
    """A plugin neck that declares nothing."""

    def forward(self, feats, data_samples=None):
        return dict(feats, plugin_feat=feats['proj_cls'] * 2)


TEST_MODULES['_ContractTestUndeclaredNeck'] = UndeclaredNeck


def test_plugin_component_without_declarations_builds_and_runs():
    necks = [dict(type='_ContractTestUndeclaredNeck'), PROMPT, SGSF, SSE]
    cfg = deep_cfg(necks=necks)
    # after the plugin nothing is checked: a neck reads the key only the
    # plugin writes, a loss consumes it
    cfg['necks'][2] = dict(SGSF, query_key='plugin_feat')
    cfg['losses']['supcon']['inputs'] = ('plugin_feat', 'text', 'labels')
    model = MODELS.build(cfg)
    assert not model.feature_check.checked
    assert model.feature_check.unknown_from == 'necks[0] UndeclaredNeck'
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_id', 'loss_triplet', 'loss_supcon'}


def test_example_plugin_head_builds_and_trains():
    sys.path.insert(0, osp.join(REPO, 'tests', 'data', 'plugin_pkg'))
    try:
        import my_reid_plugin  # noqa: F401
    finally:
        sys.path.pop(0)
    cfg = deep_cfg(
        head=dict(type='ModalityMeanCosineHead', in_channels=E, num_classes=4))
    model = MODELS.build(cfg)
    assert model.feature_check.unknown_from == 'head ModalityMeanCosineHead'
    inputs, samples = batch()
    assert torch.isfinite(model.loss(inputs, samples)['loss_id'])


# ------------------------------------- declarations == forward behaviour
def assert_declarations_match(model, mode='loss', missing=()):
    inputs, samples = batch(missing=missing)
    flow = trace_model_flow(model, inputs, samples, mode=mode)
    assert flow.mismatches() == []
    for comp in flow.components:
        keys = comp.declared
        assert keys is not None, comp.position
        writes = set(keys.writes)
        if mode == 'loss':
            writes |= set(keys.train_writes)
        assert set(comp.writes) == writes, comp.position
        assert set(keys.reads) <= set(comp.reads), comp.position
    return flow


@pytest.mark.parametrize('mode', ['loss', 'predict'])
def test_deep_declarations_equal_forward(mode):
    flow = assert_declarations_match(MODELS.build(deep_cfg()), mode)
    head = flow.components[-1]
    assert ('logits' in head.writes) == (mode == 'loss')
    assert head.writes['retrieval'] == f'[4, {6 * E}]'
    sse = flow.components[3]
    assert sse.reads == {
        'fused': f'[4, 3, {E}]',
        'proj_tokens': f'[4, 3, {N}, {E}]',
        'text': f'[4, 3, {E}]',
        'text_mask': '[4, 3]'
    }
    if mode == 'loss':
        assert [loss.name
                for loss in flow.losses] == ['id', 'triplet', 'supcon']
        assert flow.losses[2].inputs == {
            'fused': f'[4, 3, {E}]',
            'text': f'[4, 3, {E}]',
            'labels': '[4]'
        }
    else:
        assert flow.losses == []


def test_declarations_equal_forward_under_missing_modalities():
    assert_declarations_match(MODELS.build(deep_cfg()), missing=('nir', ))


@pytest.mark.parametrize(
    'fusion', [
        dict(type='LinearWeightFusion', embed_dims=E),
        dict(type='ConvFusion', embed_dims=E, kernel_size=3),
    ],
    ids=['linear_weight', 'conv'])
def test_simple_fusions_declarations_equal_forward(fusion):
    model = MODELS.build(deep_cfg(necks=[PROMPT, fusion, SSE]))
    flow = assert_declarations_match(model)
    if fusion['type'] == 'ConvFusion':
        assert flow.components[2].reads['grid'] == str(GRID)


@pytest.mark.parametrize('mode', ['no_refine', 'mean_pool'])
def test_sse_modes_and_prompt_variants_declarations_equal_forward(mode):
    necks = [
        dict(PROMPT, spectral_prompt='inverted', content_prompt='learnable'),
        SGSF,
        dict(SSE, mode=mode, out_key='f_tilde', out_text_key='p_tilde'),
    ]
    cfg = deep_cfg(necks=necks)
    cfg['head']['in_key'] = 'f_tilde'
    flow = assert_declarations_match(MODELS.build(cfg))
    # renamed outputs: the declaration follows the key arguments
    assert {'f_tilde', 'p_tilde', 'structure_attention',
            'patch_order'} == set(flow.components[3].writes)


def test_baseline_heads_and_backbone_options_declarations_equal_forward():
    cfg = dict(
        type='ReIDModel',
        backbone=dict(
            type='CLIPVisionBackbone',
            arch=tiny_clip_arch('vit'),
            img_size=IMG,
            out_layers=(0, )),
        head=dict(
            type='BNNeckHead',
            in_key='layer0_cls',
            in_channels=WIDTH,
            num_classes=4,
            fuse='per_modality'),
        losses=dict(
            id=dict(type='CrossEntropyLoss', inputs=('logits', 'labels'))))
    flow = assert_declarations_match(MODELS.build(cfg))
    assert flow.components[0].writes['layer0_cls'] == f'[4, 3, {WIDTH}]'
    assert flow.components[1].writes['logits'] == '3 x [4, 4]'


def test_resnet_backbone_declarations_equal_forward():
    cfg = dict(
        type='ReIDModel',
        backbone=dict(
            type='CLIPVisionBackbone',
            arch=tiny_clip_arch('resnet'),
            img_size=IMG),
        head=dict(
            type='BNNeckHead', in_key='proj_cls', in_channels=E,
            num_classes=4),
        losses=dict(
            id=dict(type='CrossEntropyLoss', inputs=('logits', 'labels'))))
    model = MODELS.build(cfg)
    assert 'proj_tokens' not in get_feature_keys(model.backbone).writes
    flow = assert_declarations_match(model)
    assert 'feature_map' in flow.components[0].writes


class DriftedFusion(SemanticGuidedSpectralFusion):
    """Declares a key its (inherited) forward does not write."""

    @property
    def writes(self):
        return ('other', )


TEST_MODULES['_ContractTestDriftedFusion'] = DriftedFusion


def test_a_drifted_declaration_is_detected():
    cfg = deep_cfg(
        necks=[PROMPT, dict(SGSF, type='_ContractTestDriftedFusion')])
    cfg['head']['in_key'] = 'other'
    cfg['losses'].pop('supcon')
    model = MODELS.build(cfg)  # the build trusts the declaration...
    inputs, samples = batch()
    with pytest.raises(KeyError):  # ...the forward does not
        model.loss(inputs, samples)
    cfg['head']['in_key'] = 'proj_cls'
    flow = trace_model_flow(MODELS.build(cfg), inputs, samples)
    assert flow.mismatches() == [
        "necks[1] DriftedFusion: declares writes ['other'] but wrote "
        "['fused']"
    ]
