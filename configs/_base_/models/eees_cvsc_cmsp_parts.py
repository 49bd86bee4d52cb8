# Copyright (c) mmreid_text contributors. All rights reserved.
# EEES's CVSC and CMSP as parts to add to a multi-spectral model whose
# samples hold every spectrum (configs/eees/mixing/): the captions of all
# spectra -> caption_text [B, M, E]; CrossViewFusion over the samples of an
# identity -> *_mv; L_con^m (0.2) + L_kd (0.08) per spectrum (CVSC, Eq.
# 8-11) and L_cm.sp (0.01) over every ordered pair of spectra of a sample
# (CMSP, Eq. 12). No per-sample modality input: each slot is one spectrum.
# A config lists these in its model: necks=cvsc_cmsp_necks,
# losses=dict(**cvsc_cmsp_losses).
caption_modalities = ('rgb', 'nir', 'tir')
cvsc_cmsp_necks = [
    dict(
        type='CaptionTextEncoder',
        out_key='caption_text',
        modalities=caption_modalities),
    dict(
        type='CrossViewFusion',
        num_views=1,
        in_keys=('proj_cls', 'caption_text')),
]
cvsc_cmsp_losses = dict(
    con_m=dict(
        type='ImageTextContrastiveLoss',
        temperature=0.01,
        similarity='cosine',
        positives='own',
        weight=0.2,
        inputs=('proj_cls_mv', 'caption_text_mv', 'labels')),
    kd=dict(
        type='MultiViewDistillationLoss',
        detach='multi_view',
        weight=0.08,
        inputs=('proj_cls_mv', 'proj_cls', 'caption_text_mv', 'caption_text')),
    cmsp=dict(
        type='CMSPLoss',
        normalize=False,
        weight=0.01,
        inputs=('proj_cls', 'caption_text', 'labels')))
