# Copyright (c) mmreid_text contributors. All rights reserved.
"""The caption file format ``mmreid_text.captions.v1``.

One JSON file per dataset split (default
``<data_root>/captions/<split>.json``)::

    {"format": "mmreid_text.captions.v1",
     "dataset": "RGBNT201", "split": "train_171",
     "source": "free text (synthetic ground truth | NEXT release | ...)",
     "captions": {
        "<image path relative to the dataset root>": {
            "<modality>": {"text": "...",
                           "attributes": {"<name>": {"value": "...",
                                                     "confidence": 0.9}}}}}}

The key is the relative path of the image file that shows the modality.  A
file that holds several modalities side by side (RGBNT100) has one key with
several modality entries.  ``attributes`` is optional; attribute entries may
carry extra fields (``model``, ``from_modality``) that readers ignore.
"""
import json
import os
import os.path as osp
import tempfile
from typing import Any, Dict, Iterable, Mapping, Optional

CAPTION_FORMAT = 'mmreid_text.captions.v1'

CaptionMap = Dict[str, Dict[str, Dict[str, Any]]]


class CaptionFileError(ValueError):
    """A caption file is missing, unreadable or not in the v1 format."""


def _fail(path: str, message: str) -> None:
    raise CaptionFileError(
        f'Caption file {path!r}: {message}. See docs/captions.md for the '
        f'{CAPTION_FORMAT} format; files from the NEXT or IDEA releases '
        'must first be converted with tools/captions/import_captions.py.')


def validate_caption_data(data: Any, path: str = '<memory>') -> None:
    """Check that ``data`` is a v1 caption document; raise with the key.

    Args:
        data: The decoded JSON document.
        path: File name used in error messages.

    Raises:
        CaptionFileError: naming the file and the offending key.
    """
    if isinstance(data, list):
        _fail(
            path, 'is a JSON list (the item/description layout of the NEXT '
            'and IDEA releases), not a v1 caption document')
    if not isinstance(data, dict):
        _fail(path, f'top level is {type(data).__name__}, expected an object')
    if data.get('format') != CAPTION_FORMAT:
        _fail(
            path, f'"format" is {data.get("format")!r}, expected '
            f'{CAPTION_FORMAT!r}')
    for field in ('dataset', 'split', 'source'):
        if not isinstance(data.get(field), str):
            _fail(path, f'field {field!r} is missing or not a string')
    captions = data.get('captions')
    if not isinstance(captions, dict):
        _fail(path, '"captions" is missing or not an object')
    for key, entry in captions.items():
        if not isinstance(entry, dict) or not entry:
            _fail(
                path, f'captions[{key!r}] must be a non-empty object '
                '{modality: {"text": ...}}')
        if osp.isabs(key) or '\\' in key:
            _fail(
                path, f'key {key!r} must be a relative POSIX path '
                '(relative to the dataset root)')
        for modality, item in entry.items():
            where = f'captions[{key!r}][{modality!r}]'
            if not isinstance(item, dict) or not isinstance(
                    item.get('text'), str):
                _fail(path, f'{where} must be an object with a string '
                      '"text"')
            attributes = item.get('attributes')
            if attributes is None:
                continue
            if not isinstance(attributes, dict):
                _fail(path, f'{where}["attributes"] must be an object')
            for name, attr in attributes.items():
                if (not isinstance(attr, dict) or 'value' not in attr or
                        not isinstance(attr.get('confidence'), (int, float))):
                    _fail(
                        path, f'{where}["attributes"][{name!r}] must be '
                        '{"value": ..., "confidence": number}')


def load_caption_file(path: str) -> Dict[str, Any]:
    """Read and validate a v1 caption file.

    Returns:
        dict: The whole document (``captions`` holds the caption map).
    """
    if not osp.isfile(path):
        raise CaptionFileError(
            f'Caption file {path!r} does not exist. Generate it with '
            'tools/captions/generate.py, import a released one with '
            'tools/captions/import_captions.py, or fix the path in the '
            'config (see docs/captions.md).')
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        raise CaptionFileError(
            f'Caption file {path!r} is not valid JSON ({err}); regenerate '
            'it with tools/captions/generate.py.') from err
    validate_caption_data(data, path)
    return data


def build_caption_data(dataset: str,
                       split: str,
                       source: str,
                       captions: Mapping[str, Mapping[str, Any]],
                       extra: Optional[Mapping[str, Any]] = None) -> dict:
    """Assemble a v1 document from a caption map.

    Args:
        dataset: Dataset name, e.g. ``'RGBNT201'``.
        split: Split name, e.g. ``'train_171'``.
        source: Where the captions come from (free text).
        captions: ``{rel_path: {modality: {'text': str, ...}}}``; a plain
            string value is accepted as shorthand for ``{'text': value}``.
        extra: Further top-level fields (e.g. ``'generator'`` settings).
    """
    normalised: CaptionMap = {}
    for key in sorted(captions):
        normalised[key] = {}
        for modality, item in captions[key].items():
            if isinstance(item, str):
                item = {'text': item}
            normalised[key][modality] = dict(item)
    data = {
        'format': CAPTION_FORMAT,
        'dataset': dataset,
        'split': split,
        'source': source,
    }
    if extra:
        data.update(extra)
    data['captions'] = normalised
    validate_caption_data(data)
    return data


def _new_file_mode(path: str) -> int:
    """Mode for ``path``: the existing file's, else that of a new file
    (``0o666`` less the umask)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        pass
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temp file + rename).

    Readers see the old file or the new one, never a part; a failed write
    leaves the old file.  The file gets the mode of the file it replaces,
    or the normal mode of a new file (``0o666`` less the umask), not the
    ``0o600`` of ``tempfile.mkstemp``.
    """
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    mode = _new_file_mode(path)
    fd, tmp_path = tempfile.mkstemp(
        prefix=f'.tmp_{osp.basename(path)}_', dir=directory)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, path)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise


def save_caption_file(path: str, data: Mapping[str, Any]) -> None:
    """Validate and write a v1 document atomically (temp file + rename,
    normal file permissions; see ``write_text_atomic``)."""
    validate_caption_data(data, path)
    write_text_atomic(path,
                      json.dumps(data, ensure_ascii=False, indent=1) + '\n')


def count_captions(data: Mapping[str, Any]) -> int:
    """Number of (image, modality) captions of a v1 document."""
    return sum(len(entry) for entry in data['captions'].values())


def iter_caption_texts(data: Mapping[str, Any],
                       modalities: Optional[Iterable[str]] = None):
    """Yield ``(rel_path, modality, text)`` for every caption in a document.
    """
    wanted = None if modalities is None else set(modalities)
    for key, entry in data['captions'].items():
        for modality, item in entry.items():
            if wanted is None or modality in wanted:
                yield key, modality, item['text']


def merge_caption_data(documents: Iterable[Mapping[str, Any]]) -> CaptionMap:
    """Union of the caption maps of several documents (later ones win)."""
    merged: CaptionMap = {}
    for data in documents:
        for key, entry in data['captions'].items():
            merged.setdefault(key, {}).update(entry)
    return merged
