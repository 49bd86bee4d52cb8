# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT Table IV (c): the baseline + MGFA + TMSE (text-modulated semantic
# experts, no structure experts): MGFA averages the N_T semantic experts.
_base_ = ['../next_vitb16_msvr310.py']
model = dict(necks=[
    *_base_.model.necks[:2],
    dict(_base_.model.necks[3], expert_keys=('next_semantic', )),
])
