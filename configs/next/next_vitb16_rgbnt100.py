# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT on RGBNT100 (Table III): vehicles at 128x256, 50 training
# identities, batch 128 = 8 x 16 and 30 epochs (DeMo's RGBNT100 recipe).
# NEXT released no RGBNT100 captions: they come from the caption pipeline
# (tools/captions/generate.py --out .../captions/bounding_box_train.json and
# .../captions/test.json, configs/next/README.md).
_base_ = [
    '../_base_/models/next_vitb16.py', '../_base_/datasets/rgbnt100.py',
    '../_base_/schedules/next_adam_cosine_50e.py',
    '../_base_/default_runtime.py'
]
# imported after _base_: mmengine then reads this as an ordinary config
# and leaves the function out of it
from mmreid_text.datasets.transforms.captions import \
    with_caption_steps  # noqa: E402

caption_root = _base_.data_root + '/captions'
train_caption_file = caption_root + '/bounding_box_train.json'
test_caption_file = caption_root + '/test.json'  # query + gallery
# An image without a caption stops with an error naming it and the
# fixes ('empty': that modality is not text-modulated, counted in the
# captions/text_<modality> statistic; 'fallback_template': a generic
# sentence).
caption_on_missing = 'error'
object_type = 'vehicle'
# DeMo's RGBNT100 schedule: 30 epochs, 5 warm-up epochs.
max_epochs = 30
warmup_epochs = 5
param_scheduler = [
    dict(_base_.param_scheduler[0], end=warmup_epochs),
    dict(
        _base_.param_scheduler[1],
        begin=warmup_epochs,
        end=max_epochs,
        T_max=max_epochs - warmup_epochs),
]
train_cfg = dict(max_epochs=max_epochs)

model = dict(
    backbone=dict(img_size=_base_.img_size), head=dict(num_classes=50))

# A child config that changes a caption file or caption_on_missing rebuilds
# these two pipelines and the dataloaders below.
train_pipeline = with_caption_steps(
    _base_.train_pipeline,
    train_caption_file,
    _base_.next_meta_keys,
    on_missing=caption_on_missing,
    object_type=object_type,
    attach_sentences=True)
test_pipeline = with_caption_steps(
    _base_.test_pipeline,
    test_caption_file,
    _base_.next_meta_keys,
    on_missing=caption_on_missing,
    object_type=object_type,
    attach_sentences=True)
train_dataloader = dict(
    batch_size=128,
    sampler=dict(num_instances=16),  # 8 identities x 16 triplets (DeMo)
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
custom_hooks = [
    *_base_.custom_hooks,
    # tokens selected per semantic expert and modality (Fig. 6), CSSE
    # routing weights and caption coverage, logged with the losses
    dict(
        type='ExpertStatsHook', interval=_base_.default_hooks.logger.interval),
]
