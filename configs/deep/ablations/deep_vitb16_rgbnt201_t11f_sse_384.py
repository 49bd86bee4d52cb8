# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table XI (f) / Table XII "DEEP#": 384x192 inputs (24x12 = 288
# patches), everything else as deep_vitb16_rgbnt201.py. A new img_size does
# not reach the inherited pipelines (they were computed from the base's
# size), so they are written again from it; tests/test_configs/
# test_config_sizes.py checks that pipelines, backbone and SSE agree.
_base_ = ['../deep_vitb16_rgbnt201.py']
img_size = (384, 192)  # (H, W)
num_patches = (img_size[0] // 16) * (img_size[1] // 16)
train_pipeline = [
    dict(type='LoadMultiModalImages'),
    dict(
        type='BroadcastToModalities',
        transforms=[
            dict(type='Resize', scale=img_size[::-1]),  # (W, H)
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='RandomCrop', crop_size=img_size, padding=10),
            dict(type='RandomErasing', erase_prob=0.5, mode='rand'),
        ]),
    dict(type='PackReIDInputs'),
]
test_pipeline = [
    dict(type='LoadMultiModalImages'),
    dict(
        type='BroadcastToModalities',
        transforms=[dict(type='Resize', scale=img_size[::-1])]),
    dict(type='PackReIDInputs'),
]
model = dict(
    backbone=dict(img_size=img_size),
    necks=[
        *_base_.model.necks[:2],
        dict(_base_.model.necks[2], num_patches=num_patches),
    ])
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
