# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP Table VIII (b) "Align-Spec": L_f2t / L_t2f between the prompts and
# the original spectral features v_m instead of the fused f_hat_m.
_base_ = ['../deep_vitb16_rgbnt201.py']
model = dict(losses=dict(supcon=dict(inputs=('proj_cls', 'text', 'labels'))))
