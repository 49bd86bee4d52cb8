# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table VI (e): DSP + SGSF (prompts aligned with f_hat); ranking on
# cat(f_hat, p).
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(
    necks=[_base_.model.necks[0], _base_.model.necks[1]],
    head=dict(in_key='fused'))
