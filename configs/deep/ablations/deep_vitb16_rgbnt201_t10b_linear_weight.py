# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table X (b) "Linear Weight" in place of SGSF:
# f_hat = v + Linear(Concat(v_rgb, v_nir, v_tir)). Table X (a) "No Fusion"
# is deep_vitb16_rgbnt201_t6c_dsp_sse.py.
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(necks=[
    _base_.model.necks[0],
    dict(type='LinearWeightFusion', embed_dims=512),
    _base_.model.necks[2],
])
