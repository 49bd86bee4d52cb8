# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table VI (b): baseline + DSP. The prompts are aligned with the
# spectral features (no fused feature exists) and join the test feature.
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(
    necks=[_base_.model.necks[0]],
    head=dict(in_key='proj_cls'),
    losses=dict(supcon=dict(inputs=('proj_cls', 'text', 'labels'))))
