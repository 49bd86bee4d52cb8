# Copyright (c) mmreid_text contributors. All rights reserved.
# Table 4: M = 3 cross-view representations in CVSC (Eq. 6-7; the main
# config uses M = 1).
_base_ = ['../eees_rn50_sysu.py']
model = dict(necks=[
    _base_.model.necks[0], _base_.model.necks[1],
    dict(_base_.model.necks[2], num_views=3)
])
