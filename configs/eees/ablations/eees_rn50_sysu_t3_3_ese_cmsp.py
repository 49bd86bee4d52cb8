# Copyright (c) mmreid_text contributors. All rights reserved.
# Table 3 row 3: ESE + CMSP (L_con^o + L_cm.sp), no CVSC.
_base_ = ['../eees_rn50_sysu.py']
model = dict(
    necks=_base_.model.necks[:2],  # GeMPooling, CaptionTextEncoder
    losses=dict(
        _delete_=True,
        **{k: _base_.model.losses[k]
           for k in ('id', 'wrt', 'con_o', 'cmsp')}))
