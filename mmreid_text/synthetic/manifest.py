# Copyright (c) mmreid_text contributors. All rights reserved.
"""The manifest and the incomplete-marker of a generated dataset folder.

Generation writes ``.synthetic_incomplete`` first and
``synthetic_manifest.json`` last, so an interrupted run is told apart from
a complete one, and both from a real dataset (which has neither).
"""
import json
import os
import os.path as osp
import shutil
from typing import Any, Dict, Iterable, Optional

#: Written into manifests and caption files (``generator`` field).
GENERATOR_NAME = 'mmreid_text.synthetic'
#: Bump when the output for the same parameters changes.
GENERATOR_VERSION = '2.0'
MANIFEST_NAME = 'synthetic_manifest.json'
MANIFEST_FORMAT = 'mmreid_text.synthetic.v1'
INCOMPLETE_MARKER = '.synthetic_incomplete'


def read_manifest(dataset_dir: str) -> Optional[Dict[str, Any]]:
    """The manifest of a generated dataset folder, or ``None`` if absent or
    unreadable (an unreadable manifest means: regenerate)."""
    path = osp.join(dataset_dir, MANIFEST_NAME)
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            manifest = json.load(f)
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(manifest,
                      dict) or manifest.get('format') != MANIFEST_FORMAT:
        return None
    return manifest


def write_manifest(dataset_dir: str, manifest: Dict[str, Any]) -> None:
    """Write the manifest atomically and remove the incomplete-marker."""
    path = osp.join(dataset_dir, MANIFEST_NAME)
    with open(path + '.tmp', 'w', encoding='utf-8') as f:
        json.dump(dict(manifest, format=MANIFEST_FORMAT), f, indent=1)
        f.write('\n')
    os.replace(path + '.tmp', path)
    os.remove(osp.join(dataset_dir, INCOMPLETE_MARKER))


def made_by_generator(dataset_dir: str, caption_files: Iterable[str]) -> bool:
    """Whether a folder holds (part of) a set written by this generator:
    manifest, incomplete-marker, or a caption file it wrote."""
    if (osp.exists(osp.join(dataset_dir, MANIFEST_NAME))
            or osp.exists(osp.join(dataset_dir, INCOMPLETE_MARKER))):
        return True
    for rel_path in caption_files:
        path = osp.join(dataset_dir, rel_path)
        if osp.isfile(path):
            with open(path, encoding='utf-8', errors='replace') as f:
                head = f.read(4096)
            if f'"generator": "{GENERATOR_NAME}' in head:
                return True
    return False


def prepare_dataset_dir(dataset_dir: str, managed_paths: Iterable[str],
                        caption_files: Iterable[str]) -> None:
    """Mark ``dataset_dir`` incomplete and empty its generator-owned
    entries; refuse (``RuntimeError``) a non-empty folder that was not made
    by this generator: it may be a real dataset."""
    if (osp.isdir(dataset_dir) and os.listdir(dataset_dir)
            and not made_by_generator(dataset_dir, caption_files)):
        raise RuntimeError(
            f'{dataset_dir!r} already exists and holds no sign of the '
            f'synthetic generator ({MANIFEST_NAME}, {INCOMPLETE_MARKER} or '
            'its caption files), so it may be a real dataset; it is left '
            'untouched. Pick another root for the synthetic data or delete '
            'that folder yourself.')
    os.makedirs(dataset_dir, exist_ok=True)
    with open(osp.join(dataset_dir, INCOMPLETE_MARKER), 'w') as f:
        f.write('synthetic generation in progress or interrupted\n')
    for entry in (MANIFEST_NAME, ) + tuple(managed_paths):
        path = osp.join(dataset_dir, entry)
        if osp.isdir(path):
            shutil.rmtree(path)
        elif osp.exists(path):
            os.remove(path)
