# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table XI (a) "No Refine": p_hat = p, patches in grid order.
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(necks=[
    *_base_.model.necks[:2],
    dict(_base_.model.necks[2], mode='no_refine'),
])
