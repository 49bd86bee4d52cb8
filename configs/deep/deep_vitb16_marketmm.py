# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP on Market-MM (Table II): 256x128 person, 751 training identities.
_base_ = [
    '../_base_/models/deep_vitb16.py', '../_base_/datasets/market_mm.py',
    '../_base_/schedules/adam_60e.py', '../_base_/default_runtime.py'
]
model = dict(head=dict(num_classes=751))
