# Copyright (c) mmreid_text contributors. All rights reserved.
# HITSZ-VCM (video visible-infrared person ReID; info/*.txt + <pid>/{rgb,ir}/
# tracklets). Layout: docs/datasets.md; pipeline: docs/video_pipeline.md.
# T = num_frames is stated here once; the model configs derive the hub, STA
# and temporal pooling from it. 288x144 as VLD (Sec. IV-B).
dataset_type = 'HITSZVCM'
data_root = 'data/HITSZ-VCM'
img_size = (288, 144)  # (H, W)
num_frames = 6  # T, frames sampled per tracklet

train_pipeline = [
    # restricted random sampling: T chunks, one random frame of each
    dict(type='SampleFrames', num_frames=num_frames, mode='chunk_random'),
    dict(type='LoadMultiModalImages'),
    dict(
        type='BroadcastToModalities',  # one decision for all T frames
        transforms=[
            dict(type='Resize', scale=img_size[::-1]),  # (W, H)
            dict(type='RandomCrop', crop_size=img_size, padding=10),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='ChannelRandomErasing', prob=0.5),
        ]),
    dict(type='ChannelExchange', gray=2, prob=0.5, modalities=('vis', )),
    dict(type='ChannelAdaptiveGray', gray_prob=0.5, modalities=('ir', )),
    dict(type='PackReIDInputs', video=True),
]
test_pipeline = [
    # first frame of each of the T chunks (MITML / VLD video_test)
    dict(type='SampleFrames', num_frames=num_frames, mode='chunk_first'),
    dict(type='LoadMultiModalImages'),
    dict(
        type='BroadcastToModalities',
        transforms=[dict(type='Resize', scale=img_size[::-1])]),
    dict(type='PackReIDInputs', video=True),
]

train_dataloader = dict(
    batch_size=32,  # 4 ids x (4 visible + 4 infrared tracklets)
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='CrossModalityIdentitySampler', num_instances=4),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        min_seq_len=12,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        min_seq_len=12,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# IR->visible (query_IDX rows against the rest) and visible->IR, one run
val_evaluator = dict(type='ReIDMetric', protocol='vcm', max_rank=20)
test_evaluator = val_evaluator
