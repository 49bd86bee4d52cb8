# Copyright (c) mmreid_text contributors. All rights reserved.
# tiny_baseline.py with 2 of its 8 training identities held out for
# validation (the pattern of configs/baseline/clip_vitb16_rgbnt201_val.py):
# the val loop ranks them and the checkpoint best on val/mAP is kept.
_base_ = ['./tiny_baseline.py']
holdout = dict(num_ids=2, seed=0)
model = dict(head=dict(num_classes=8 - holdout['num_ids']))
train_dataloader = dict(dataset=dict(holdout=dict(holdout, part='train')))
val_dataloader = dict(
    dataset=dict(split='train', holdout=dict(holdout, part='val')))
val_evaluator = dict(prefix='val')
train_cfg = dict(val_interval=1)
default_hooks = dict(checkpoint=dict(save_best='val/mAP', rule='greater'))
