# Copyright (c) mmreid_text contributors. All rights reserved.
from .attention import FFN, AttentionFFNBlock, QuickGELU, build_activation
from .clip_arch import (RESNET_STEM_NAMES, arch_display_name,
                        build_clip_text_tower, build_clip_vision_tower,
                        get_clip_arch_config, get_residual_blocks,
                        is_resnet_arch, list_local_clip_archs,
                        resnet_feature_grid, resnet_stem,
                        set_resnet_last_stride, tiny_clip_arch)
# yapf: disable
from .clip_checkpoint import (CLIPCheckpoint, CLIPCheckpointMismatchError,
                              check_state_dict_fits,
                              clear_clip_checkpoint_cache,
                              extract_text_state_dict,
                              extract_visual_state_dict,
                              load_checked_state_dict,
                              load_checkpoint_and_quick_gelu,
                              load_clip_checkpoint, load_clip_state_dict,
                              resolve_quick_gelu)
# yapf: enable
from .feature_contract import (FeatureAccessRecorder, FeatureContract,
                               FeatureContractError, FeatureKeys,
                               check_feature_chain, get_feature_keys,
                               is_declared, written_keys)
from .modality import (check_modality_feature, check_modality_features,
                       modality_presence_mask)
from .pos_embed import infer_pos_embed_grid, interpolate_pos_embed

__all__ = [
    'FFN', 'AttentionFFNBlock', 'QuickGELU', 'build_activation',
    'check_modality_feature', 'check_modality_features',
    'modality_presence_mask', 'RESNET_STEM_NAMES', 'arch_display_name',
    'build_clip_text_tower', 'build_clip_vision_tower', 'get_clip_arch_config',
    'get_residual_blocks', 'is_resnet_arch', 'resnet_feature_grid',
    'resnet_stem', 'set_resnet_last_stride', 'tiny_clip_arch',
    'list_local_clip_archs', 'CLIPCheckpoint', 'CLIPCheckpointMismatchError',
    'check_state_dict_fits', 'clear_clip_checkpoint_cache',
    'extract_text_state_dict', 'extract_visual_state_dict',
    'load_checked_state_dict', 'load_checkpoint_and_quick_gelu',
    'load_clip_checkpoint', 'load_clip_state_dict', 'resolve_quick_gelu',
    'infer_pos_embed_grid', 'interpolate_pos_embed', 'FeatureAccessRecorder',
    'FeatureContract', 'FeatureContractError', 'FeatureKeys',
    'check_feature_chain', 'get_feature_keys', 'is_declared', 'written_keys'
]
