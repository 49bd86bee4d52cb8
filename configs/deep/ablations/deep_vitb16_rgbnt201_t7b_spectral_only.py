# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table VII (b): spectral-shared learnable tokens only,
# "A [S_m] photo of a person."
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(necks=[
    dict(_base_.model.necks[0], content_prompt='none'),
    *_base_.model.necks[1:],
])
