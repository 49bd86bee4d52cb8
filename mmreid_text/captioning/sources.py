# Copyright (c) mmreid_text contributors. All rights reserved.
"""Where the images to caption come from.

* ``items_from_data_infos``: dataset info dicts (``img_path`` and
  ``rel_img_path`` per modality, see the dataset contract).  A file shared
  by several modalities (RGBNT100) becomes one tile per modality, tiles in
  the order of ``info['modalities']``.  For tracklets (a list of frames per
  modality) the first frame is captioned; ``LoadCaptions`` looks frames up
  in order, so the first frame's caption serves the tracklet.
  The info dicts come from a dataset config through
  ``mmreid_text.captions.dataset_infos.dataset_from_config``.
* ``items_from_paths``: a list file (lines ``rel_path [modality]``) or a
  glob pattern relative to a root folder; the modality comes from a folder
  name in the path (``RGB``/``NI``/``TI``, ``vis``/``ni``/``th``) unless
  given, and the images that differ only in that folder form one sample.
"""
import glob
import os.path as osp
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from .items import ImageItem

#: Folder names of the public multi-spectral layouts -> modality names.
DEFAULT_MODALITY_DIRS: Dict[str, str] = {
    'RGB': 'rgb',
    'NI': 'nir',
    'TI': 'tir',
    'vis': 'rgb',
    'ni': 'nir',
    'th': 'tir',
}


def _first_path(value: Any) -> Optional[str]:
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def items_from_data_infos(infos: Iterable[Mapping[str, Any]],
                          source: str = 'dataset') -> List[ImageItem]:
    """Image items of dataset info dicts (one group per sample)."""
    items: List[ImageItem] = []
    for index, info in enumerate(infos):
        if 'rel_img_path' not in info or 'img_path' not in info:
            raise KeyError(
                f'{source}: sample {index} has no "img_path" / '
                '"rel_img_path" {modality: path}; the dataset class must '
                'follow the info-dict contract (see docs/captions.md).')
        img_paths, rel_paths = info['img_path'], info['rel_img_path']
        modalities = tuple(info.get('modalities') or rel_paths.keys())
        abs_first = {m: _first_path(img_paths[m]) for m in modalities}
        rel_first = {m: _first_path(rel_paths[m]) for m in modalities}
        shared = len(modalities) > 1 and len(set(abs_first.values())) == 1
        group = '|'.join(f'{m}={rel_first[m]}' for m in modalities)
        for i, modality in enumerate(modalities):
            if abs_first[modality] is None:
                continue
            items.append(
                ImageItem(
                    rel_path=rel_first[modality].replace('\\', '/'),
                    modality=modality,
                    abs_path=abs_first[modality],
                    group=group,
                    tile=(i, len(modalities)) if shared else None))
    return items


def split_name_from_items(items: Iterable[ImageItem], default: str) -> str:
    """The common first folder of the relative paths, else ``default``."""
    firsts = {item.rel_path.split('/', 1)[0] for item in items}
    if len(firsts) == 1:
        first = firsts.pop()
        if '.' not in first:
            return first
    return default


def _modality_of(
        rel_path: str,
        modality_dirs: Mapping[str,
                               str]) -> Tuple[Optional[str], Optional[int]]:
    parts = rel_path.split('/')
    found = [(i, modality_dirs[p]) for i, p in enumerate(parts[:-1])
             if p in modality_dirs]
    if not found:
        return None, None
    index, modality = found[-1]
    return modality, index


def items_from_paths(
        spec: str,
        root: str,
        modality_dirs: Optional[Mapping[str, str]] = None) -> List[ImageItem]:
    """Image items from a list file or a glob pattern under ``root``.

    Args:
        spec: A text file with lines ``rel_path [modality]`` (``#``
            comments allowed), or a glob pattern relative to ``root``
            (``**`` allowed), e.g. ``'train_171/*/*.jpg'``.
        root: Dataset root; keys are paths relative to it.
        modality_dirs: Folder name -> modality (default
            ``DEFAULT_MODALITY_DIRS``).
    """
    modality_dirs = dict(modality_dirs or DEFAULT_MODALITY_DIRS)
    entries: List[Tuple[str, Optional[str]]] = []
    if osp.isfile(spec):
        with open(spec, encoding='utf-8') as f:
            for line_no, line in enumerate(f, 1):
                line = line.split('#', 1)[0].strip()
                if not line:
                    continue
                fields = line.split()
                if len(fields) > 2:
                    raise ValueError(f'{spec}:{line_no}: expected '
                                     f'"rel_path [modality]", got {line!r}')
                entries.append(
                    (fields[0], fields[1] if len(fields) == 2 else None))
    else:
        pattern = osp.join(root, spec)
        for path in sorted(glob.glob(pattern, recursive=True)):
            if osp.isfile(path):
                entries.append((osp.relpath(path, root), None))
        if not entries:
            raise FileNotFoundError(
                f'No file matches {pattern!r} and {spec!r} is not a list '
                'file.')
    items = []
    for rel_path, modality in entries:
        rel_path = rel_path.replace('\\', '/')
        guessed, index = _modality_of(rel_path, modality_dirs)
        modality = modality or guessed
        if modality is None:
            raise ValueError(
                f'Cannot tell the modality of {rel_path!r}: no folder of '
                f'{sorted(modality_dirs)} in its path. Give it in the list '
                'file ("rel_path modality") or pass --modality-dirs.')
        parts = rel_path.split('/')
        if index is not None:
            parts[index] = '*'
        items.append(
            ImageItem(
                rel_path=rel_path,
                modality=modality,
                abs_path=osp.join(root, rel_path),
                group='/'.join(parts)))
    return items
