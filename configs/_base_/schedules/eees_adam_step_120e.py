# Copyright (c) mmreid_text contributors. All rights reserved.
# EEES (Dong et al., AAAI; "Implementation Details"): 120 epochs, initial
# learning rates 3e-4 for the visual encoder and 1e-6 for the text encoder
# (lr_mult = 1e-6 / 3e-4), x0.1 at epochs 40 and 70. Not in the paper, taken
# from the AGW / CSDN code the paper follows (configs/eees/README.md): Adam,
# weight decay 5e-4 and a 10-epoch linear warm-up from 0.01 x lr.
base_lr = 3e-4
text_lr = 1e-6
warmup_epochs = 10
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='Adam', lr=base_lr, weight_decay=5e-4, betas=(0.9, 0.999)),
    paramwise_cfg=dict(
        custom_keys={'text_encoder': dict(lr_mult=text_lr / base_lr)}))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(type='MultiStepLR', by_epoch=True, milestones=[40, 70], gamma=0.1),
]
# SYSU-MM01 and RegDB have no validation split: the val loop evaluates the
# test split for monitoring only (test-monitor/...); the reported result is
# the last epoch.
train_cfg = dict(by_epoch=True, max_epochs=120, val_interval=20)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64, enable=False)
