# Copyright (c) mmreid_text contributors. All rights reserved.
# VLD Table IV "Transf": the TAP row (B + IMLP, t3b: no hub, no STA) with the
# temporal average of the 512-d projected frame CLS replaced by TF-CLIP's
# Transf: learnable frame positions, 6 pre-LN CLIP blocks of width 512
# (8 heads, FFN 2048, QuickGELU), residual to the input, then the average;
# seq_proj_cls feeds L_v2t. 6 x 3,152,384 + 6 x 512 = 18,917,376 parameters
# (paper +18.91 M). The 768-d seq_cls (ID / WRT losses, retrieval) stays the
# temporal average.
_base_ = ['./vld_vitb16_hitszvcm_t3b_imlp.py']
model = dict(necks=[
    _base_.model.necks[0],
    dict(
        type='TemporalPooling',
        in_keys=('cls', ),
        out_keys=('seq_cls', ),
        num_frames=_base_.num_frames),
    dict(
        type='TemporalTransformer',
        embed_dims=512,
        num_heads=8,
        num_layers=6,
        ffn_ratio=4,
        num_frames=_base_.num_frames,
        readout='mean',
        norm_first=True,
        act='QuickGELU',
        dropout=0.0,
        final_norm=False,
        residual=True,
        in_key='proj_cls',
        out_key='seq_proj_cls'),
])
