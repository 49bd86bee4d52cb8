# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table VIII (a) "No Align": no feature-prompt contrastive loss; the
# prompts still feed SSE and the test feature.
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(
    losses=dict(
        _delete_=True,
        id=_base_.model.losses.id,
        triplet=_base_.model.losses.triplet))
