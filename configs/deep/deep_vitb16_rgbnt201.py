# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP on RGBNT201 (Table I): 256x128, Adam 5e-6, wd 1e-4, 60 epochs,
# x0.1 at epochs 20 and 40 (Sec. IV-B). The backbone size and SSE's
# num_patches follow the dataset's img_size (ViT-B/16: 16x8 = 128 patches).
_base_ = [
    '../_base_/models/deep_vitb16.py', '../_base_/datasets/rgbnt201.py',
    '../_base_/schedules/adam_60e.py', '../_base_/default_runtime.py'
]
num_patches = (_base_.img_size[0] // 16) * (_base_.img_size[1] // 16)
model = dict(
    backbone=dict(img_size=_base_.img_size),
    necks=[
        *_base_.model.necks[:2],
        dict(_base_.model.necks[2], num_patches=num_patches),
    ],
    head=dict(num_classes=171))
