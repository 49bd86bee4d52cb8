# Copyright (c) mmreid_text contributors. All rights reserved.
# Choice S2 of configs/next/README.md read literally: Sec. V-B's "Adam ...
# learning rate of 3.5e-4" for every trainable parameter, the CLIP visual
# encoder included. The main config keeps the rate of NEXT's base code
# DeMo (CLIP visual encoder at 5e-6, new modules at 3.5e-4); this config is
# the other reading, for comparing the two. Nothing but the per-group rate
# changes.
_base_ = ['../next_vitb16_rgbnt201.py']
optim_wrapper = dict(paramwise_cfg=dict(_delete_=True))
