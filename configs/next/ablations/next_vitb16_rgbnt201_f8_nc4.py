# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT Fig. 8: N_C = 4 structure experts (N_T = 3).
_base_ = ['../next_vitb16_rgbnt201.py']
model = dict(necks=[
    *_base_.model.necks[:2],
    dict(_base_.model.necks[2], num_experts=4),
    _base_.model.necks[3],
])
