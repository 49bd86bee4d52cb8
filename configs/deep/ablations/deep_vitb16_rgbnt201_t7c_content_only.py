# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table VII (c): instance pseudo-word only, "A photo of a S* person."
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(necks=[
    dict(_base_.model.necks[0], spectral_prompt='none'),
    *_base_.model.necks[1:],
])
