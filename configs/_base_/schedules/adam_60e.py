# Copyright (c) mmreid_text contributors. All rights reserved.
# Adam 5e-6, weight decay 1e-4, 60 epochs, x0.1 at epochs 20 and 40
# (DEEP Sec. IV-B; the triple-stream baseline shares it).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='Adam', lr=5e-6, weight_decay=1e-4, betas=(0.9, 0.999)))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[20, 40], gamma=0.1)
]
train_cfg = dict(by_epoch=True, max_epochs=60, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64, enable=False)
