# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP on WMVEID863 (Table V): vehicles at 128x256 (H x W, Sec. IV-B), the
# class word "vehicle" in the prompt, 603 training identities (863 in total,
# 260 for testing; no public file list confirms the split - DEEPHead stops
# with a clear message if the loader finds more identities).
_base_ = [
    '../_base_/models/deep_vitb16.py', '../_base_/datasets/wmveid863.py',
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
    head=dict(num_classes=603))
