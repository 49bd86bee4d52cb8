# Copyright (c) mmreid_text contributors. All rights reserved.
# EEES (modality stems, ESE + CVSC + CMSP, Eq. 13 losses) on the tiny
# random-init CLIP ResNet (arch='clip-tiny-rn': ModifiedResNet width 16,
# one block per stage, text width 128, embed 128) and synthetic
# SYSU-MM01-layout images with per-image ground-truth descriptions
# (visible captions name colours, infrared ones do not; generated on first
# use). Trains on a 2-core CPU in minutes. Tiny-scale choices: 64x32
# images, P = 4 ids x (4 + 4) images, Adam 1e-3 for the random-init towers
# (text encoder x0.1), 40 epochs, x0.1 at 25 and 35.
_base_ = [
    '../_base_/models/eees_rn50.py', '../_base_/datasets/sysu_mm01.py',
    '../_base_/default_runtime.py'
]
data_root = 'data/synthetic/SYSU-MM01'
img_size = (64, 32)  # (H, W)
generator = dict(
    seed=0,
    img_size=img_size,
    num_train_ids=16,
    num_val_ids=4,
    num_test_ids=16,
    rgb_cameras_per_id=4,
    ir_cameras_per_id=2,
    images_per_camera=4)
num_ids = generator['num_train_ids']
caption_file = data_root + '/captions/train.json'

model = dict(
    backbone=dict(arch='clip-tiny-rn', img_size=img_size, pretrained=None),
    text_encoder=dict(arch='clip-tiny-rn', pretrained=None),
    head=dict(in_channels=512, num_classes=num_ids))  # width 16 x 32

train_pipeline = [
    dict(type='LoadMultiModalImages'),
    dict(type='LoadCaptions', caption_file=caption_file),
    dict(
        type='BroadcastToModalities',
        transforms=[
            dict(type='Resize', scale=img_size[::-1]),  # (W, H)
            dict(type='RandomCrop', crop_size=img_size, padding=4),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
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
train_dataloader = dict(
    batch_size=32,  # 4 ids x (4 visible + 4 infrared images)
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        type='SyntheticSYSUMM01',
        data_root=data_root,
        generator=generator,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(
        type='SyntheticSYSUMM01',
        data_root=data_root,
        generator=generator,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 40
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={'text_encoder': dict(lr_mult=0.1)}))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=3,
        convert_to_iter_based=True),
    dict(type='MultiStepLR', by_epoch=True, milestones=[25, 35], gamma=0.1),
]
# The val split is the synthetic TEST split: monitoring only, the reported
# result is the last epoch (docs/evaluation.md, "Model selection").
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=20)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=20, max_keep_ckpts=1))
