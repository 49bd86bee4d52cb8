# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT Fig. 6: sentence keep probability p = 0.6 (default 0.75).
_base_ = ['../next_vitb16_rgbnt201.py']
model = dict(necks=[
    dict(_base_.model.necks[0], keep_prob=0.6),
    *_base_.model.necks[1:],
])
