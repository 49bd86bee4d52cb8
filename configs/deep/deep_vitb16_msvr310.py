# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP on MSVR310 (Table IV): vehicles at 128x256 (H x W, Sec. IV-B), the
# class word "vehicle" in the prompt, 155 training identities.
_base_ = [
    '../_base_/models/deep_vitb16.py', '../_base_/datasets/msvr310.py',
    '../_base_/schedules/adam_60e.py', '../_base_/default_runtime.py'
]
num_patches = (_base_.img_size[0] // 16) * (_base_.img_size[1] // 16)  # 8x16
model = dict(
    backbone=dict(img_size=_base_.img_size),
    necks=[
        dict(_base_.model.necks[0], class_name='vehicle'),
        _base_.model.necks[1],
        dict(_base_.model.necks[2], num_patches=num_patches),
    ],
    head=dict(num_classes=155))
