# Copyright (c) mmreid_text contributors. All rights reserved.
# EEES's CVSC and CMSP on another method's model: the foundation
# triple-stream CLIP ViT-B/16 baseline on RGBNT201 (configs/baseline) plus
#   CaptionTextEncoder   the caption of every spectrum of a sample ->
#                        caption_text [B, 3, 512] (frozen text encoder)
#   CrossViewFusion      Eq. 6-7 over the samples of an identity (every
#                        sample holds all three spectra) -> *_mv
#   L_con^m (0.2) + L_kd (0.08)   CVSC, Eq. 8-11, per spectrum
#   L_cm.sp (0.01)                CMSP, Eq. 12, over every ordered pair of
#                                 spectra of a sample (RGB-NIR, RGB-TIR ...)
# Captions: the released NEXT RGBNT201 file imported with
# tools/captions/import_captions.py (docs/captions.md). The text encoder is
# frozen: the EEES text/visual lr ratio (1/300) at the baseline's 5e-6
# would be 1.7e-8.
_base_ = ['../../baseline/clip_vitb16_rgbnt201.py']
caption_file = 'data/RGBNT201/captions/train_171.json'
modalities = ('rgb', 'nir', 'tir')
model = dict(
    text_encoder=dict(
        type='TextEncoder',
        arch='ViT-B-16',
        pretrained='data/pretrained/ViT-B-16.pt',
        quick_gelu='auto',
        frozen=True),
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
