# Copyright (c) mmreid_text contributors. All rights reserved.
# SYSU-MM01 (image visible-infrared person ReID; cam1..cam6/<pid>/<img>.jpg +
# exp/*_id.txt). Layout: docs/datasets.md; protocol: docs/evaluation.md.
# 288x144, random padding 10 + crop + flip (EEES, "Implementation Details",
# following AGW); the mean / std live in the model's data_preprocessor.
# Train = train_id + val_id (395 ids); test = IR queries of cams 3, 6 and
# every RGB image of cams 1, 2, 4, 5 as gallery candidates: the 'sysu'
# protocol draws the 10 gallery trials (all / indoor, single / multi-shot).
dataset_type = 'SYSUMM01'
data_root = 'data/SYSU-MM01'
img_size = (288, 144)  # (H, W)
# Per-image descriptions of the training split (v1 caption file, keyed by
# rel_img_path: tools/captions/generate.py --mode descriptions, or the
# synthetic ground truth). A method config that uses another file sets
# caption_file and rebuilds the pipeline, e.g.
#   train_pipeline = [dict(t, caption_file=caption_file)
#                     if t['type'] == 'LoadCaptions' else t
#                     for t in _base_.train_pipeline]
#   train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
caption_file = data_root + '/captions/train.json'
# Optional pre-resized copies (mmreid_text/datasets/resize_cache.py), e.g.
# resize_cache = dict(size=img_size); rebuilt when a source is newer.
resize_cache = None

train_pipeline = [
    dict(type='LoadMultiModalImages'),  # grey IR JPEGs -> 3 channels
    dict(type='LoadCaptions', caption_file=caption_file),
    dict(
        type='BroadcastToModalities',
        transforms=[
            dict(type='Resize', scale=img_size[::-1]),  # (W, H)
            dict(type='RandomCrop', crop_size=img_size, padding=10),
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
    batch_size=64,  # P=8 ids x (K=4 visible + K=4 infrared images)
    num_workers=4,
    persistent_workers=False,
    sampler=dict(
        type='CrossModalityIdentitySampler',
        num_instances=4,
        modalities=('vis', 'ir')),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        resize_cache=resize_cache,
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
        resize_cache=resize_cache,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# all-search and indoor-search, single- and multi-shot, 10 gallery trials
val_evaluator = dict(type='ReIDMetric', protocol='sysu', max_rank=20)
test_evaluator = val_evaluator
