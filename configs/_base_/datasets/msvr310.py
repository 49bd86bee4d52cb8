# Copyright (c) mmreid_text contributors. All rights reserved.
# MSVR310 (vehicle, RGB/NIR/TIR; <vid>/{vis,ni,th}/ folders, query3).
# Layout: docs/datasets_multispectral.md. Vehicles use 128x256 (H x W) as in
# DEEP Sec. IV-B. Evaluation ignores same-pid same-scene gallery entries.
dataset_type = 'MSVR310'
data_root = 'data/MSVR310'
img_size = (128, 256)  # (H, W); the pipelines below derive from it

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

train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='IdentityBalancedSampler', num_instances=4),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='ReIDMetric', protocol='msvr310')
test_evaluator = val_evaluator
