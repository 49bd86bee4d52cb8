# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP on Market-MM (Table II): 256x128 person, 751 training identities.
_base_ = [
    '../_base_/models/deep_vitb16.py', '../_base_/datasets/market_mm.py',
    '../_base_/schedules/adam_60e.py', '../_base_/default_runtime.py'
]
num_patches = (_base_.img_size[0] // 16) * (_base_.img_size[1] // 16)
model = dict(
    backbone=dict(img_size=_base_.img_size),
    necks=[
        *_base_.model.necks[:2],
        dict(_base_.model.necks[2], num_patches=num_patches),
    ],
    head=dict(num_classes=751))
