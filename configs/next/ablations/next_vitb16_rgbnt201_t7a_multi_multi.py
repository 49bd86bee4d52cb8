# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT Table VII (a) Multi. / Multi.: modality-specific routers for both
# (E_T router_sharing='modality', E_C router_sharing='modality').
_base_ = ['../next_vitb16_rgbnt201.py']
model = dict(necks=[
    _base_.model.necks[0],
    _base_.model.necks[1],
    dict(_base_.model.necks[2], router_sharing='modality'),
    _base_.model.necks[3],
])
