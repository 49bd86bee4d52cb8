# Copyright (c) mmreid_text contributors. All rights reserved.
# The tiny VLD with the hub but without STA and its losses (Table V
# "B + IMLP + STH"): the hub in the encoder from block 2, ranking on the
# frame-averaged CLS; the third row of the tiny comparison in
# configs/vld/README.md.
_base_ = ['./vld_tiny_synthetic_hitszvcm_no_stp.py']
model = dict(
    backbone=dict(
        hub=dict(
            _delete_=True,
            start_layer=2,
            num_frames=_base_.num_frames,
            init_std=1.0)))
