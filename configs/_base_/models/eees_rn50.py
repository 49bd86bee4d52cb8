# Copyright (c) mmreid_text contributors. All rights reserved.
# EEES (Dong et al., AAAI) on CLIP ResNet-50 at 288x144: both CLIP towers
# are fine-tuned (visual 3e-4, text 1e-6: the schedule's custom_keys).
#   backbone CLIPVisionBackbone(RN50, modality_stems)  one CLIP stem per
#            modality (AGW's "two parallel first convolutional layers"),
#            layer1-4 and attnpool shared; layer4 stride 1 -> 2048x18x9
#   GeMPooling            feature_map -> gem [B, 1, 2048] (p learnable, 3)
#   CaptionTextEncoder    each image's own description -> caption_text
#                         [B, 1024] (training only)
#   CrossViewFusion       CVSC Eq. 6-7: proj_cls / caption_text averaged
#                         with M = 1 other view of the same identity and
#                         modality -> proj_cls_mv / caption_text_mv
#   head BNNeckHead       BN + ID classifier on gem; retrieval = post-BN
#                         gem (AGW's test feature; visual side only)
# Loss, Eq. 13 with lambda = 0.25, 0.2, 0.08, 0.01:
#   L_id + 0.25 L_wrt + 0.2 (L_con^o + L_con^m) + 0.08 L_kd + 0.01 L_cm.sp
# f_i (image side of ESE / CVSC / CMSP) = proj_cls, CLIP's attention-pool
# output in the joint space of the text features. Choices the paper leaves
# open: configs/eees/README.md. num_classes comes from the dataset config
# (SYSU-MM01 395, RegDB 206).
model = dict(
    type='ReIDModel',
    data_preprocessor=dict(
        type='ReIDDataPreprocessor',
        # ImageNet statistics on 0..255 pixels, as AGW / CSDN
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375]),
    backbone=dict(
        type='CLIPVisionBackbone',
        arch='RN50',
        img_size=(288, 144),
        pretrained='data/pretrained/RN50.pt',
        quick_gelu='auto',
        modalities=('vis', 'ir'),
        share_weights=True,
        modality_stems=True,
        last_stride=1),
    text_encoder=dict(
        type='TextEncoder',
        arch='RN50',
        pretrained='data/pretrained/RN50.pt',
        quick_gelu='auto',
        frozen=False),
    necks=[
        dict(type='GeMPooling', in_key='feature_map', out_key='gem', p=3.0),
        dict(type='CaptionTextEncoder', out_key='caption_text'),
        dict(
            type='CrossViewFusion',
            num_views=1,
            in_keys=('proj_cls', 'caption_text'),
            same_modality=True),
    ],
    head=dict(
        type='BNNeckHead',
        in_key='gem',
        in_channels=2048,
        num_modalities=1,
        num_classes=395,
        retrieval_feat='post_bn'),
    losses=dict(
        id=dict(
            type='CrossEntropyLoss', weight=1.0, inputs=('logits', 'labels')),
        wrt=dict(
            type='WRTLoss', weight=0.25, inputs=('global_feat', 'labels')),
        con_o=dict(
            type='ImageTextContrastiveLoss',
            temperature=0.01,
            similarity='cosine',
            positives='own',
            weight=0.2,
            inputs=('proj_cls', 'caption_text', 'labels',
                    'sample_modalities')),
        con_m=dict(
            type='ImageTextContrastiveLoss',
            temperature=0.01,
            similarity='cosine',
            positives='own',
            weight=0.2,
            inputs=('proj_cls_mv', 'caption_text_mv', 'labels',
                    'sample_modalities')),
        kd=dict(
            type='MultiViewDistillationLoss',
            detach='multi_view',
            weight=0.08,
            inputs=('proj_cls_mv', 'proj_cls', 'caption_text_mv',
                    'caption_text', 'sample_modalities')),
        cmsp=dict(
            type='CMSPLoss',
            normalize=False,
            weight=0.01,
            inputs=('proj_cls', 'caption_text', 'labels',
                    'sample_modalities'))),
    test_cfg=dict(flip=False))
