# Copyright (c) mmreid_text contributors. All rights reserved.
# The tiny VLD without its spatial-temporal prompting (no hub, no STA and
# their losses; Table III "B + IMLP" = Table IV "TAP"): the comparison for
# vld_tiny_synthetic_hitszvcm.py in configs/vld/README.md.
_base_ = ['./vld_tiny_synthetic_hitszvcm.py']
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
