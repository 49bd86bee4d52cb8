# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table VI (d): baseline + the simplified SGSF (no prompts, no
# text-image contrastive loss); ranking on cat(f_hat).
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(
    text_encoder=None,
    necks=[_base_.model.necks[1]],
    head=dict(in_key='fused', text_key=None),
    losses=dict(
        _delete_=True,
        id=_base_.model.losses.id,
        triplet=_base_.model.losses.triplet))
