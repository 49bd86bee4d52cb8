# Copyright (c) mmreid_text contributors. All rights reserved.
# VLD on BUPTCampus (Table II): as the HITSZ-VCM config, 1,074 training
# identities, BUPTCampus frame sampling (sorted random / uniform).
_base_ = [
    '../_base_/models/vld_vitb16.py', '../_base_/datasets/bupt_campus.py',
    '../_base_/schedules/vld_adamw_cosine_24x200.py',
    '../_base_/iter_runtime.py'
]
num_ids = 1074
model = dict(
    backbone=dict(
        img_size=_base_.img_size, hub=dict(num_frames=_base_.num_frames)),
    necks=[
        dict(_base_.model.necks[0], num_ids=num_ids),
        dict(_base_.model.necks[1], num_frames=_base_.num_frames),
        dict(_base_.model.necks[2], num_frames=_base_.num_frames),
    ],
    head=dict(num_classes=num_ids))
