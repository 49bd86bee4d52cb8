# Copyright (c) mmreid_text contributors. All rights reserved.
from .layers import FFN, AttentionFFNBlock, QuickGELU, modality_presence_mask
from .sgsf import SemanticGuidedSpectralFusion
from .simple_fusion import ConvFusion, LinearWeightFusion
from .sse import SpectralSemanticEmbedding

__all__ = [
    'FFN', 'AttentionFFNBlock', 'QuickGELU', 'modality_presence_mask',
    'SemanticGuidedSpectralFusion', 'SpectralSemanticEmbedding',
    'LinearWeightFusion', 'ConvFusion'
]
