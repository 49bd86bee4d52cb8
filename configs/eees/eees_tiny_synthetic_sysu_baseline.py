# Copyright (c) mmreid_text contributors. All rights reserved.
# The tiny EEES model without ESE, CVSC and CMSP (Table 3 "Baseline"): the
# same two-stem tiny CLIP ResNet, data and schedule, trained with L_id +
# 0.25 L_wrt only; the text side is not built.
_base_ = ['./eees_tiny_synthetic_sysu.py']
model = dict(
    text_encoder=None,
    necks=[_base_.model.necks[0]],  # GeMPooling only
    losses=dict(
        _delete_=True, id=_base_.model.losses.id, wrt=_base_.model.losses.wrt))
# no text is read: the pipeline loads no captions (no caption file needed)
train_dataloader = dict(
    dataset=dict(pipeline=[
        t for t in _base_.train_dataloader.dataset.pipeline
        if t['type'] != 'LoadCaptions'
    ]))
