# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT (caption sampling + TMSE + CSSE + MGFA) on the demo's tiny random-init
# CLIP (arch='clip-tiny': ViT width 128, patch 8, embed_dim 128, text width
# 128 / 2 blocks) and synthetic RGBNT201-layout data with the generator's
# ground-truth captions (per image and modality, several sentences); trains
# on a 2-core CPU. Data, image size, schedule and runtime come from the
# demo, so the demo config is the matching tiny baseline (Table IV (a)).
_base_ = ['../demo/clip_tiny_synthetic_rgbnt201.py']
# imported after _base_: mmengine then reads this as an ordinary config
# and leaves the function out of it
from mmreid_text.datasets.transforms.captions import \
    with_caption_steps  # noqa: E402

embed_dims = 128  # clip-tiny: embed_dim = text width
modalities = ('rgb', 'nir', 'tir')
caption_root = _base_.data_root + '/captions'
train_caption_file = caption_root + '/train_171.json'
test_caption_file = caption_root + '/test.json'
caption_on_missing = 'error'
# PackReIDInputs' defaults + the sentence lists (as next_vitb16.py)
next_meta_keys = ('pid', 'camid', 'scene_id', 'modalities', 'modality',
                  'is_query', 'is_gallery', 'sample_idx', 'img_path',
                  'captions', 'caption_sentences', 'num_frames', 'frame_inds',
                  'img_shape')
model = dict(
    _delete_=True,
    type='ReIDModel',
    data_preprocessor=dict(
        type='ReIDDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5]),
    backbone=dict(
        type='CLIPVisionBackbone',
        arch=_base_.model.backbone.arch,
        img_size=_base_.img_size,
        pretrained=None,
        modalities=modalities,
        share_weights=True),
    text_encoder=dict(
        type='TextEncoder',
        arch=_base_.model.backbone.arch,
        pretrained=None,
        frozen=True),
    necks=[
        dict(
            type='SampledCaptionEncoder',
            num_experts=3,
            modalities=modalities,
            keep_prob=0.75,
            embed_dims=embed_dims),
        dict(
            type='TextModulatedSemanticExperts',
            embed_dims=embed_dims,
            num_experts=3,
            modalities=modalities),
        dict(
            type='ContextSharedStructureExperts',
            embed_dims=embed_dims,
            num_experts=3,
            modalities=modalities),
        dict(
            type='MultiGrainedFeatureAggregation',
            embed_dims=embed_dims,
            num_heads=4,
            num_modalities=len(modalities)),
    ],
    head=dict(
        type='BNNeckHead',
        in_key='next_identity',
        in_channels=embed_dims,
        num_modalities=len(modalities),
        num_classes=60,
        fuse='concat',
        retrieval_feat='pre_bn'),
    losses=_base_.model.losses)

# A child config that changes a caption file or caption_on_missing rebuilds
# these two pipelines and the dataloaders below.
train_pipeline = with_caption_steps(
    _base_.train_pipeline,
    train_caption_file,
    next_meta_keys,
    on_missing=caption_on_missing,
    attach_sentences=True)
test_pipeline = with_caption_steps(
    _base_.test_pipeline,
    test_caption_file,
    next_meta_keys,
    on_missing=caption_on_missing,
    attach_sentences=True)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
custom_hooks = [
    *_base_.custom_hooks,
    dict(
        type='ExpertStatsHook', interval=_base_.default_hooks.logger.interval),
]
