# Copyright (c) mmreid_text contributors. All rights reserved.
# VLD (hub + STA + IMLP, Eq. 14 losses) on the tiny random-init CLIP
# (arch='clip-tiny': ViT width 128, 4 blocks, patch 8, text width 128) and
# synthetic HITSZ-VCM-layout tracklets (walking people, visible + NIR,
# generated on first use); trains on a 2-core CPU in minutes. Tiny-scale
# choices: 64x32 frames, T = 4, the hub from block 2 of 4 (the paper's 9
# of 12 leaves 3 hub blocks, here 2), AdamW 1e-3 (random init needs far
# more than the paper's 2.5e-5 fine-tuning rate; 3e-4 for 600 iterations
# stayed at chance), 1,000 iterations, temporal-twin tracklets (below).
_base_ = [
    '../_base_/models/vld_vitb16.py', '../_base_/datasets/hitsz_vcm.py',
    '../_base_/iter_runtime.py'
]
# Temporal twins (docs/synthetic_data.md): identities 2k-1 and 2k of each
# split look the same, 2k's tracklets are 2k-1's played backwards, so only
# a model that sees frame order (the hub + STA) can tell them apart; 24
# frames per tracklet (the real set's) so that T = 4 sampled frames span
# most of the walk. Every walk is a side view facing right whose body
# crosses the crop (walk_drift: 0.017 x 32 = 0.54 px per frame, 0.3 w to
# 0.7 w in 24 frames): the first twin of a pair walks to the right, the
# second backwards to the left, the same cue for every pair (the default
# 1-3 px drift and facing drawn per tracklet left the twins inseparable,
# configs/vld/README.md). Rendered at the training size (64x32): decoding
# and resizing 288x144 frames took a fifth of the iteration time.
data_root = 'data/synthetic_walk_twins/HITSZ-VCM'
img_size = (64, 32)  # (H, W)
generator = dict(
    seed=0,
    img_size=img_size,
    num_train_ids=16,
    num_test_ids=16,
    cameras_per_id=2,
    tracklets_per_modality=4,
    frames_per_tracklet=24,
    temporal_twins='reversed',
    walk_view='side',
    walk_facing=1,
    walk_drift=0.017)
num_frames = 4  # T
num_ids = generator['num_train_ids']
embed_dims = 128  # clip-tiny: width = embed_dim = text width

model = dict(
    backbone=dict(
        arch='clip-tiny',
        img_size=img_size,
        pretrained=None,
        hub=dict(start_layer=2, num_frames=num_frames)),
    text_encoder=dict(arch='clip-tiny', pretrained=None),
    necks=[
        dict(
            _base_.model.necks[0],
            num_ids=num_ids,
            token_dims=embed_dims,
            embed_dims=embed_dims),
        dict(
            _base_.model.necks[1],
            embed_dims=embed_dims,
            num_heads=2,
            num_frames=num_frames),
        dict(_base_.model.necks[2], num_frames=num_frames),
    ],
    head=dict(in_channels=embed_dims, num_classes=num_ids))

train_pipeline = [
    dict(type='SampleFrames', num_frames=num_frames, mode='chunk_random'),
    dict(type='LoadMultiModalImages'),
    dict(
        type='BroadcastToModalities',
        transforms=[
            dict(type='Resize', scale=img_size[::-1]),  # (W, H)
            dict(type='RandomCrop', crop_size=img_size, padding=4),
            # no horizontal flip: it swaps "walks right" and "walks left",
            # i.e. the two twins of a pair
            dict(type='ChannelRandomErasing', prob=0.5),
        ]),
    dict(type='ChannelExchange', gray=2, prob=0.5, modalities=('vis', )),
    dict(type='ChannelAdaptiveGray', gray_prob=0.5, modalities=('ir', )),
    dict(type='PackReIDInputs', video=True),
]
test_pipeline = [
    dict(type='SampleFrames', num_frames=num_frames, mode='chunk_first'),
    dict(type='LoadMultiModalImages'),
    dict(
        type='BroadcastToModalities',
        transforms=[dict(type='Resize', scale=img_size[::-1])]),
    dict(type='PackReIDInputs', video=True),
]
train_dataloader = dict(
    batch_size=16,  # 4 ids x (2 visible + 2 infrared tracklets)
    num_workers=2,
    persistent_workers=True,  # the loop restarts the loader every pass
    sampler=dict(type='CrossModalityIdentitySampler', num_instances=2),
    dataset=dict(
        type='SyntheticHITSZVCM',
        data_root=data_root,
        generator=generator,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(
        type='SyntheticHITSZVCM',
        data_root=data_root,
        generator=generator,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# 1,000 iterations (the earlier 1,500 did not fit six runs on the shared
# 2-core machine; on a pilot with generator seed 1, i.e. other identities
# than the reported seed-0 data, the hub model led the no-hub one at
# iteration 1,000 of 1,500); configs/vld/README.md, "Tiny synthetic run".
max_iters = 1000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'id_tokens': dict(lr_mult=25.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=100,
        end=max_iters,
        T_max=max_iters - 100,
        eta_min=3e-6),
]
# The val split is the synthetic TEST split: monitoring only, the reported
# result is the last iteration (docs/evaluation.md, "Model selection").
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=500)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=500, max_keep_ckpts=1))
