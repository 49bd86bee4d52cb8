# Copyright (c) mmreid_text contributors. All rights reserved.
# Table 4: M = 0 cross-view representations in CVSC (Eq. 6-7; the main
# config uses M = 1).
# With M = 0 the multi-view features are the single-view ones: L_con^m
# repeats L_con^o and L_kd is 0.
_base_ = ['../eees_rn50_sysu.py']
model = dict(necks=[
    _base_.model.necks[0], _base_.model.necks[1],
    dict(_base_.model.necks[2], num_views=0)
])
