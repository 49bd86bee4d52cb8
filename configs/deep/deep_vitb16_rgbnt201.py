# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP on RGBNT201 (Table I): 256x128, Adam 5e-6, wd 1e-4, 60 epochs,
# x0.1 at epochs 20 and 40 (Sec. IV-B).
_base_ = [
    '../_base_/models/deep_vitb16.py', '../_base_/datasets/rgbnt201.py',
    '../_base_/schedules/adam_60e.py', '../_base_/default_runtime.py'
]
model = dict(head=dict(num_classes=171))
