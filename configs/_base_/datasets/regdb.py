# Copyright (c) mmreid_text contributors. All rights reserved.
# RegDB (image visible-thermal person ReID; Visible|Thermal/<id>/*.bmp +
# idx/{train,test}_{visible,thermal}_<trial>.txt). Layout: docs/datasets.md;
# protocol: docs/evaluation.md. One model per trial (1..10), results
# averaged over the trials. `trial` is copied into both datasets when this
# file is read: a config inheriting it sets the datasets' trial, and the
# command line uses --cfg-options train_dataloader.dataset.trial=3
# val_dataloader.dataset.trial=3 test_dataloader.dataset.trial=3.
# 288x144, random padding 10 + crop + flip as for SYSU-MM01 (EEES).
dataset_type = 'RegDB'
data_root = 'data/RegDB'
img_size = (288, 144)  # (H, W)
trial = 1  # which idx/*_<trial>.txt lists, 1..10
# Per-image descriptions (v1 caption file keyed by rel_img_path). One file
# for every image: each trial trains on another half of the identities.
# A method config that uses another file sets caption_file and rebuilds the
# pipeline as configs/_base_/datasets/sysu_mm01.py shows.
caption_file = data_root + '/captions/all.json'
resize_cache = None  # e.g. dict(size=img_size)

train_pipeline = [
    dict(type='LoadMultiModalImages'),
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
    batch_size=64,  # P=8 ids x (K=4 visible + K=4 thermal images)
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
        trial=trial,
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
        trial=trial,
        resize_cache=resize_cache,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# visible->thermal and thermal->visible in one run
val_evaluator = dict(type='ReIDMetric', protocol='regdb', max_rank=20)
test_evaluator = val_evaluator
