# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table XI (c) "Mean Pooling": p_hat = mean(v_p) + p, no rearrangement.
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(necks=[
    *_base_.model.necks[:2],
    dict(_base_.model.necks[2], mode='mean_pool'),
])
