# Copyright (c) mmreid_text contributors. All rights reserved.
# EEES on RegDB (Table 2): as on SYSU-MM01, 206 training identities of the
# trial chosen by `trial` (one model per trial; tools/regdb_trials.py trains
# and tests the 10 trials and averages them). Both directions
# (visible->thermal, thermal->visible) are printed by one test run.
_base_ = [
    '../_base_/models/eees_rn50.py', '../_base_/datasets/regdb.py',
    '../_base_/schedules/eees_adam_step_120e.py',
    '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(img_size=_base_.img_size), head=dict(num_classes=206))
