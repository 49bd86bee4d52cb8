# Copyright (c) mmreid_text contributors. All rights reserved.
# Table 3 row 1: ESE only (L_id + 0.25 L_wrt + 0.2 L_con^o): the captions'
# explicit semantics, no cross-view compensation, no purification.
_base_ = ['../eees_rn50_sysu.py']
model = dict(
    necks=_base_.model.necks[:2],  # GeMPooling, CaptionTextEncoder
    losses=dict(
        _delete_=True,
        **{k: _base_.model.losses[k]
           for k in ('id', 'wrt', 'con_o')}))
