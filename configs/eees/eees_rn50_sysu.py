# Copyright (c) mmreid_text contributors. All rights reserved.
# EEES on SYSU-MM01 (Table 1): CLIP RN50 with two modality stems, 288x144,
# P = 8 ids x (4 visible + 4 infrared) images, Adam 3e-4 (text 1e-6), x0.1
# at epochs 40 and 70, 120 epochs, 395 training identities. One test run
# prints all-search / indoor-search x single- / multi-shot, mean +- std
# over 10 gallery trials.
_base_ = [
    '../_base_/models/eees_rn50.py', '../_base_/datasets/sysu_mm01.py',
    '../_base_/schedules/eees_adam_step_120e.py',
    '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(img_size=_base_.img_size), head=dict(num_classes=395))
