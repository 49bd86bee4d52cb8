# Copyright (c) mmreid_text contributors. All rights reserved.
"""A tiny NEXT (clip-tiny, 32x16 inputs: 8 patch tokens per modality)
assembled from the registered components: captions in the data samples,
two optimiser steps, with and without text at test, declared keys."""
import copy

import torch

from mmreid_text.analysis.model_flow import trace_model_flow
from mmreid_text.captions.text import split_sentences
from mmreid_text.registry import MODELS
from mmreid_text.structures import ReIDDataSample
from mmreid_text.utils import register_all_modules

register_all_modules()
IMG, W, MODS = (32, 16), 128, ('rgb', 'nir', 'tir')
TEXTS = [
    'A man in a red coat. He wears black trousers. He carries a bag.',
    'A woman seen from the side. She has long hair. She wears a hat.',
]


def tiny_next_cfg(**tmse):
    return dict(
        type='ReIDModel',
        backbone=dict(
            type='CLIPVisionBackbone',
            arch='clip-tiny',
            img_size=IMG,
            modalities=MODS),
        text_encoder=dict(type='TextEncoder', arch='clip-tiny'),
        necks=[
            dict(type='SampledCaptionEncoder', num_experts=3, modalities=MODS),
            dict(
                type='TextModulatedSemanticExperts',
                embed_dims=W,
                num_experts=3,
                modalities=MODS,
                **tmse),
            dict(
                type='ContextSharedStructureExperts',
                embed_dims=W,
                num_experts=3,
                modalities=MODS),
            dict(
                type='MultiGrainedFeatureAggregation',
                embed_dims=W,
                num_heads=2),
        ],
        head=dict(
            type='BNNeckHead',
            in_key='next_identity',
            in_channels=W,
            num_modalities=3,
            num_classes=2),
        losses=dict(
            id=dict(
                type='LabelSmoothLoss',
                label_smooth_val=0.1,
                mode='original',
                inputs=('logits', 'labels')),
            triplet=dict(
                type='TripletLoss',
                margin=0.3,
                inputs=('global_feat', 'labels'))))


def batch():
    torch.manual_seed(0)
    samples = []
    for index in range(4):
        pid = index // 2
        text = TEXTS[pid]
        samples.append(
            ReIDDataSample(
                metainfo=dict(
                    pid=pid,
                    camid=index % 2,
                    modalities=MODS,
                    captions={m: text
                              for m in MODS},
                    caption_sentences={m: split_sentences(text)
                                       for m in MODS})))
    return torch.randn(4, 3, 3, *IMG), samples


def test_tiny_next_trains_two_steps_and_predicts_with_and_without_text():
    torch.manual_seed(0)
    model = MODELS.build(tiny_next_cfg())
    assert model.feature_check.checked
    inputs, samples = batch()
    watched = {
        'backbone': model.backbone.encoder.conv1.weight,
        'tmse_router': model.necks[1].routers[0][0].route_mlp[0].weight,
        'tmse_modulation': model.necks[1].routers[2][1].modulation[0].weight,
        'tmse_expert': model.necks[1].experts[1].mlp[0].weight,
        'csse_router': model.necks[2].routers[0].weight,
        'mgfa': model.necks[3].blocks[0].attn.in_proj_weight,
        'classifier': model.head.necks[0].classifier.weight,
    }
    before = {k: v.detach().clone() for k, v in watched.items()}
    text_before = copy.deepcopy(model.text_encoder.state_dict())
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert not any(p.requires_grad for p in model.text_encoder.parameters())
    optimizer = torch.optim.Adam(trainable, lr=1e-3)
    model.train()
    for _ in range(2):
        losses = model.loss(inputs, samples)
        assert set(losses) == {'loss_id', 'loss_triplet'}
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
    for name, param in watched.items():
        assert not torch.equal(param.detach(), before[name]), name
    for key, value in model.text_encoder.state_dict().items():
        assert torch.equal(value, text_before[key]), key
    stats = model.necks[1].expert_stats_scalars()
    assert set(stats) >= {'e1_rgb_tokens', 'e3_tir_tokens', 'e2_nir_text'}
    assert all(0 <= stats[f'e{e}_{m}_tokens'] <= 8 for e in (1, 2, 3)
               for m in MODS)

    model.eval()
    with torch.no_grad():
        with_text = torch.stack(
            [s.pred_feature for s in model.predict(inputs, samples)])
        model.necks[0].test_text = False  # NEXT w/o Text (Table VIII)
        without = torch.stack(
            [s.pred_feature for s in model.predict(inputs, samples)])
    assert with_text.shape == (4, 3 * W)
    assert not torch.allclose(with_text, without)


def test_tiny_next_declarations_equal_forward():
    model = MODELS.build(tiny_next_cfg(grad_mode='sigmoid'))
    inputs, samples = batch()
    for mode in ('loss', 'predict'):
        flow = trace_model_flow(model, inputs, samples, mode=mode)
        assert flow.mismatches() == [], mode
        assert flow.components[2].writes['next_semantic'] == str(
            [4, 3, 3 * 8, W])


def test_tiny_next_ablation_switches_build_and_train():
    """Table VI Top-K, Table VII shared TMSE / modality CSSE routers,
    sample-level CSSE routing and per-expert MGFA blocks in one model."""
    cfg = tiny_next_cfg(
        threshold_mode='topk', router_sharing='shared', grad_mode='sigmoid')
    cfg['necks'][2].update(router_sharing='modality', routing='sample')
    cfg['necks'][3].update(share_blocks=False, num_experts=4)
    model = MODELS.build(cfg)
    inputs, samples = batch()
    model.train()
    sum(model.loss(inputs, samples).values()).backward()
    assert model.necks[1].routers[0][0].route_mlp[0].weight.grad is not None
    assert model.necks[2].routers[2].weight.grad is not None
    assert model.necks[3].blocks[3].attn.in_proj_weight.grad is not None
    stats = model.necks[1].expert_stats_scalars()
    assert stats['e2_nir_tokens'] == 4.0  # top 50 % of 8 tokens
