# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table VII (a): fixed template "A photo of a person." for every
# sample and spectrum (no spectral tokens, no pseudo-word).
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(necks=[
    dict(_base_.model.necks[0], spectral_prompt='none', content_prompt='none'),
    *_base_.model.necks[1:],
])
