# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP ViT-B/16 on RGBNT201 (mmreid_text::deep/deep_vitb16_rgbnt201.py) with
# this project's cosine head instead of DEEPHead. The retrieval feature is
# the normalised mean of the three SSE features (512-d) instead of DEEP's
# 3072-d concatenation of visual features and spectral prompts.
_base_ = 'mmreid_text::deep/deep_vitb16_rgbnt201.py'
custom_imports = dict(
    imports=['mmreid_text', 'example_head'], allow_failed_imports=False)
model = dict(
    head=dict(
        _delete_=True,
        type='CosineMarginHead',
        in_key='embedded',  # SSE output [B, 3, 512]
        in_channels=512,
        num_classes=171,
        scale=30.0,
        margin=0.25))
