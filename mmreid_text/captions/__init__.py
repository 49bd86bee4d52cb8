# Copyright (c) mmreid_text contributors. All rights reserved.
"""Caption files: format, reading, the 77-token rule, importers, statistics.

This is what training, testing and the datasets use (``LoadCaptions``); it
needs no network client.  See docs/captions.md.  Generating captions with
model backends lives in ``mmreid_text.captioning`` (imported only by
``tools/captions/generate.py``), which depends on this package and never
the reverse.

* ``format``: reads, validates and writes ``mmreid_text.captions.v1``
  files;
* ``text``: sentences, CLIP token counts and the context rule
  (``fit_to_context``);
* ``modalities``: modality names and the words naming their spectra;
* ``importers``: converters of the NEXT / IDEA releases;
* ``dataset_infos``: the info dicts of a dataset config (caption-file
  keys);
* ``stats``: caption statistics (NEXT Fig. 2).
"""
from .dataset_infos import dataset_from_config
from .format import (CAPTION_FORMAT, CaptionFileError, build_caption_data,
                     count_captions, iter_caption_texts, load_caption_file,
                     merge_caption_data, save_caption_file,
                     validate_caption_data, write_text_atomic)
from .importers import (PRESETS, RELEASE_SOURCES, DatasetKeyResolver,
                        TemplateKeyResolver, find_release_files,
                        import_release, read_item_description_list,
                        read_release_entries)
from .modalities import MODALITY_NAMES, MODALITY_SPECTRUM
from .stats import caption_statistics, format_statistics_table
from .text import (CLIP_CONTEXT_LENGTH, OVERFLOW_RULES, CaptionTooLongError,
                   clip_token_counter, count_words, fit_to_context,
                   has_unknown_words, split_sentences)

__all__ = [
    'dataset_from_config', 'CAPTION_FORMAT', 'CaptionFileError',
    'build_caption_data', 'iter_caption_texts', 'load_caption_file',
    'merge_caption_data', 'save_caption_file', 'validate_caption_data',
    'count_captions', 'write_text_atomic', 'PRESETS', 'RELEASE_SOURCES',
    'DatasetKeyResolver', 'TemplateKeyResolver', 'find_release_files',
    'import_release', 'read_item_description_list', 'read_release_entries',
    'MODALITY_NAMES', 'MODALITY_SPECTRUM', 'caption_statistics',
    'format_statistics_table', 'CLIP_CONTEXT_LENGTH', 'OVERFLOW_RULES',
    'CaptionTooLongError', 'clip_token_counter', 'count_words',
    'fit_to_context', 'has_unknown_words', 'split_sentences'
]
