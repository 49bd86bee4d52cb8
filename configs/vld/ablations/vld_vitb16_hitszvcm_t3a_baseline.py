# Copyright (c) mmreid_text contributors. All rights reserved.
# VLD Table III "B": the CLIP visual encoder trained with L_id^cls and
# L_wrt^cls only: no hub, no STA, no identity prompts (no text encoder);
# temporal average pooling of the frame CLS features.
_base_ = ['../vld_vitb16_hitszvcm.py']
model = dict(
    backbone=dict(hub=None),
    text_encoder=None,
    necks=[
        dict(
            type='TemporalPooling',
            in_keys=('cls', ),
            out_keys=('seq_cls', ),
            num_frames=_base_.num_frames),
    ],
    head=dict(sta_key=None),
    losses=dict(
        _delete_=True,
        id_cls=_base_.model.losses.id_cls,
        wrt_cls=_base_.model.losses.wrt_cls))
