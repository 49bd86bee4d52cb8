# Copyright (c) mmreid_text contributors. All rights reserved.
# The triple-stream baseline with model selection on a real validation
# split: RGBNT201 has none (its val is the test set), so 20 of the 171
# training identities are held out (drawn with the seed among those seen by
# two or more cameras; docs/evaluation.md, "Model selection"). Training
# uses the other 151, the val loop ranks the held-out ones (per identity
# and camera one query, all their images as gallery, market protocol), the
# checkpoint best on val/mAP is kept, and tools/test.py reports it on the
# untouched test split.
_base_ = ['./clip_vitb16_rgbnt201.py']
holdout = dict(num_ids=20, seed=0)
model = dict(head=dict(num_classes=171 - holdout['num_ids']))
train_dataloader = dict(dataset=dict(holdout=dict(holdout, part='train')))
val_dataloader = dict(
    dataset=dict(split='train', holdout=dict(holdout, part='val')))
val_evaluator = dict(prefix='val')  # logged as val/mAP, val/R1, ...
default_hooks = dict(checkpoint=dict(save_best='val/mAP', rule='greater'))
