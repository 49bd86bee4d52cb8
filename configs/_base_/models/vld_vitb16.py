# Copyright (c) mmreid_text contributors. All rights reserved.
# VLD (Li et al., TIFS 2025) on CLIP ViT-B/16 at 288x144 with T frames per
# tracklet: one CLIP visual encoder shared by visible and infrared
# (trainable), the frozen CLIP text encoder, then
#   STH  CLIPVisionBackbone(hub=...)   T x T x 768 hub from block 9 (Eq. 6-8)
#   IMLP IdentityPrompt                "A [X]1..[X]4 person observed in both
#                                      day and night conditions." -> id_text
#   STA  SpatialTemporalAggregation    Eq. 10, shared ln_post -> 'sta'
#   TemporalPooling                    Eq. 2/9/11 -> seq_cls, seq_sta,
#                                      seq_proj_cls
#   head VLDHead                       BNNeck+ID on seq_cls and seq_sta;
#                                      retrieval = cat(seq_cls, seq_sta)
# Loss, Eq. 14 of the paper:
#   L_id^cls + L_wrt^cls + 0.08 L_v2t + 0.4 L_id^H + 1.0 L_wrt^H
# (the public code adds CE on the 512-d projection, WRT on the projection
# and WRT on the block-10 CLS; see configs/vld/README.md).
# T (frames per tracklet) and the number of training identities come from
# the dataset: each method config sets hub / STA / pooling num_frames from
# the dataset base's num_frames, and num_ids / num_classes (HITSZ-VCM 500,
# BUPTCampus 1074).
model = dict(
    type='ReIDModel',
    data_preprocessor=dict(
        type='ReIDDataPreprocessor',
        # ImageNet statistics on 0..255 pixels, as the public VLD code
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375]),
    backbone=dict(
        type='CLIPVisionBackbone',
        arch='ViT-B-16',
        img_size=(288, 144),
        pretrained='data/pretrained/ViT-B-16.pt',
        quick_gelu='auto',
        modalities=('vis', 'ir'),
        share_weights=True,
        hub=dict(start_layer=9, num_frames=6, init_std=1.0)),
    text_encoder=dict(
        type='TextEncoder',
        arch='ViT-B-16',
        pretrained='data/pretrained/ViT-B-16.pt',
        quick_gelu='auto',
        frozen=True),
    necks=[
        dict(
            type='IdentityPrompt',
            num_ids=500,
            num_tokens=4,
            template='A {tokens} person observed in both day and night '
            'conditions.',
            token_dims=512,
            embed_dims=512,
            init_std=0.02,
            out_key='id_text'),
        dict(
            type='SpatialTemporalAggregation',
            embed_dims=768,
            num_heads=12,
            num_frames=6,
            cls_key='cls_pre_ln',
            hub_key='hub_tokens',
            out_key='sta',
            norm='backbone'),
        dict(
            type='TemporalPooling',
            in_keys=('cls', 'sta', 'proj_cls'),
            out_keys=('seq_cls', 'seq_sta', 'seq_proj_cls'),
            num_frames=6),
    ],
    head=dict(
        type='VLDHead',
        in_channels=768,
        num_classes=500,
        num_modalities=1,
        cls_key='seq_cls',
        sta_key='seq_sta',
        bn_bias=True,
        retrieval_feat='pre_bn'),
    losses=dict(
        id_cls=dict(
            type='CrossEntropyLoss',
            weight=1.0,
            inputs=('cls_logits', 'labels')),
        wrt_cls=dict(
            type='WRTLoss', weight=1.0, inputs=('cls_feat', 'labels')),
        v2t=dict(
            type='VisualToTextLoss',
            similarity='dot',
            logit_scale=1.0,
            weight=0.08,
            inputs=('seq_proj_cls', 'id_text', 'labels')),
        id_sta=dict(
            type='CrossEntropyLoss',
            weight=0.4,
            inputs=('sta_logits', 'labels')),
        wrt_sta=dict(
            type='WRTLoss', weight=1.0, inputs=('sta_feat', 'labels'))))
