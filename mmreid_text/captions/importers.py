# Copyright (c) mmreid_text contributors. All rights reserved.
"""Importers for released caption files.

Both releases store one JSON list per split and modality, each entry
``{"item": <image file name>, "description": <caption>}``:

* NEXT (``lsh-ahu/NEXT-ReID``):
  ``Annotation_Text/NEXT/{201,310,863}/{train,test}_{RGB,NI,TI}.json``
  (RGBNT201, MSVR310, WMVEID863).
* IDEA (``924973292/IDEA``):
  ``QwenVL_Anno/<dataset>/text/{train,test}_{RGB,NI,TI}.json`` (Qwen-VL
  captions of RGBNT201, RGBNT100, MSVR310).

Items are bare file names, so an importer needs a *resolver* that turns
``(item, modality)`` into the caption-file keys (paths relative to the
dataset root):

* ``DatasetKeyResolver``: from the info dicts of the dataset the captions
  will be used with (exact; a name that occurs in several places, e.g.
  MSVR310 query3 and bounding_box_test, gets every key);
* ``TemplateKeyResolver``: from a path template; ``PRESETS`` hold the
  public layouts.  With a dataset root, only keys of existing files are
  kept.
"""
import json
import os.path as osp
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from .format import build_caption_data

#: Modality suffix of the released file names -> modality name.
RELEASE_MODALITIES: Dict[str, str] = {'RGB': 'rgb', 'NI': 'nir', 'TI': 'tir'}

RELEASE_SOURCES = {
    'next': 'NEXT release (lsh-ahu/NEXT-ReID Annotation_Text; GPT-4o + '
    'Qwen-VL attributes composed by DeepSeek-V3)',
    'idea': 'IDEA release (924973292/IDEA QwenVL_Anno; Qwen-VL captions)',
}

#: Public folder layouts (relative to the dataset root folder).
PRESETS: Dict[str, Dict[str, Any]] = {
    'RGBNT201': {
        'template': '{split_dir}/{mod_dir}/{item}',
        'split_dirs': {
            'train': ['train_171'],
            'test': ['test']
        },
        'mod_dirs': {
            'rgb': 'RGB',
            'nir': 'NI',
            'tir': 'TI'
        },
    },
    'MSVR310': {
        'template': '{split_dir}/{id4}/{mod_dir}/{item}',
        'split_dirs': {
            'train': ['bounding_box_train'],
            'test': ['bounding_box_test', 'query3']
        },
        'mod_dirs': {
            'rgb': 'vis',
            'nir': 'ni',
            'tir': 'th'
        },
    },
    'RGBNT100': {
        'template': '{split_dir}/{item}',
        'split_dirs': {
            'train': ['rgbir/bounding_box_train'],
            'test': ['rgbir/bounding_box_test', 'rgbir/query']
        },
        'mod_dirs': {},
    },
}


class ReleaseFormatError(ValueError):
    """A released caption file is not a list of {item, description}."""


def _load_release_list(path: str) -> list:
    if not osp.isfile(path):
        raise FileNotFoundError(f'Released caption file {path!r} not found')
    with open(path, encoding='utf-8') as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as err:
            raise ReleaseFormatError(f'{path}: not valid JSON ({err})')
    if not isinstance(data, list):
        raise ReleaseFormatError(
            f'{path}: expected a JSON list of {{"item", "description"}} '
            f'entries, got {type(data).__name__}')
    return data


def _entry_problem(entry: Any) -> Optional[str]:
    if not isinstance(entry, dict):
        return f'is a {type(entry).__name__}, not an object'
    for field in ('item', 'description'):
        if not isinstance(entry.get(field), str):
            return (f'"{field}" is missing or not a string: '
                    f'{str(entry)[:120]}')
    if not entry['item'].strip():
        return '"item" is empty'
    return None


def read_release_entries(path: str) -> Dict[str, Any]:
    """Entries of one released file, with the ones that cannot be used.

    Returns:
        ``{'entries': {item: description}, 'bad': ['<path>: entry <i>:
        <reason>'], 'empty': [item]}``: entries that are not ``{"item":
        str, "description": str}`` are in ``bad`` (with their index),
        items whose description is empty or blank in ``empty``; neither is
        in ``entries`` (last entry of an item wins).

    Raises:
        FileNotFoundError / ReleaseFormatError: the file is missing, not
            JSON or not a list.
    """
    entries: Dict[str, str] = {}
    bad: List[str] = []
    empty: List[str] = []
    for index, entry in enumerate(_load_release_list(path)):
        problem = _entry_problem(entry)
        if problem is not None:
            bad.append(f'{path}: entry {index}: {problem}')
            continue
        item = osp.basename(entry['item'])
        if not entry['description'].strip():
            empty.append(item)
            entries.pop(item, None)
            continue
        entries[item] = entry['description']
    return {'entries': entries, 'bad': bad, 'empty': empty}


def read_item_description_list(path: str) -> Dict[str, str]:
    """``{item: description}`` of one released file (last entry wins).

    Strict reader (the statistics tool): the first bad entry raises
    ``ReleaseFormatError`` naming its index; empty descriptions are kept.
    """
    result: Dict[str, str] = {}
    for index, entry in enumerate(_load_release_list(path)):
        problem = _entry_problem(entry)
        if problem is not None:
            raise ReleaseFormatError(f'{path}: entry {index} is not '
                                     '{"item": str, "description": str}: '
                                     f'{problem}')
        result[osp.basename(entry['item'])] = entry['description']
    return result


