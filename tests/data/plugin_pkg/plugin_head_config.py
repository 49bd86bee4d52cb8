# Copyright (c) mmreid_text contributors. All rights reserved.
# Uses a head from a package outside mmreid_text (tests/data/plugin_pkg).
_base_ = ['../configs/tiny_baseline.py']
custom_imports = dict(
    imports=['mmreid_text', 'my_reid_plugin'], allow_failed_imports=False)
model = dict(
    head=dict(
        _delete_=True,
        type='ModalityMeanCosineHead',
        in_channels=32,
        num_classes=8),
    losses=dict(triplet=dict(inputs=('global_feat', 'labels'))))
# exactly two training iterations
train_cfg = dict(_delete_=True, by_epoch=False, max_iters=2, val_interval=2)
log_processor = dict(by_epoch=False)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=2))
