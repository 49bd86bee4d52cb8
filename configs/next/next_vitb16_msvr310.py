# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT on MSVR310 (Tables III, IV): vehicles at 128x256 (H x W), 155
# training identities, batch 64 = 16 x 4 (DeMo). Captions: the released NEXT
# files (almost all over CLIP's 77 tokens: whole sentences are kept, see
# SampledCaptionEncoder overflow='sentences').
_base_ = [
    '../_base_/models/next_vitb16.py', '../_base_/datasets/msvr310.py',
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

model = dict(
    backbone=dict(img_size=_base_.img_size), head=dict(num_classes=155))

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
    batch_size=64,
    sampler=dict(num_instances=4),  # 16 identities x 4 triplets (DeMo)
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
