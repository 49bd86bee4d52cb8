# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT Sec. V-B: Adam, learning rate 3.5e-4, weight decay 1e-4, momentum
# (beta_1) 0.9. The paper gives no epochs, schedule or per-group rates; they
# follow its base code DeMo (configs/next/README.md, choices S1-S4):
# 50 epochs, 10 warm-up epochs from 0.1 x lr, cosine to 1e-3 x lr, and the
# CLIP visual encoder at 5e-6 (DeMo's fixed backbone rate; 3.5e-4 is the
# rate of the new modules).
base_lr = 3.5e-4
backbone_lr = 5e-6
max_epochs = 50
warmup_epochs = 10
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='Adam', lr=base_lr, weight_decay=1e-4, betas=(0.9, 0.999)),
    paramwise_cfg=dict(
        custom_keys={'backbone': dict(lr_mult=backbone_lr / base_lr)}))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        T_max=max_epochs - warmup_epochs,
        eta_min_ratio=1e-3,
        convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64, enable=False)
