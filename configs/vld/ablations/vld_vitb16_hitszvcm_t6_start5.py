# Copyright (c) mmreid_text contributors. All rights reserved.
# VLD Table VI: the hub inserted from block 5 (the main config: 9).
_base_ = ['../vld_vitb16_hitszvcm.py']
model = dict(backbone=dict(hub=dict(start_layer=5)))
