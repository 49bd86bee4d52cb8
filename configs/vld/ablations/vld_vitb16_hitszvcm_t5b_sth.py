# Copyright (c) mmreid_text contributors. All rights reserved.
# VLD Table V "B + IMLP + STH": B + IMLP (t3b) with the hub in the encoder,
# no STA (and no STA losses); ranking on the averaged CLS.
_base_ = ['./vld_vitb16_hitszvcm_t3b_imlp.py']
model = dict(
    backbone=dict(
        hub=dict(
            _delete_=True,
            start_layer=9,
            num_frames=_base_.num_frames,
            init_std=1.0)))
