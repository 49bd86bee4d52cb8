# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table VII (e): spectral and content tokens both inverted from the
# spectrum's visual feature (one inversion network per spectrum for S_m).
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(necks=[
    dict(_base_.model.necks[0], spectral_prompt='inverted'),
    *_base_.model.necks[1:],
])
