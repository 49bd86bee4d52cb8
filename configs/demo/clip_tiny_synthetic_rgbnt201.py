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
img_size = (64, 32)  # (H, W); the pipelines and the backbone derive from it

# The tiny open_clip ViT shipped with mmreid_text (same architecture family
# as ViT-B/16; mmreid_text/models/utils/model_configs/clip-tiny.json: width
# 128, 4 blocks, patch 8, embed_dim 128, text width 128 / 2 blocks), random
# init.
model = dict(
    backbone=dict(arch='clip-tiny', img_size=img_size, pretrained=None),
    head=dict(in_channels=128, num_classes=60))  # clip-tiny's embed_dim

train_pipeline = [
    dict(type='LoadMultiModalImages'),
    dict(
        type='BroadcastToModalities',
        transforms=[
            dict(type='Resize', scale=img_size[::-1]),  # (W, H)
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='RandomCrop', crop_size=img_size, padding=4),
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
# The val split is the synthetic TEST split: evaluation every 10 epochs is
# test monitoring only, no checkpoint is selected on it (docs/evaluation.md,
# "Model selection"); the reported result is the last epoch.
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=10, max_keep_ckpts=1))
