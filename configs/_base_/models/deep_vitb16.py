# Copyright (c) mmreid_text contributors. All rights reserved.
# DEEP (Li et al., TMM 2026) on CLIP ViT-B/16: one CLIP visual encoder shared
# by RGB/NIR/TIR (trainable), the frozen CLIP text encoder, then
#   DSP  SpectralInversionPrompt        "A [S_m] photo of a S* person." -> p_m
#   SGSF SemanticGuidedSpectralFusion   Eq. 3-4 -> 'fused' (f_hat)
#   SSE  SpectralSemanticEmbedding      Eq. 8-12 -> 'embedded' (f_tilde)
#   head DEEPHead: BNNeck on cat(f_tilde); retrieval = cat(f_tilde, p)
# Loss (Eq. 15): L_id + L_tri + lambda * L_SupCon(f_hat, p).
# Every choice the paper leaves open is listed in configs/deep/README.md.
model = dict(
    type='ReIDModel',
    data_preprocessor=dict(
        type='ReIDDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5]),
    backbone=dict(
        type='CLIPVisionBackbone',
        arch='ViT-B-16',
        # img_size: set by each method config from the dataset's img_size
        # OpenAI's ViT-B-16.pt, an open_clip state dict or a .safetensors
        # file; see docs/get_started.md.
        pretrained='data/pretrained/ViT-B-16.pt',
        quick_gelu='auto',
        modalities=('rgb', 'nir', 'tir'),
        share_weights=True),
    text_encoder=dict(
        type='TextEncoder',
        arch='ViT-B-16',
        pretrained='data/pretrained/ViT-B-16.pt',
        quick_gelu='auto',
        frozen=True),
    necks=[
        dict(
            type='SpectralInversionPrompt',
            embed_dims=512,
            token_dims=512,
            modalities=('rgb', 'nir', 'tir'),
            class_name='person',
            template='A {spectral} photo of a {content} {class_name}.',
            spectral_prompt='learnable',
            num_spectral_tokens=4,
            content_prompt='inverted',
            num_content_tokens=1,
            inversion=dict(
                hidden_dims=512, num_layers=3, act='ReLU', final_norm=True),
            in_key='proj_cls',
            # run the frozen text transformer up to EOT only: the causal
            # mask makes the features identical to the full 77-token run
            # (the compute the paper's FLOPs count: trim_context=False).
            trim_context=True),
        dict(
            type='SemanticGuidedSpectralFusion',
            embed_dims=512,
            num_heads=8,
            ffn_dims=2048,
            query_key='proj_cls',
            context_key='proj_tokens',
            out_key='fused',
            residual=True),
        dict(
            type='SpectralSemanticEmbedding',
            embed_dims=512,
            num_heads=8,
            ffn_dims=2048,
            num_layers=3,
            # num_patches: h * w of the backbone grid, set by each method
            # config from the dataset's img_size (256x128 / 16 -> 16x8)
            share_layers=True,
            mode='sse',
            temperature=None,  # sqrt(512)
            fusion_temperature=None,  # same tau as Eq. 8
            # Eq. 9 softmax over the spectra of N * w_m / tau (w in units of
            # the uniform attention 1/N); 'literal' (w_m / tau) is almost
            # uniform. See configs/deep/README.md, choice 10.
            fusion_mode='relative',
            pos_embed=True,
            global_key='fused',
            out_key='embedded'),
    ],
    head=dict(
        type='DEEPHead',
        in_key='embedded',
        in_channels=512,
        num_modalities=3,
        num_classes=171,
        text_key='text',
        fuse='concat',
        retrieval_feat='pre_bn'),
    losses=dict(
        id=dict(
            type='CrossEntropyLoss', weight=1.0, inputs=('logits', 'labels')),
        triplet=dict(
            type='TripletLoss',
            margin=0.3,
            soft_margin=False,
            weight=1.0,
            inputs=('global_feat', 'labels')),
        supcon=dict(
            type='SupConLoss',
            temperature=1.0,
            normalize=False,
            weight=0.5,  # lambda of Eq. 15
            inputs=('fused', 'text', 'labels'))))
