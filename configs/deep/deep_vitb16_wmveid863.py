# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP on WMVEID863 (Table V): vehicles at 128x256 (H x W, Sec. IV-B), the
# class word "vehicle" in the prompt, 603 training identities (863 in total,
# 260 for testing; no public file list confirms the split - DEEPHead stops
# with a clear message if the loader finds more identities).
_base_ = [
    '../_base_/models/deep_vitb16.py', '../_base_/datasets/wmveid863.py',
    '../_base_/schedules/adam_60e.py', '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(img_size=(128, 256)),
    necks=[
        dict(_base_.model.necks[0], class_name='vehicle'),
        *_base_.model.necks[1:],  # SGSF, SSE (8x16 = 128 patches)
    ],
    head=dict(num_classes=603))
