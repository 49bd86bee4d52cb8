# Copyright (c) mmreid_text contributors. All rights reserved.
"""The VLD model of configs/_base_/models/vld_vitb16.py, tiny: clip-tiny,
T = 3, a batch of 2 identities x 2 modalities."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmreid_text.analysis.model_flow import trace_model_flow
from mmreid_text.registry import MODELS
from mmreid_text.structures import ReIDDataSample
from mmreid_text.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', '_base_', 'models', 'vld_vitb16.py')
register_all_modules()
T, IMG, W = 3, (32, 16), 128  # clip-tiny: width = embed = text width 128


def tiny_vld_cfg(hub=True):
    model = copy.deepcopy(Config.fromfile(CONFIG).model)
    model.backbone.update(
        arch='clip-tiny',
        img_size=IMG,
        pretrained=None,
        hub=dict(start_layer=2, num_frames=T) if hub else None)
    model.text_encoder.update(arch='clip-tiny', pretrained=None)
    model.necks[0].update(num_ids=2, token_dims=W, embed_dims=W)
    model.necks[1].update(embed_dims=W, num_heads=2, num_frames=T)
    model.necks[2].update(num_frames=T)
    model.head.update(in_channels=W, num_classes=2)
    if not hub:  # baseline + IMLP (Table III): no hub, no STA
        del model.necks[1]
        model.necks[1].update(
            in_keys=('cls', 'proj_cls'), out_keys=('seq_cls', 'seq_proj_cls'))
        model.head.sta_key = None
        for name in ('id_sta', 'wrt_sta'):
            del model.losses[name]
    return model


def batch():
    torch.manual_seed(0)
    samples = [
        ReIDDataSample(
            metainfo=dict(
                pid=pid,
                camid=0,
                modality=mod,
                modalities=(mod, ),
                num_frames=T))
        for pid, mod in [(0, 'vis'), (0, 'ir'), (1, 'vis'), (1, 'ir')]
    ]
    return torch.randn(4, 1, T, 3, *IMG), samples


def test_config_is_the_paper_eq_14():
    cfg = Config.fromfile(CONFIG).model
    weights = {name: loss['weight'] for name, loss in cfg.losses.items()}
    assert weights == dict(
        id_cls=1.0, wrt_cls=1.0, v2t=0.08, id_sta=0.4, wrt_sta=1.0)
    assert cfg.backbone.hub == dict(start_layer=9, num_frames=6, init_std=1.0)
    assert cfg.backbone.img_size == (288, 144)


def test_tiny_vld_loss_backward_predict():
    model = MODELS.build(tiny_vld_cfg())
    assert model.feature_check.checked
    inputs, samples = batch()
    model.train()
    losses = model.loss(inputs, samples)
    assert set(losses) == {
        'loss_id_cls', 'loss_wrt_cls', 'loss_v2t', 'loss_id_sta',
        'loss_wrt_sta'
    }
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    grads = dict(
        hub=model.backbone.hub.grad,
        sta=model.necks[1].attn.in_proj_weight.grad,
        id_tokens=model.necks[0].id_tokens.grad,
        conv1=model.backbone.encoder.conv1.weight.grad,
        sta_classifier=model.head.necks['sta'].classifier.weight.grad)
    for name, grad in grads.items():
        assert grad is not None and float(grad.abs().sum()) > 0, name
    assert all(p.grad is None for p in model.text_encoder.parameters())
    model.eval()
    with torch.no_grad():
        predicted = model.predict(inputs, samples)
    assert predicted[0].pred_feature.shape == (2 * W, )


@pytest.mark.parametrize('mode', ['loss', 'predict'])
def test_tiny_vld_declarations_equal_forward(mode):
    model = MODELS.build(tiny_vld_cfg())
    inputs, samples = batch()
    flow = trace_model_flow(model, inputs, samples, mode=mode)
    assert flow.mismatches() == []
    for comp in flow.components:
        writes = set(comp.declared.writes)
        if mode == 'loss':
            writes |= set(comp.declared.train_writes)
        assert set(comp.writes) == writes, comp.position
    prompt = flow.components[1]
    assert ('id_text' in prompt.writes) == (mode == 'loss')


def test_tiny_baseline_without_hub_and_sta():
    model = MODELS.build(tiny_vld_cfg(hub=False))
    inputs, samples = batch()
    model.train()
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_id_cls', 'loss_wrt_cls', 'loss_v2t'}
    model.eval()
    with torch.no_grad():
        assert model.predict(inputs, samples)[0].pred_feature.shape == (W, )


def test_tiny_public_code_loss_variant():
    """The public VLD code's extra terms (CE + WRT on the 512-d projection,
    WRT on the block-10 CLS; here block 1 of 4) are expressible."""
    cfg = tiny_vld_cfg()
    cfg.backbone.out_layers = (1, )
    cfg.necks[2].update(
        in_keys=('cls', 'sta', 'proj_cls', 'layer1_cls'),
        out_keys=('seq_cls', 'seq_sta', 'seq_proj_cls', 'seq_layer1_cls'))
    cfg.head.update(proj_key='seq_proj_cls', proj_channels=W)
    cfg.losses.update(
        id_proj=dict(
            type='CrossEntropyLoss', inputs=('proj_logits', 'labels')),
        wrt_proj=dict(type='WRTLoss', inputs=('proj_feat', 'labels')),
        wrt_layer=dict(type='WRTLoss', inputs=('seq_layer1_cls', 'labels')))
    model = MODELS.build(cfg)
    inputs, samples = batch()
    model.train()
    losses = model.loss(inputs, samples)
    assert len(losses) == 8 and all(torch.isfinite(v) for v in losses.values())


def test_a_batch_of_one_modality_gives_the_same_losses():
    """Eq. 14 reads identities, never modalities: a batch that lacks a
    modality (a sampler other than CrossModalityIdentitySampler) trains as
    it is, with the same loss values as if its samples were labelled with
    both modalities; only the cross-modality sampler guarantees both."""
    model = MODELS.build(tiny_vld_cfg())
    model.train()
    inputs, samples = batch()
    torch.manual_seed(1)
    mixed = model.loss(inputs, samples)
    for sample in samples:
        sample.set_metainfo(dict(modality='vis', modalities=('vis', )))
    torch.manual_seed(1)
    visible_only = model.loss(inputs, samples)
    assert set(visible_only) == set(mixed)
    for name, value in mixed.items():
        assert torch.isfinite(visible_only[name]), name
        torch.testing.assert_close(visible_only[name], value, msg=name)
