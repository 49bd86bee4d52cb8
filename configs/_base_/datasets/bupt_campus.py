# Copyright (c) mmreid_text contributors. All rights reserved.
# BUPTCampus (video visible-infrared person ReID; data_paths.json + list
# files). Layout: docs/datasets.md; pipeline: docs/video_pipeline.md. Every
# query and gallery tracklet is evaluated (the public test sampler drops
# RGB tracklets; docs/evaluation.md). T = num_frames is stated once here.
dataset_type = 'BUPTCampus'
data_root = 'data/BUPTCampus'
img_size = (288, 144)  # (H, W)
num_frames = 6  # T (VLD; AuxNet uses 10)

train_pipeline = [
    # sorted random choice of T frames (AuxNet / VLD 'random')
    dict(type='SampleFrames', num_frames=num_frames, mode='random_sorted'),
    dict(type='LoadMultiModalImages'),
    dict(
        type='BroadcastToModalities',
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
    # linspace(0, n, T, endpoint=False) frames
    dict(type='SampleFrames', num_frames=num_frames, mode='uniform'),
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
        auxiliary=False,
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
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# visible->IR and IR->visible, no camera filtering, one run
val_evaluator = dict(type='ReIDMetric', protocol='bupt', max_rank=20)
test_evaluator = val_evaluator
