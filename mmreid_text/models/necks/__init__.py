# Copyright (c) mmreid_text contributors. All rights reserved.
from .cross_view_fusion import CrossViewFusion
from .deep_sgsf import SemanticGuidedSpectralFusion
from .deep_sse import SpectralSemanticEmbedding
from .gem_pooling import GeMPooling
from .next_caption_encoder import SampledCaptionEncoder
from .next_csse import ContextSharedStructureExperts
from .next_mgfa import MultiGrainedFeatureAggregation
from .next_tmse import TextModulatedSemanticExperts
from .simple_fusion import ConvFusion, LinearWeightFusion
from .temporal_conv1d import TemporalConv1D
from .temporal_pooling import TemporalPooling
from .temporal_transformer import TemporalTransformer
from .vld_sta import SpatialTemporalAggregation

__all__ = [
    'SemanticGuidedSpectralFusion', 'SpectralSemanticEmbedding',
    'LinearWeightFusion', 'ConvFusion', 'SpatialTemporalAggregation',
    'TemporalPooling', 'TemporalConv1D', 'TemporalTransformer', 'GeMPooling',
    'CrossViewFusion', 'SampledCaptionEncoder',
    'ContextSharedStructureExperts', 'MultiGrainedFeatureAggregation',
    'TextModulatedSemanticExperts'
]
