# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT Fig. 8: N_T = 2 semantic experts (N_C = 3); the caption encoder
# samples texts for the same number of experts.
_base_ = ['../next_vitb16_rgbnt201.py']
model = dict(necks=[
    dict(_base_.model.necks[0], num_experts=2),
    dict(_base_.model.necks[1], num_experts=2),
    *_base_.model.necks[2:],
])
