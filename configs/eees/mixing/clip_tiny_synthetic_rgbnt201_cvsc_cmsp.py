# Copyright (c) mmreid_text contributors. All rights reserved.
# The mix of clip_vitb16_rgbnt201_cvsc_cmsp.py on the README demo: the tiny
# random-init CLIP baseline on synthetic RGBNT201-layout data, whose
# per-image ground-truth captions (written by the generator) feed CVSC
# (L_con^m, L_kd) and CMSP; trains on a CPU.
_base_ = [
    '../../demo/clip_tiny_synthetic_rgbnt201.py',
    '../../_base_/models/eees_cvsc_cmsp_parts.py'
]
caption_file = _base_.data_root + '/captions/train_171.json'
model = dict(
    text_encoder=dict(
        type='TextEncoder', arch='clip-tiny', pretrained=None, frozen=True),
    necks=_base_.cvsc_cmsp_necks,
    losses=dict(**_base_.cvsc_cmsp_losses))
train_dataloader = dict(
    dataset=dict(pipeline=[
        _base_.train_pipeline[0],  # LoadMultiModalImages
        dict(type='LoadCaptions', caption_file=caption_file),
        *_base_.train_pipeline[1:],
    ]))
