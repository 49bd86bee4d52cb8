# Copyright (c) mmreid_text contributors. All rights reserved.
# VLD Table III "B + IMLP" (= Table IV "TAP", Table V first row): the
# identity prompts and L_v2t on the temporally averaged CLS, no hub, no STA.
_base_ = ['../vld_vitb16_hitszvcm.py']
model = dict(
    backbone=dict(hub=None),
    necks=[
        _base_.model.necks[0],
        dict(
            type='TemporalPooling',
            in_keys=('cls', 'proj_cls'),
            out_keys=('seq_cls', 'seq_proj_cls'),
            num_frames=_base_.num_frames),
    ],
    head=dict(sta_key=None),
    losses=dict(
        _delete_=True,
        id_cls=_base_.model.losses.id_cls,
        wrt_cls=_base_.model.losses.wrt_cls,
        v2t=_base_.model.losses.v2t))
