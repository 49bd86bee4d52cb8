# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT (Li et al., arXiv 2505.20001) on CLIP ViT-B/16: one CLIP visual
# encoder shared by RGB/NIR/TIR (trainable), the frozen CLIP text encoder,
# then
#   SampledCaptionEncoder          Eq. 4: per expert / modality sentences
#                                  kept with p = 0.75 -> text features
#   TMSE TextModulatedSemanticExperts   Eq. 1-7 -> 'next_semantic' (N_T = 3)
#   CSSE ContextSharedStructureExperts  Eq. 8-9 -> 'next_structure' (N_C = 3)
#   MGFA MultiGrainedFeatureAggregation Eq. 10-11 -> 'next_identity'
#   head BNNeckHead on cat(3 x 512) = 1536-d, ID + triplet loss (Eq. 12).
# The pipeline must carry the caption sentences: LoadCaptions(
# attach_sentences=True) and PackReIDInputs(meta_keys=next_meta_keys).
# Every choice the paper leaves open is listed in configs/next/README.md.
modalities = ('rgb', 'nir', 'tir')
num_semantic_experts = 3  # N_T (Fig. 8)
num_structure_experts = 3  # N_C (Fig. 8)
# PackReIDInputs' defaults plus the sentence lists SampledCaptionEncoder
# samples from (LoadCaptions(attach_sentences=True) writes them).
next_meta_keys = ('pid', 'camid', 'scene_id', 'modalities', 'modality',
                  'is_query', 'is_gallery', 'sample_idx', 'img_path',
                  'captions', 'caption_sentences', 'num_frames', 'frame_inds',
                  'img_shape')
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
        pretrained='data/pretrained/ViT-B-16.pt',
        quick_gelu='auto',
        modalities=modalities,
        share_weights=True),
    # Sec. V-B: "All parameters in the CLIP text encoder are frozen".
    text_encoder=dict(
        type='TextEncoder',
        arch='ViT-B-16',
        pretrained='data/pretrained/ViT-B-16.pt',
        quick_gelu='auto',
        frozen=True),
    necks=[
        dict(
            type='SampledCaptionEncoder',
            num_experts=num_semantic_experts,
            modalities=modalities,
            keep_prob=0.75,  # Fig. 6 default
            min_sentences=1,
            sample_at_test=False,  # the whole caption at test
            test_text=True,  # False: "NEXT w/o Text" (Table VIII)
            granularity='caption',
            overflow='sentences',
            # run the frozen text transformer up to the longest text only:
            # the causal mask makes the features identical to the full
            # 77-token run (the compute the paper's FLOPs count:
            # trim_context=False).
            trim_context=True,
            on_no_captions='error',
            embed_dims=512,
            ref_key='proj_cls',
            out_key='next_text',
            valid_key='next_text_valid'),
        dict(
            type='TextModulatedSemanticExperts',
            embed_dims=512,
            num_experts=num_semantic_experts,
            modalities=modalities,
            mlp_ratio=1.0,
            dropout=0.1,  # Eq. 1
            tokens_key='proj_tokens',
            cls_key='proj_cls',
            text_key='next_text',
            text_valid_key='next_text_valid',
            router_sharing='modality',  # Table VII (d)
            threshold_mode='dynamic',  # Table VI (d)
            fixed_threshold=0.0,  # Table VI (c) only
            topk_ratio=0.5,  # Table VI (b) only: "the top 50% tokens"
            grad_mode='ste',
            temperature=1.0,
            no_text_mode='alpha',
            out_key='next_semantic',
            mask_key='next_semantic_mask'),
        dict(
            type='ContextSharedStructureExperts',
            embed_dims=512,
            num_experts=num_structure_experts,
            modalities=modalities,
            mlp_ratio=1.0,
            dropout=0.1,
            routing='token',
            router_sharing='shared',  # Table VII (d)
            tokens_key='proj_tokens',
            out_key='next_structure'),
        dict(
            type='MultiGrainedFeatureAggregation',
            embed_dims=512,
            num_heads=8,
            ffn_ratio=4.0,
            num_modalities=len(modalities),
            query_key='proj_cls',
            expert_keys=('next_semantic', 'next_structure'),
            share_blocks=True,
            residual=True,
            out_key='next_identity'),
    ],
    head=dict(
        type='BNNeckHead',
        in_key='next_identity',
        in_channels=512,
        num_modalities=len(modalities),
        num_classes=171,
        fuse='concat',
        retrieval_feat='pre_bn'),
    # Eq. 12: L_id + L_tri on the identity feature, "in line with" TransReID
    # / BoT: label-smoothed CE (0.1) and batch-hard triplet (margin 0.3),
    # as the triple-stream baseline (Table IV (a)).
    losses=dict(
        id=dict(
            type='LabelSmoothLoss',
            label_smooth_val=0.1,
            mode='original',
            weight=1.0,
            inputs=('logits', 'labels')),
        triplet=dict(
            type='TripletLoss',
            margin=0.3,
            soft_margin=False,
            weight=1.0,
            inputs=('global_feat', 'labels'))))
