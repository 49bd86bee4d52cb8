# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP with its BNNeck head replaced by this project's cosine head, on the
# tiny random-init CLIP and synthetic RGBNT201 data of
# mmreid_text::deep/deep_tiny_synthetic_rgbnt201.py (CPU, minutes).
_base_ = 'mmreid_text::deep/deep_tiny_synthetic_rgbnt201.py'
# `example_head` registers CosineMarginHead in mmreid_text's registry.
custom_imports = dict(
    imports=['mmreid_text', 'example_head'], allow_failed_imports=False)
model = dict(
    head=dict(
        _delete_=True,
        type='CosineMarginHead',
        in_key='embedded',  # SSE output [B, 3, 128]
        in_channels=128,
        num_classes=60,
        scale=16.0,
        margin=0.1))
# The losses of the base stay: id on `logits`, triplet on `global_feat`,
# SupCon on the SGSF `fused` feature and the spectral prompts `text`.
