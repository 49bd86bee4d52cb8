# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP on RGBNT100 (Table IV): vehicles at 128x256 (H x W, Sec. IV-B), the
# class word "vehicle" in the prompt, 50 training identities.
_base_ = [
    '../_base_/models/deep_vitb16.py', '../_base_/datasets/rgbnt100.py',
    '../_base_/schedules/adam_60e.py', '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(img_size=(128, 256)),
    necks=[
        dict(_base_.model.necks[0], class_name='vehicle'),
        *_base_.model.necks[1:],  # SGSF, SSE (8x16 = 128 patches)
    ],
    head=dict(num_classes=50))
