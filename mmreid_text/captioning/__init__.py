# Copyright (c) mmreid_text contributors. All rights reserved.
"""Caption generation with OpenAI-compatible model backends.

See docs/captions.md.  The pipeline talks to chat-completions servers
(``chat_backend``, configured by ``backend_config``, retried by ``retry``),
asks vision models for attributes with confidences (``schemas``,
``prompts``, ``parsing``), runs the requests through a cache and a thread
pool (``cache``, ``job_runner``), merges and complements the attributes
across models and modalities (``merge``), composes captions (``compose``)
and returns the caption map that ``mmreid_text.captions.format`` writes.

Needs the optional ``openai`` client (``pip install -e ".[captions]"``).
Nothing in training, testing, the datasets or ``mmreid_text.captions``
imports this package; ``tools/captions/generate.py`` does.
"""
from .backend_config import (ROLES, BackendConfig, backend_from_dict,
                             parse_backend_spec)
from .cache import ResultCache, cache_key
from .chat_backend import BackendStats, ChatBackend, reply_text
from .compose import TemplateComposer
from .errors import (BackendConfigurationError, BackendError,
                     BackendUnavailableError, BadReplyError, RequestCancelled)
from .items import ImageItem
from .job_runner import Job, JobRunner
from .merge import ComplementRules, complement_modalities, merge_models
from .messages import ImageCheckError, build_messages, encode_image
from .parsing import (MalformedReplyError, clean_text_reply, is_unknown,
                      parse_attribute_reply)
from .pipeline import CaptionPipeline, PipelineResult
from .retry import RetryPolicy, parse_retry_after, retry_after_seconds
from .schemas import (PERSON_SCHEMA, VEHICLE_SCHEMA, AttributeSchema,
                      AttributeSpec, get_schema, object_type_for_dataset)
from .sources import (items_from_data_infos, items_from_paths,
                      split_name_from_items)

__all__ = [
    'ROLES', 'BackendConfig', 'backend_from_dict', 'parse_backend_spec',
    'ResultCache', 'cache_key', 'BackendStats', 'ChatBackend',
    'TemplateComposer', 'BackendConfigurationError', 'BackendError',
    'RequestCancelled', 'BackendUnavailableError', 'BadReplyError',
    'reply_text', 'ImageCheckError', 'parse_retry_after', 'ImageItem', 'Job',
    'JobRunner', 'ComplementRules', 'complement_modalities', 'merge_models',
    'build_messages', 'encode_image', 'MalformedReplyError',
    'clean_text_reply', 'is_unknown', 'parse_attribute_reply',
    'CaptionPipeline', 'PipelineResult', 'RetryPolicy', 'retry_after_seconds',
    'PERSON_SCHEMA', 'VEHICLE_SCHEMA', 'AttributeSchema', 'AttributeSpec',
    'get_schema', 'object_type_for_dataset', 'items_from_data_infos',
    'items_from_paths', 'split_name_from_items'
]
