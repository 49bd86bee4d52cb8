# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table XI (d) "Mean Pooling" at 384x192.
_base_ = ['./deep_vitb16_rgbnt201_t11f_sse_384.py']
model = dict(necks=[
    *_base_.model.necks[:2],
    dict(_base_.model.necks[2], mode='mean_pool'),
])
