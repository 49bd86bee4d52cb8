# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT Table VI (a) All-Token: every semantic expert takes every patch token
# (no sampling routers, hence no text modulation and no text encoder).
_base_ = ['../next_vitb16_rgbnt201.py']
model = dict(
    text_encoder=None,
    necks=[
        dict(_base_.model.necks[1], threshold_mode='all', text_key=None),
        *_base_.model.necks[2:],
    ])
# No text: the pipelines drop LoadCaptions (no caption file is read).
train_dataloader = dict(
    dataset=dict(pipeline=[
        t for t in _base_.train_pipeline if t["type"] != "LoadCaptions"
    ]))
val_dataloader = dict(
    dataset=dict(pipeline=[
        t for t in _base_.test_pipeline if t["type"] != "LoadCaptions"
    ]))
test_dataloader = val_dataloader
