# Copyright (c) mmreid_text contributors. All rights reserved.
# VLD Table IV "Transf_cls": the TAP row (B + IMLP, t3b: no hub, no STA) with
# the temporal average of the 512-d projected frame CLS replaced by TF-CLIP's
# Transf_cls: a learnable CLS token before the T frames, T + 1 learnable
# positions, 6 post-LN nn.TransformerEncoderLayer(512, 8 heads, FFN 2048,
# ReLU, dropout 0.1), a final LayerNorm; the CLS slot is seq_proj_cls
# (feeds L_v2t). 6 x 3,152,384 + 1,024 + 512 + 7 x 512 = 18,919,424
# parameters (the paper's +18.96 M adds TF-CLIP's unused 77 x 512 table).
# The 768-d seq_cls (ID / WRT losses, retrieval) stays the temporal average.
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
        readout='cls',
        norm_first=False,
        act='ReLU',
        dropout=0.1,
        final_norm=True,
        residual=False,
        in_key='proj_cls',
        out_key='seq_proj_cls'),
])
