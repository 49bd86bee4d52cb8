# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table XI (b) "No Rearrange": Eq. 8, 9, 11 without Eq. 10.
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(necks=[
    *_base_.model.necks[:2],
    dict(_base_.model.necks[2], mode='no_rearrange'),
])
