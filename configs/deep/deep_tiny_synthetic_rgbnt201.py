# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP (DSP + SGSF + SSE) on the demo's tiny random-init CLIP
# (arch='clip-tiny': ViT width 128, patch 8, text width 128) and synthetic
# RGBNT201-layout data; trains on a 2-core CPU in minutes. Data, image size,
# schedule and runtime come from the demo.
_base_ = ['../demo/clip_tiny_synthetic_rgbnt201.py']
embed_dims = 128  # clip-tiny: embed_dim = text width
num_patches = (_base_.img_size[0] // 8) * (_base_.img_size[1] // 8)  # patch 8
model = dict(
    _delete_=True,
    type='ReIDModel',
    data_preprocessor=dict(
        type='ReIDDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5]),
    backbone=dict(
        type='CLIPVisionBackbone',
        arch=_base_.model.backbone.arch,
        img_size=_base_.img_size,
        pretrained=None,
        modalities=('rgb', 'nir', 'tir'),
        share_weights=True),
    text_encoder=dict(
        type='TextEncoder',
        arch=_base_.model.backbone.arch,
        pretrained=None,
        frozen=True),
    necks=[
        dict(
            type='SpectralInversionPrompt',
            embed_dims=embed_dims,
            token_dims=embed_dims,
            class_name='person',
            num_spectral_tokens=4,
            inversion=dict(hidden_dims=embed_dims),
            trim_context=True),
        dict(
            type='SemanticGuidedSpectralFusion',
            embed_dims=embed_dims,
            num_heads=4,
            ffn_dims=4 * embed_dims),
        dict(
            type='SpectralSemanticEmbedding',
            embed_dims=embed_dims,
            num_heads=4,
            ffn_dims=4 * embed_dims,
            num_layers=1,
            num_patches=num_patches),
    ],
    head=dict(
        type='DEEPHead',
        in_key='embedded',
        in_channels=embed_dims,
        num_classes=60,
        text_key='text'),
    losses=dict(
        id=dict(
            type='CrossEntropyLoss', weight=1.0, inputs=('logits', 'labels')),
        triplet=dict(
            type='TripletLoss',
            margin=0.3,
            weight=1.0,
            inputs=('global_feat', 'labels')),
        supcon=dict(
            type='SupConLoss',
            temperature=1.0,
            weight=0.5,
            inputs=('fused', 'text', 'labels'))))
