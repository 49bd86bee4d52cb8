# Copyright (c) mmreid_text contributors. All rights reserved.
# The README's demo: a tiny CLIP-architecture triple-stream baseline trained
# from scratch on synthetic RGBNT201-layout data (generated on first use).
# Runs on a 2-core CPU in a few minutes.
_base_ = [
    '../_base_/models/clip_vitb16_triple_stream.py',
    '../_base_/datasets/rgbnt201.py', '../_base_/default_runtime.py'
]
data_root = 'data/synthetic/RGBNT201'
generator = dict(seed=0)
img_size = (64, 32)

# A small open_clip ViT (same architecture family as ViT-B/16), random init.
model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dim=128,
            vision_cfg=dict(image_size=64, layers=4, width=128, patch_size=8),
            text_cfg=dict(
                context_length=77,
                vocab_size=49408,
                width=128,
                heads=2,
                layers=2)),
        img_size=img_size,
        pretrained=None),
    head=dict(in_channels=128, num_classes=60))

train_pipeline = [
    dict(type='LoadMultiModalImages'),
    dict(
        type='BroadcastToModalities',
        transforms=[
            dict(type='Resize', scale=(32, 64)),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='RandomCrop', crop_size=(64, 32), padding=4),
            dict(type='RandomErasing', erase_prob=0.5, mode='rand'),
        ]),
    dict(type='PackReIDInputs'),
]
test_pipeline = [
    dict(type='LoadMultiModalImages'),
    dict(
        type='BroadcastToModalities',
        transforms=[dict(type='Resize', scale=(32, 64))]),
    dict(type='PackReIDInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(
        type='SyntheticRGBNT201',
        data_root=data_root,
        generator=generator,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(
        type='SyntheticRGBNT201',
        data_root=data_root,
        generator=generator,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=3e-4, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=3),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=3, T_max=27),
]
train_cfg = dict(by_epoch=True, max_epochs=30, val_interval=10)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=10, max_keep_ckpts=1, save_best='auto'))
