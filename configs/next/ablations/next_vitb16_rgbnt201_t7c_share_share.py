# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT Table VII (c) Share. / Share.: shared routers for both
# (E_T router_sharing='shared', E_C router_sharing='shared').
_base_ = ['../next_vitb16_rgbnt201.py']
model = dict(necks=[
    _base_.model.necks[0],
    dict(_base_.model.necks[1], router_sharing='shared'),
    _base_.model.necks[2],
    _base_.model.necks[3],
])
