# Copyright (c) mmreid_text contributors. All rights reserved.
"""``LoadCaptions``: attach per-modality captions to a sample.

The step reads ``mmreid_text.captions.v1`` files (see docs/captions.md),
looks every modality up by ``results['rel_img_path'][modality]`` and sets
``results['captions'] = {modality: text}``.
"""
import os.path as osp
import threading
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmreid_text.captions.format import load_caption_file, merge_caption_data
from mmreid_text.captions.modalities import MODALITY_SPECTRUM
from mmreid_text.captions.text import (CLIP_CONTEXT_LENGTH, OVERFLOW_RULES,
                                       clip_token_counter, fit_to_context,
                                       split_sentences)
from mmreid_text.registry import TRANSFORMS

ON_MISSING = ('error', 'empty', 'fallback_template')

_FILES_LOCK = threading.Lock()
_FILES_CACHE: Dict[Tuple, Dict] = {}


def _load_captions(paths: Sequence[str]) -> Dict:
    """Merged caption map of files, cached per process by (path, mtime)."""
    signature = tuple(
        (osp.abspath(p), osp.getmtime(p) if osp.exists(p) else None)
        for p in paths)
    with _FILES_LOCK:
        if signature not in _FILES_CACHE:
            documents = [load_caption_file(p) for p in paths]
            _FILES_CACHE[signature] = merge_caption_data(documents)
        return _FILES_CACHE[signature]


@TRANSFORMS.register_module()
class LoadCaptions(BaseTransform):
    """Attach captions from caption files to ``results['captions']``.

    Required keys: ``rel_img_path`` (``{modality: path}``, a list of frame
    paths for tracklets: the first frame with a caption is used).
    Added keys: ``captions`` (``{modality: str}``) and, with
    ``attach_sentences``, ``caption_sentences`` (``{modality: [str]}``,
    all sentences of the stored caption, before sampling / fitting).

    Captions longer than the text context follow the ``overflow`` rule of
    ``mmreid_text.captions.text.fit_to_context``: ``'sentences'`` (default)
    keeps whole sentences in order while they fit ``context_length`` tokens
    of open_clip's BPE tokenizer (start/end tokens included) and cuts a
    too-long first sentence at a word boundary; ``'truncate'`` cuts at the
    last fitting word; ``'error'`` raises; ``'none'`` leaves the caption to
    the text encoder's token-level truncation.

    Args:
        caption_file: One v1 caption file or several (merged; later files
            win), e.g. ``data/RGBNT201/captions/train_171.json``.
        modalities: Modalities to attach; default ``results['modalities']``
            (or every key of ``rel_img_path``).
        on_missing: What to do when an image has no caption: ``'error'``
            (default; the message names the image, the file(s) and the
            fixes), ``'empty'`` (use ``''``) or ``'fallback_template'``
            (use ``fallback_template``).
        fallback_template: Text for missing captions with fields
            ``{object}``, ``{spectrum}``, ``{modality}``.
        object_type: ``'person'`` or ``'vehicle'`` (for the fallback).
        context_length: Token budget (77 for CLIP).
        overflow: One of ``'sentences'``, ``'truncate'``, ``'error'``,
            ``'none'``.
        tokenizer: open_clip model name whose tokenizer counts tokens.
        sentence_keep_prob: If set (training), every sentence is kept with
            this probability (order preserved, at least
            ``min_sentences``) before the overflow rule - NEXT's random
            sentence sampling. ``None`` (default) keeps all.
        min_sentences: Fewest sentences kept by sampling.
        attach_sentences: Also attach the sentence lists.
    """

    def __init__(self,
                 caption_file: Union[str, Sequence[str]],
                 modalities: Optional[Sequence[str]] = None,
                 on_missing: str = 'error',
                 fallback_template: str = 'An image of a {object} in the '
                 '{spectrum}.',
                 object_type: str = 'person',
                 context_length: int = CLIP_CONTEXT_LENGTH,
                 overflow: str = 'sentences',
                 tokenizer: str = 'ViT-B-16',
                 sentence_keep_prob: Optional[float] = None,
                 min_sentences: int = 1,
                 attach_sentences: bool = False):
        if isinstance(caption_file, str):
            caption_file = [caption_file]
        if not caption_file:
            raise ValueError('LoadCaptions needs at least one caption_file')
        if on_missing not in ON_MISSING:
            raise ValueError(f'LoadCaptions: on_missing must be one of '
                             f'{ON_MISSING}, got {on_missing!r}')
        if overflow not in OVERFLOW_RULES:
            raise ValueError(f'LoadCaptions: overflow must be one of '
                             f'{OVERFLOW_RULES}, got {overflow!r}')
        if sentence_keep_prob is not None and not \
                0.0 < sentence_keep_prob <= 1.0:
            raise ValueError('LoadCaptions: sentence_keep_prob must be in '
                             f'(0, 1], got {sentence_keep_prob}')
        if min_sentences < 1:
            raise ValueError('LoadCaptions: min_sentences must be >= 1')
        self.caption_files = list(caption_file)
        self.modalities = tuple(modalities) if modalities else None
        self.on_missing = on_missing
        self.fallback_template = fallback_template
        self.object_type = object_type
        self.context_length = context_length
        self.overflow = overflow
        self.tokenizer = tokenizer
        self.sentence_keep_prob = sentence_keep_prob
        self.min_sentences = min_sentences
        self.attach_sentences = attach_sentences
        # Files and tokenizer load on first use, so building a dataset
        # (e.g. to generate the captions) never needs the files.
        self._fitted: Dict[Tuple[str, str], str] = {}

    @property
    def captions(self) -> Dict:
        return _load_captions(self.caption_files)

    def _count_tokens(self, text: str) -> int:
        return clip_token_counter(self.tokenizer)(text)

    def _lookup(self, rel, modality: str) -> Optional[Tuple[str, str]]:
        paths = rel if isinstance(rel, (list, tuple)) else [rel]
        captions = self.captions
        for path in paths:
            key = path.replace('\\', '/')
            entry = captions.get(key)
            if entry is not None and modality in entry:
                return key, entry[modality]['text']
        return None

    def _missing(self, rel, modality: str) -> str:
        if self.on_missing == 'empty':
            return ''
        if self.on_missing == 'fallback_template':
            return self.fallback_template.format(
                object=self.object_type,
                spectrum=MODALITY_SPECTRUM.get(modality,
                                               f'{modality} spectrum'),
                modality=modality)
        shown = rel[0] if isinstance(rel, (list, tuple)) and rel else rel
        raise KeyError(
            f'No {modality!r} caption for image {shown!r} in caption '
            f'file(s) {self.caption_files}. Regenerate the file with '
            'tools/captions/generate.py (or import it with '
            'tools/captions/import_captions.py) so it covers this split, '
            "or set on_missing='empty' or 'fallback_template' in "
            'LoadCaptions to allow missing captions.')

    def _sample(self, sentences: List[str]) -> List[str]:
        keep = np.random.rand(len(sentences)) < self.sentence_keep_prob
        needed = min(self.min_sentences, len(sentences))
        if keep.sum() < needed:
            extra = np.random.choice(
                np.flatnonzero(~keep), needed - keep.sum(), replace=False)
            keep[extra] = True
        return [s for s, k in zip(sentences, keep) if k]

    def _fit(self, text: str, where: str) -> str:
        return fit_to_context(text, self._count_tokens, self.context_length,
                              self.overflow, where)

    def transform(self, results: dict) -> dict:
        rel_paths = results.get('rel_img_path')
        if not isinstance(rel_paths, dict):
            raise KeyError(
                'LoadCaptions needs results["rel_img_path"] = {modality: '
                'path relative to the dataset root}; the dataset class must '
                f'provide it (sample keys: {sorted(results)})')
        modalities = self.modalities or tuple(
            results.get('modalities') or rel_paths.keys())
        captions = dict(results.get('captions') or {})
        sentences_out = {}
        for modality in modalities:
            if modality not in rel_paths:
                raise KeyError(
                    f'LoadCaptions: modality {modality!r} requested but '
                    f'the sample only has {sorted(rel_paths)} in '
                    'rel_img_path; fix `modalities` of LoadCaptions.')
            rel = rel_paths[modality]
            found = self._lookup(rel, modality)
            if found is None:
                text = self._missing(rel, modality)
                captions[modality] = text
                sentences_out[modality] = split_sentences(text)
                continue
            key, text = found
            sentences = split_sentences(text)
            sentences_out[modality] = sentences
            where = f'{key} [{modality}]'
            if self.sentence_keep_prob is not None and sentences:
                captions[modality] = self._fit(
                    ' '.join(self._sample(sentences)), where)
            else:
                cache_key = (key, modality)
                if cache_key not in self._fitted:
                    self._fitted[cache_key] = self._fit(text, where)
                captions[modality] = self._fitted[cache_key]
        results['captions'] = captions
        if self.attach_sentences:
            results['caption_sentences'] = sentences_out
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'caption_file={self.caption_files}, '
                f'modalities={self.modalities}, '
                f'on_missing={self.on_missing!r}, '
                f'overflow={self.overflow!r}, '
                f'context_length={self.context_length}, '
                f'sentence_keep_prob={self.sentence_keep_prob})')


