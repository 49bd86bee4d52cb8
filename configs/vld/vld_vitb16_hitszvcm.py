# Copyright (c) mmreid_text contributors. All rights reserved.
# VLD on HITSZ-VCM (Table I): 288x144, T = 6 frames, batch 2 modalities x
# 4 ids x 4 tracklets, AdamW 2.5e-5 (prompt tokens x25), cosine, 24 x 200
# iterations, 500 training identities. The hub, STA and temporal pooling
# take T from the dataset base (one value everywhere).
_base_ = [
    '../_base_/models/vld_vitb16.py', '../_base_/datasets/hitsz_vcm.py',
    '../_base_/schedules/vld_adamw_cosine_24x200.py',
    '../_base_/iter_runtime.py'
]
num_ids = 500
model = dict(
    backbone=dict(
        img_size=_base_.img_size, hub=dict(num_frames=_base_.num_frames)),
    necks=[
        dict(_base_.model.necks[0], num_ids=num_ids),
        dict(_base_.model.necks[1], num_frames=_base_.num_frames),
        dict(_base_.model.necks[2], num_frames=_base_.num_frames),
    ],
    head=dict(num_classes=num_ids))
