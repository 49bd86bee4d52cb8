# Copyright (c) mmreid_text contributors. All rights reserved.
# Mixing DEEP and NEXT on RGBNT201: DEEP's front (the shared CLIP visual
# encoder and its DSP spectral prompts p_m, "A [S_m] photo of a [S*]
# person.", aligned with the visual features by DEEP's SupCon term) with
# NEXT's experts as the head (caption-modulated TMSE, CSSE, MGFA, BNNeck on
# the 1536-d identity feature). DEEP has no SGSF here, so SupCon aligns the
# prompts with the modality class tokens (DEEP Table VIII (b)).
# Loss: L_id + L_tri (NEXT Eq. 12) + 0.5 * L_SupCon(proj_cls, p) (DEEP
# Eq. 15's lambda).
_base_ = ['../next_vitb16_rgbnt201.py']
model = dict(
    necks=[
        # DEEP's DSP (configs/_base_/models/deep_vitb16.py); it shares the
        # frozen text encoder with the caption encoder
        dict(
            type='SpectralInversionPrompt',
            embed_dims=512,
            token_dims=512,
            modalities=_base_.modalities,
            class_name='person',
            template='A {spectral} photo of a {content} {class_name}.',
            spectral_prompt='learnable',
            num_spectral_tokens=4,
            content_prompt='inverted',
            num_content_tokens=1,
            inversion=dict(
                hidden_dims=512, num_layers=3, act='ReLU', final_norm=True),
            in_key='proj_cls',
            out_key='text',
            trim_context=True),
        *_base_.model.necks,
    ],
    losses=dict(
        supcon=dict(
            type='SupConLoss',
            temperature=1.0,
            normalize=False,
            weight=0.5,
            inputs=('proj_cls', 'text', 'labels'))))
