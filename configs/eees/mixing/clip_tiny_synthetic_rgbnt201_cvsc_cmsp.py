# Copyright (c) mmreid_text contributors. All rights reserved.
# The mix of clip_vitb16_rgbnt201_cvsc_cmsp.py on the README demo: the tiny
# random-init CLIP baseline on synthetic RGBNT201-layout data, whose
# per-image ground-truth captions (written by the generator) feed CVSC
# (L_con^m, L_kd) and CMSP; trains on a CPU.
_base_ = ['../../demo/clip_tiny_synthetic_rgbnt201.py']
caption_file = _base_.data_root + '/captions/train_171.json'
modalities = ('rgb', 'nir', 'tir')
model = dict(
    text_encoder=dict(
        type='TextEncoder', arch='clip-tiny', pretrained=None, frozen=True),
    necks=[
        dict(
            type='CaptionTextEncoder',
            out_key='caption_text',
            modalities=modalities),
        dict(
            type='CrossViewFusion',
            num_views=1,
            in_keys=('proj_cls', 'caption_text')),
    ],
    losses=dict(
        con_m=dict(
            type='ImageTextContrastiveLoss',
            temperature=0.01,
            similarity='cosine',
            positives='own',
            weight=0.2,
            inputs=('proj_cls_mv', 'caption_text_mv', 'labels')),
        kd=dict(
            type='MultiViewDistillationLoss',
            detach='multi_view',
            weight=0.08,
            inputs=('proj_cls_mv', 'proj_cls', 'caption_text_mv',
                    'caption_text')),
        cmsp=dict(
            type='CMSPLoss',
            normalize=False,
            weight=0.01,
            inputs=('proj_cls', 'caption_text', 'labels'))))
train_dataloader = dict(
    dataset=dict(pipeline=[
        _base_.train_pipeline[0],  # LoadMultiModalImages
        dict(type='LoadCaptions', caption_file=caption_file),
        *_base_.train_pipeline[1:],
    ]))
