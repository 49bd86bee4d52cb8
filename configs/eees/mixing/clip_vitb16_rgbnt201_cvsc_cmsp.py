# Copyright (c) mmreid_text contributors. All rights reserved.
# EEES's CVSC and CMSP on another method's model: the foundation
# triple-stream CLIP ViT-B/16 baseline on RGBNT201 (configs/baseline) plus
# the parts of configs/_base_/models/eees_cvsc_cmsp_parts.py (the caption of
# every spectrum through the frozen text encoder, multi-view features,
# L_con^m + L_kd per spectrum, CMSP over every ordered pair of spectra).
# Captions: the released NEXT RGBNT201 file imported with
# tools/captions/import_captions.py (docs/captions.md). The text encoder is
# frozen: the EEES text/visual lr ratio (1/300) at the baseline's 5e-6
# would be 1.7e-8.
_base_ = [
    '../../baseline/clip_vitb16_rgbnt201.py',
    '../../_base_/models/eees_cvsc_cmsp_parts.py'
]
caption_file = 'data/RGBNT201/captions/train_171.json'
model = dict(
    text_encoder=dict(
        type='TextEncoder',
        arch='ViT-B-16',
        pretrained='data/pretrained/ViT-B-16.pt',
        quick_gelu='auto',
        frozen=True),
    necks=_base_.cvsc_cmsp_necks,
    losses=dict(**_base_.cvsc_cmsp_losses))
train_dataloader = dict(
    dataset=dict(pipeline=[
        _base_.train_pipeline[0],  # LoadMultiModalImages
        dict(type='LoadCaptions', caption_file=caption_file),
        *_base_.train_pipeline[1:],
    ]))
