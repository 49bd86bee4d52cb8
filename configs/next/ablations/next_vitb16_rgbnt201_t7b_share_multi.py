# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT Table VII (b) Share. / Multi.: TMSE routers shared by the
# modalities, CSSE routers per modality
# (E_T router_sharing='shared', E_C router_sharing='modality').
_base_ = ['../next_vitb16_rgbnt201.py']
model = dict(necks=[
    _base_.model.necks[0],
    dict(_base_.model.necks[1], router_sharing='shared'),
    dict(_base_.model.necks[2], router_sharing='modality'),
    _base_.model.necks[3],
])
