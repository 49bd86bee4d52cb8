# Copyright (c) mmreid_text contributors. All rights reserved.
# VLD Table III "B + STP": hub + STA with their losses, no identity
# prompts (no text encoder, no L_v2t).
_base_ = ['../vld_vitb16_hitszvcm.py']
model = dict(
    text_encoder=None,
    necks=[
        _base_.model.necks[1],
        dict(
            _base_.model.necks[2],
            in_keys=('cls', 'sta'),
            out_keys=('seq_cls', 'seq_sta')),
    ],
    losses=dict(
        _delete_=True,
        id_cls=_base_.model.losses.id_cls,
        wrt_cls=_base_.model.losses.wrt_cls,
        id_sta=_base_.model.losses.id_sta,
        wrt_sta=_base_.model.losses.wrt_sta))
