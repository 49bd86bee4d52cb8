# Copyright (c) mmreid_text contributors. All rights reserved.
# Mixing DEEP and NEXT on RGBNT201: DEEP's SGSF (the modality class tokens
# cross-attend to all patch tokens, Eq. 3-4, residual) fuses the query of
# NEXT's MGFA: MGFA's cross-attention over the experts starts from SGSF's
# f_hat instead of the raw class tokens. Everything else is NEXT.
_base_ = ['../next_vitb16_rgbnt201.py']
model = dict(necks=[
    *_base_.model.necks[:3],
    # DEEP's SGSF (configs/_base_/models/deep_vitb16.py)
    dict(
        type='SemanticGuidedSpectralFusion',
        embed_dims=512,
        num_heads=8,
        ffn_dims=2048,
        query_key='proj_cls',
        context_key='proj_tokens',
        out_key='fused',
        residual=True),
    dict(_base_.model.necks[3], query_key='fused'),
])
