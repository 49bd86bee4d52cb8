# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT Table IV (a): the triple-stream CLIP baseline (no MGFA, TMSE, CSSE,
# no text) with NEXT's ID + triplet losses and schedule; ranking on
# cat(proj_cls) (1536-d).
_base_ = ['../next_vitb16_msvr310.py']
model = dict(text_encoder=None, necks=[], head=dict(in_key='proj_cls'))
# No text: the pipelines drop LoadCaptions (no caption file is read).
train_dataloader = dict(
    dataset=dict(pipeline=[
        t for t in _base_.train_pipeline if t['type'] != 'LoadCaptions'
    ]))
val_dataloader = dict(
    dataset=dict(pipeline=[
        t for t in _base_.test_pipeline if t['type'] != 'LoadCaptions'
    ]))
test_dataloader = val_dataloader
