# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table VI (a): the triple-stream CLIP baseline (no DSP, SGSF, SSE)
# with DEEP's ID + triplet losses; ranking on cat(proj_cls).
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(
    text_encoder=None,
    necks=[],
    head=dict(in_key='proj_cls', text_key=None),
    losses=dict(
        _delete_=True,
        id=_base_.model.losses.id,
        triplet=_base_.model.losses.triplet))
