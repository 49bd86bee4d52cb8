# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT Table VI (b) Top-K: the dynamic threshold sigma_m is replaced by "the
# top 50% tokens" of the modulated routing map gamma_m.
_base_ = ['../next_vitb16_rgbnt201.py']
model = dict(necks=[
    _base_.model.necks[0],
    dict(_base_.model.necks[1], threshold_mode='topk', topk_ratio=0.5),
    *_base_.model.necks[2:],
])
