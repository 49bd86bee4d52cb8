# Copyright (c) mmreid_text contributors. All rights reserved.
"""Ground-truth caption entries and the caption files of a generated set.

Entries follow the v1 caption format (:mod:`mmreid_text.captions.format`):
``{'text': str, 'attributes': {name: {'value': str, 'confidence': 1.0}}}``,
keyed by the image path relative to the dataset folder and the modality.
"""
import os.path as osp
from typing import Dict, Iterable, Mapping, Tuple

from mmreid_text.captions.format import build_caption_data, save_caption_file

#: The modalities the renderers draw, and so the ones captions describe.
RENDERED_MODALITIES = ('rgb', 'nir', 'tir')
#: Attribute value of what a modality cannot show.
UNKNOWN = 'unknown'
CAPTION_SOURCE = 'synthetic ground truth'


def check_rendered_modality(modality: str) -> None:
    """Raise ``ValueError`` unless a renderer draws ``modality``."""
    if modality not in RENDERED_MODALITIES:
        raise ValueError(f'Unknown modality {modality!r} for synthetic '
                         f'captions; expected one of {RENDERED_MODALITIES}.')


def make_entry(text: str, attributes: Mapping[str, str]) -> Dict[str, object]:
    """A caption-file entry ``{'text', 'attributes'}`` (confidence 1.0)."""
    return {
        'text': text,
        'attributes': {
            name: {
                'value': value,
                'confidence': 1.0
            }
            for name, value in attributes.items()
        }
    }


class CaptionWriter:
    """Collects the entries of one dataset and writes one file per group.

    Args:
        dataset: Dataset name written into the files.
        groups: ``{group: caption file path relative to the dataset
            folder}``; a group's basename is the file's ``split``.
        generator: ``'<name> <version>'`` of the generator, written as the
            ``generator`` field (it marks a folder as generated).
    """

    def __init__(self, dataset: str, groups: Mapping[str, str],
                 generator: str) -> None:
        self.dataset = dataset
        self.groups = dict(groups)
        self.generator = generator
        self.captions: Dict[str, Dict[str, dict]] = {g: {} for g in groups}

    def add(self, group: str, rel_path: str, modalities: Iterable[str],
            entries: Mapping[str, dict]) -> None:
        """Add the entries of the ``modalities`` stored in ``rel_path``.

        Args:
            group: Caption group (a split folder of the layout).
            rel_path: Image path relative to the dataset folder.
            modalities: The layout's modality names stored in that file.
            entries: ``{modality: entry}``, a superset of ``modalities``.
        """
        if group not in self.captions:
            raise KeyError(f'{self.dataset}: caption group {group!r} is not '
                           f'one of {sorted(self.captions)}; a layout must '
                           'list every folder it writes in split_folders.')
        self.captions[group][rel_path] = {m: entries[m] for m in modalities}

    def save(self, dataset_dir: str) -> Tuple[str, ...]:
        """Write every caption file; return their relative paths."""
        for group, rel_file in self.groups.items():
            data = build_caption_data(
                self.dataset,
                osp.basename(group),
                CAPTION_SOURCE,
                self.captions[group],
                extra={'generator': self.generator})
            save_caption_file(osp.join(dataset_dir, rel_file), data)
        return tuple(self.groups.values())
