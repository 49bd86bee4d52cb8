# Copyright (c) mmreid_text contributors. All rights reserved.
# VLD Table IV "Conv1D": the TAP row (B + IMLP, t3b: no hub, no STA) with the
# temporal average of the 512-d projected frame CLS replaced by a residual
# depthwise temporal convolution (kernel 3, temporal-shift init, TF-CLIP's
# Conv_1D) before the average; seq_proj_cls feeds L_v2t. 512 x 3 = 1,536
# parameters (the paper's +0.04 M adds TF-CLIP's unused 77 x 512
# frame-position table, see configs/vld/README.md). The 768-d seq_cls
# (ID / WRT losses, retrieval) stays the temporal average.
_base_ = ['./vld_vitb16_hitszvcm_t3b_imlp.py']
model = dict(necks=[
    _base_.model.necks[0],
    dict(
        type='TemporalPooling',
        in_keys=('cls', ),
        out_keys=('seq_cls', ),
        num_frames=_base_.num_frames),
    dict(
        type='TemporalConv1D',
        embed_dims=512,
        num_frames=_base_.num_frames,
        in_key='proj_cls',
        out_key='seq_proj_cls',
        kernel_size=3,
        residual=True,
        init='shift'),
])