def with_caption_steps(pipeline: Sequence[dict],
                       caption_file: Union[str, Sequence[str]],
                       meta_keys: Sequence[str],
                       **load_captions: object) -> List[dict]:
    """A config pipeline with ``LoadCaptions`` wired in (config helper).

    Returns a new list: the image loader (first step), then
    ``LoadCaptions(caption_file, **load_captions)``, the steps in between
    unchanged, and the final ``PackReIDInputs`` with ``meta_keys`` (the
    keys the text components read, e.g. ``caption_sentences``).  Used by
    the NEXT dataset configs, which import it after their ``_base_`` line
    (mmengine then parses them as ordinary, not lazy-import, configs and
    drops the imported function from the config)::

        train_pipeline = with_caption_steps(
            _base_.train_pipeline, train_caption_file, _base_.next_meta_keys,
            on_missing=caption_on_missing, attach_sentences=True)

    Args:
        pipeline: step dicts, ``Load*`` first and ``PackReIDInputs`` last.
        caption_file: the ``LoadCaptions`` caption file(s).
        meta_keys: ``meta_keys`` of the ``PackReIDInputs`` step.
        **load_captions: further ``LoadCaptions`` arguments.
    """
    steps = list(pipeline)
    first = steps[0].get('type', '') if steps else ''
    last = steps[-1].get('type', '') if steps else ''
    if len(steps) < 2 or not str(first).startswith('Load') or \
            last != 'PackReIDInputs':
        raise ValueError(
            'with_caption_steps: the pipeline must start with an image '
            "loader ('Load...') and end with 'PackReIDInputs', got "
            f'{[s.get("type") for s in steps]}.')
    if any(s.get('type') == 'LoadCaptions' for s in steps):
        raise ValueError('with_caption_steps: the pipeline already has a '
                         'LoadCaptions step.')
    return [
        steps[0],
        dict(type='LoadCaptions', caption_file=caption_file, **load_captions),
        *steps[1:-1],
        dict(steps[-1], meta_keys=tuple(meta_keys)),
    ]
