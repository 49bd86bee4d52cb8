# Copyright (c) mmreid_text contributors. All rights reserved.
# Table 3 "Baseline": the vision-only model (two modality stems, GeM, BN +
# ID classifier) trained with L_id + 0.25 L_wrt; no text side at all.
_base_ = ['../eees_rn50_sysu.py']
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
