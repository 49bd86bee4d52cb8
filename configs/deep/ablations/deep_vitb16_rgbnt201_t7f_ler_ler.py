# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table VII (f): spectral and content tokens both learnable (the
# content token is shared by all samples, so no prompt is instance-level).
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(necks=[
    dict(_base_.model.necks[0], content_prompt='learnable'),
    *_base_.model.necks[1:],
])
