# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT Table VI (c) Fixed-sigma: a constant threshold instead of sigma_m
# from the class token. The paper gives no value ("relies on handcrafted
# tuning"): 0.0, the decision boundary of the routing logits.
_base_ = ['../next_vitb16_rgbnt201.py']
model = dict(necks=[
    _base_.model.necks[0],
    dict(_base_.model.necks[1], threshold_mode='fixed', fixed_threshold=0.0),
    *_base_.model.necks[2:],
])
