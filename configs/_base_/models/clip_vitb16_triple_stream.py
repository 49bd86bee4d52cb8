# Copyright (c) mmreid_text contributors. All rights reserved.
# Triple-stream CLIP ViT-B/16 baseline (DEEP Table VI (a), NEXT Table IV (a)):
# one CLIP visual encoder shared by RGB/NIR/TIR (share_weights=False gives
# three separate encoders), BNNeck on the concatenated projected CLS tokens,
# ID loss with label smoothing + batch-hard triplet loss.
model = dict(
    type='ReIDModel',
    data_preprocessor=dict(
        type='ReIDDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5]),
    backbone=dict(
        type='CLIPVisionBackbone',
        arch='ViT-B-16',
        # img_size: set by each method config from the dataset's img_size
        # OpenAI's ViT-B-16.pt (TorchScript), an open_clip state dict or a
        # .safetensors file; see docs/get_started.md.
        pretrained='data/pretrained/ViT-B-16.pt',
        quick_gelu='auto',
        modalities=('rgb', 'nir', 'tir'),
        share_weights=True),
    head=dict(
        type='BNNeckHead',
        in_key='proj_cls',
        in_channels=512,
        num_modalities=3,
        num_classes=171,
        fuse='concat',
        retrieval_feat='pre_bn'),
    losses=dict(
        id=dict(
            type='LabelSmoothLoss',
            label_smooth_val=0.1,
            mode='original',
            weight=1.0,
            inputs=('logits', 'labels')),
        triplet=dict(
            type='TripletLoss',
            margin=0.3,
            soft_margin=False,
            weight=1.0,
            inputs=('global_feat', 'labels'))))
