# Copyright (c) mmreid_text contributors. All rights reserved.
_base_ = [
    '../_base_/models/clip_vitb16_triple_stream.py',
    '../_base_/datasets/rgbnt201.py', '../_base_/schedules/adam_60e.py',
    '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(img_size=_base_.img_size), head=dict(num_classes=171))
