# Copyright (c) mmreid_text contributors. All rights reserved.
# The demo baseline shrunk for tests: a few identities, 2 epochs.
_base_ = ['../../../configs/demo/clip_tiny_synthetic_rgbnt201.py']
data_root = 'data/synthetic_tiny/RGBNT201'
generator = dict(
    seed=0,
    num_train_ids=8,
    num_test_ids=4,
    images_per_camera=2,
    img_size=(64, 32))  # of the generated images (H, W)
# the demo's model (arch='clip-tiny', 64x32) with 8 classes
model = dict(head=dict(num_classes=8))
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    dataset=dict(data_root=data_root, generator=generator))
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    dataset=dict(data_root=data_root, generator=generator))
test_dataloader = val_dataloader
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
train_cfg = dict(max_epochs=2, val_interval=2)
val_evaluator = dict(
    type='ReIDMetric', protocol='market', max_rank=5, ranks=(1, 5))
test_evaluator = val_evaluator
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=1, max_keep_ckpts=5, save_best=None))
