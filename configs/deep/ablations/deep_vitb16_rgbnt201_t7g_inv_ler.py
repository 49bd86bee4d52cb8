# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table VII (g): inverted spectral tokens, learnable content token.
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(necks=[
    dict(
        _base_.model.necks[0],
        spectral_prompt='inverted',
        content_prompt='learnable'),
    *_base_.model.necks[1:],
])
