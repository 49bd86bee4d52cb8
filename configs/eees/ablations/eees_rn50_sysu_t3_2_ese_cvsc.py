# Copyright (c) mmreid_text contributors. All rights reserved.
# Table 3 row 2: ESE + CVSC (L_con^o + L_con^m + L_kd), no CMSP.
_base_ = ['../eees_rn50_sysu.py']
model = dict(
    losses=dict(
        _delete_=True,
        **{
            k: _base_.model.losses[k]
            for k in ('id', 'wrt', 'con_o', 'con_m', 'kd')
        }))
