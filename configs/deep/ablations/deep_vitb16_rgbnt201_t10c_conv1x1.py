# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table X (c) "Conv 1x1" in place of SGSF: Conv(3C -> C) over the
# stacked patch maps, average pooled and added to every v_m.
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(necks=[
    _base_.model.necks[0],
    dict(type='ConvFusion', embed_dims=512, kernel_size=1),
    _base_.model.necks[2],
])
