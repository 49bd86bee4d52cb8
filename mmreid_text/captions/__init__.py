# Copyright (c) mmreid_text contributors. All rights reserved.
"""Caption generation, caption files and caption statistics.

See docs/captions.md.  The pipeline talks to OpenAI-compatible
chat-completions servers (``backends``), asks vision models for attributes
with confidences (``schemas``, ``prompts``, ``parsing``), merges and
complements them across models and modalities (``merge``), composes
captions (``compose``) and writes ``mmreid_text.captions.v1`` files
(``format``).
"""
from .backends import (BackendConfig, BackendConfigurationError, BackendError,
                       ChatBackend, RetryPolicy, backend_from_dict,
                       encode_image, parse_backend_spec)
from .cache import ResultCache, cache_key
from .compose import TemplateComposer
from .format import (CAPTION_FORMAT, MODALITY_NAMES, CaptionFileError,
                     build_caption_data, iter_caption_texts, load_caption_file,
                     merge_caption_data, save_caption_file,
                     validate_caption_data)
from .importers import (PRESETS, RELEASE_SOURCES, DatasetKeyResolver,
                        TemplateKeyResolver, find_release_files,
                        import_release, read_item_description_list)
from .merge import ComplementRules, complement_modalities, merge_models
from .parsing import (MalformedReplyError, clean_text_reply, is_unknown,
                      parse_attribute_reply)
from .pipeline import CaptionPipeline, ImageItem, PipelineResult
from .schemas import (PERSON_SCHEMA, VEHICLE_SCHEMA, AttributeSchema,
                      AttributeSpec, get_schema, object_type_for_dataset)
from .sources import (dataset_from_config, items_from_data_infos,
                      items_from_paths, split_name_from_items)
from .stats import caption_statistics, format_statistics_table
from .text import (CLIP_CONTEXT_LENGTH, OVERFLOW_RULES, CaptionTooLongError,
                   clip_token_counter, count_words, fit_to_context,
                   has_unknown_words, split_sentences)

__all__ = [
    'BackendConfig', 'BackendConfigurationError', 'BackendError',
    'ChatBackend', 'RetryPolicy', 'backend_from_dict', 'encode_image',
    'parse_backend_spec', 'ResultCache', 'cache_key', 'TemplateComposer',
    'CAPTION_FORMAT', 'MODALITY_NAMES', 'CaptionFileError',
    'build_caption_data', 'iter_caption_texts', 'load_caption_file',
    'merge_caption_data', 'save_caption_file', 'validate_caption_data',
    'PRESETS', 'RELEASE_SOURCES', 'DatasetKeyResolver', 'TemplateKeyResolver',
    'find_release_files', 'import_release', 'read_item_description_list',
    'ComplementRules', 'complement_modalities', 'merge_models',
    'MalformedReplyError', 'clean_text_reply', 'is_unknown',
    'parse_attribute_reply', 'CaptionPipeline', 'ImageItem', 'PipelineResult',
    'PERSON_SCHEMA', 'VEHICLE_SCHEMA', 'AttributeSchema', 'AttributeSpec',
    'get_schema', 'object_type_for_dataset', 'dataset_from_config',
    'items_from_data_infos', 'items_from_paths', 'split_name_from_items',
    'caption_statistics', 'format_statistics_table', 'CLIP_CONTEXT_LENGTH',
    'OVERFLOW_RULES', 'CaptionTooLongError', 'clip_token_counter',
    'count_words', 'fit_to_context', 'has_unknown_words', 'split_sentences'
]