def find_release_files(directory: str, split: str) -> Dict[str, str]:
    """``{modality: path}`` of ``<split>_{RGB,NI,TI}.json`` in a folder."""
    files = {}
    for suffix, modality in RELEASE_MODALITIES.items():
        path = osp.join(directory, f'{split}_{suffix}.json')
        if osp.isfile(path):
            files[modality] = path
    if not files:
        raise FileNotFoundError(
            f'No {split}_{{RGB,NI,TI}}.json in {directory!r}; point to the '
            'folder holding the released files (e.g. '
            'Annotation_Text/NEXT/201 or QwenVL_Anno/RGBNT201/text).')
    return files


class DatasetKeyResolver:
    """Resolve file names through the info dicts of a dataset."""

    def __init__(self, infos: Iterable[Mapping[str, Any]]):
        self.index: Dict[tuple, List[str]] = {}
        self.expected: Dict[tuple, None] = {}
        for info in infos:
            for modality, rel in info['rel_img_path'].items():
                paths = rel if isinstance(rel, (list, tuple)) else [rel]
                for path in paths:
                    path = path.replace('\\', '/')
                    keys = self.index.setdefault(
                        (osp.basename(path), modality), [])
                    if path not in keys:
                        keys.append(path)
                    self.expected[(path, modality)] = None

    def __call__(self, item: str, modality: str) -> List[str]:
        return list(self.index.get((osp.basename(item), modality), []))


class TemplateKeyResolver:
    """Resolve file names with a path template.

    Template fields: ``{split_dir}``, ``{mod_dir}``, ``{item}`` and
    ``{id4}`` (first four characters of the item, the MSVR310 vehicle
    folder).

    Args:
        template: e.g. ``'{split_dir}/{mod_dir}/{item}'``.
        split_dirs: Candidate split folders (every one is tried).
        mod_dirs: Modality -> folder name.
        root: Dataset root; when given, keep only keys of existing files.
    """

    def __init__(self,
                 template: str,
                 split_dirs: Sequence[str],
                 mod_dirs: Mapping[str, str],
                 root: Optional[str] = None):
        self.template = template
        self.split_dirs = list(split_dirs)
        self.mod_dirs = dict(mod_dirs)
        self.root = root

    @classmethod
    def from_preset(cls,
                    dataset: str,
                    split: str,
                    root: Optional[str] = None) -> 'TemplateKeyResolver':
        if dataset not in PRESETS:
            raise KeyError(f'No layout preset for {dataset!r} (presets: '
                           f'{sorted(PRESETS)}); pass --template or '
                           '--dataset-config.')
        preset = PRESETS[dataset]
        if split not in preset['split_dirs']:
            raise KeyError(f'Preset {dataset!r} knows splits '
                           f'{sorted(preset["split_dirs"])}, not {split!r}')
        return cls(preset['template'], preset['split_dirs'][split],
                   preset['mod_dirs'], root)

    def __call__(self, item: str, modality: str) -> List[str]:
        name = osp.basename(item)
        keys = []
        for split_dir in self.split_dirs:
            key = self.template.format(
                split_dir=split_dir,
                mod_dir=self.mod_dirs.get(modality, modality),
                item=name,
                id4=name[:4])
            if self.root is None or osp.isfile(osp.join(self.root, key)):
                keys.append(key)
        return keys


def import_release(files: Mapping[str, str],
                   resolver,
                   dataset: str,
                   split: str,
                   source: str,
                   expected: Optional[Iterable[tuple]] = None) -> tuple:
    """Convert released item/description files into a v1 document.

    Args:
        files: ``{modality: path}`` of the released files of one split.
        resolver: ``(item, modality) -> [keys]``.
        dataset / split / source: Fields of the v1 document.
        expected: ``(rel_path, modality)`` pairs the dataset needs, to
            report which have no caption.

    Returns:
        ``(document, report)``; the report counts captions per modality,
        lists items no key was found for (``unresolved``), entries that are
        not ``{"item", "description"}`` (``bad_entries``, with file and
        index), items with an empty description (``empty``: not imported,
        so ``LoadCaptions``' ``on_missing`` policy decides about them) and
        expected images without a caption (``missing``).
    """
    captions: Dict[str, Dict[str, Dict[str, str]]] = {}
    report: Dict[str, Any] = {'files': dict(files), 'per_modality': {}}
    unresolved: List[str] = []
    bad_entries: List[str] = []
    empty: List[str] = []
    for modality, path in files.items():
        read = read_release_entries(path)
        bad_entries += read['bad']
        empty += [f'{modality}:{item}' for item in read['empty']]
        entries = read['entries']
        count = 0
        for item, text in entries.items():
            keys = resolver(item, modality)
            if not keys:
                unresolved.append(f'{modality}:{item}')
                continue
            for key in keys:
                captions.setdefault(key, {})[modality] = {'text': text}
                count += 1
        report['per_modality'][modality] = {
            'items': len(entries),
            'keys': count,
            'empty': len(read['empty']),
            'bad_entries': len(read['bad'])
        }
    report['unresolved'] = unresolved
    report['bad_entries'] = bad_entries
    report['empty'] = empty
    if expected is not None:
        report['missing'] = sorted(
            f'{modality}:{rel}' for rel, modality in expected
            if modality in files and modality not in captions.get(rel, {}))
    document = build_caption_data(dataset, split, source, captions)
    return document, report
