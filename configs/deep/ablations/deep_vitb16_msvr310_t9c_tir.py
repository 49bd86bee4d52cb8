# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table IX (c) Only TIR: the model is built for these spectra only (the
# data pipeline loads only them; DSP, SGSF, SSE and the head have one slot
# each), not zero-filled inputs. Row (g) is ../deep_vitb16_msvr310.py.
_base_ = ['../deep_vitb16_msvr310.py']
modalities = ('tir', )
model = dict(
    backbone=dict(modalities=modalities),
    necks=[
        dict(_base_.model.necks[0], modalities=modalities),
        dict(_base_.model.necks[1], num_modalities=len(modalities)),
        dict(_base_.model.necks[2], num_modalities=len(modalities)),
    ],
    head=dict(num_modalities=len(modalities), modalities=modalities))
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = dict(dataset=dict(modalities=modalities))
test_dataloader = val_dataloader
