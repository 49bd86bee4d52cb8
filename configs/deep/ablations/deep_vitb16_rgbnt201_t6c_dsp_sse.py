# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table VI (c) = Table X (a) "No Fusion": DSP + SSE; SSE reads the
# spectral features where SGSF's f_hat would be.
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(
    necks=[
        _base_.model.necks[0],
        dict(_base_.model.necks[2], global_key='proj_cls'),
    ],
    losses=dict(supcon=dict(inputs=('proj_cls', 'text', 'labels'))))
