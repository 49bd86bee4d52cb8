# Copyright (c) mmreid_text contributors. All rights reserved.
"""Generate synthetic datasets in benchmark layouts, with a manifest.

The manifest (``<dataset_dir>/synthetic_manifest.json``) is written last; a
marker file written first (``.synthetic_incomplete``) tells an interrupted
run apart from a real dataset.  ``ensure_*`` regenerates when the manifest
is absent, its parameters differ or files are missing.
"""
import json
import os
import os.path as osp
import shutil
import time
from collections import Counter
from typing import Any, Dict, Optional, Tuple

import numpy as np
from tqdm import tqdm

from mmreid_text.captions.format import build_caption_data, save_caption_file
from .captions import caption_entry
from .identity import IdentityAttributes, sample_identity
from .layouts import JPEG_QUALITY, RGBNT201Layout
from .render import (CameraScene, make_camera_scene, render_triplet,
                     sample_pose, sample_track)

#: Bump when the output for the same parameters changes.
GENERATOR_VERSION = '1.0'
MANIFEST_NAME = 'synthetic_manifest.json'
MANIFEST_FORMAT = 'mmreid_text.synthetic.v1'
INCOMPLETE_MARKER = '.synthetic_incomplete'
CAPTION_SOURCE = 'synthetic ground truth'
GENERATOR_NAME = 'mmreid_text.synthetic'

# independent random streams: numpy seeds of the form [seed, stream, ...]
_STREAM_IDENTITY = 1
_STREAM_CAMERA = 2
_STREAM_TRACK = 3
_STREAM_FRAME = 4
_STREAM_PLAN = 5


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, *keys])


def _check_common(seed: Any, img_size: Any) -> Tuple[int, Tuple[int, int]]:
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f'seed must be a non-negative integer, got {seed!r}.')
    try:
        height, width = (int(v) for v in img_size)
    except (TypeError, ValueError):
        raise ValueError(f'img_size must be (height, width), got '
                         f'{img_size!r}.') from None
    if height < 32 or width < 16:
        raise ValueError(f'img_size {img_size!r} is too small; use at least '
                         '(32, 16), e.g. the default (256, 128).')
    return int(seed), (height, width)


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


def _made_by_generator(dataset_dir: str, layout: RGBNT201Layout) -> bool:
    """Whether a folder holds (part of) a set written by this generator:
    manifest, incomplete-marker, or a caption file it wrote."""
    if (osp.exists(osp.join(dataset_dir, MANIFEST_NAME))
            or osp.exists(osp.join(dataset_dir, INCOMPLETE_MARKER))):
        return True
    for split in layout.splits:
        path = osp.join(dataset_dir, layout.caption_file(split))
        if osp.isfile(path):
            with open(path, encoding='utf-8', errors='replace') as f:
                head = f.read(4096)
            if f'"generator": "{GENERATOR_NAME}' in head:
                return True
    return False


def _prepare_dataset_dir(dataset_dir: str, layout: RGBNT201Layout) -> None:
    """Empty the generator-owned parts of ``dataset_dir``; refuse to touch a
    folder that was not made by this generator."""
    if (osp.isdir(dataset_dir) and os.listdir(dataset_dir)
            and not _made_by_generator(dataset_dir, layout)):
        raise RuntimeError(
            f'{dataset_dir!r} already exists and holds no sign of the '
            f'synthetic generator ({MANIFEST_NAME}, {INCOMPLETE_MARKER} or '
            'its caption files), so it may be a real dataset; it is left '
            'untouched. Pick another root for the synthetic data or delete '
            'that folder yourself.')
    os.makedirs(dataset_dir, exist_ok=True)
    with open(osp.join(dataset_dir, INCOMPLETE_MARKER), 'w') as f:
        f.write('synthetic generation in progress or interrupted\n')
    manifest_path = osp.join(dataset_dir, MANIFEST_NAME)
    if osp.exists(manifest_path):
        os.remove(manifest_path)
    for entry in layout.managed_paths():
        path = osp.join(dataset_dir, entry)
        if osp.isdir(path):
            shutil.rmtree(path)
        elif osp.exists(path):
            os.remove(path)


def _write_json(path: str, data: Dict[str, Any]) -> None:
    tmp_path = path + '.tmp'
    with open(tmp_path, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=1)
        f.write('\n')
    os.replace(tmp_path, path)


class _World:
    """Identities and cameras of one seed (cached) and frame rendering."""

    def __init__(self, seed: int, img_size: Tuple[int, int]) -> None:
        self.seed = seed
        self.img_size = img_size
        self._identities: Dict[int, IdentityAttributes] = {}
        self._scenes: Dict[int, CameraScene] = {}

    def identity(self, pid: int) -> IdentityAttributes:
        if pid not in self._identities:
            self._identities[pid] = sample_identity(
                pid, _rng(self.seed, _STREAM_IDENTITY, pid))
        return self._identities[pid]

    def scene(self, cam: int) -> CameraScene:
        if cam not in self._scenes:
            self._scenes[cam] = make_camera_scene(
                cam, self.img_size, _rng(self.seed, _STREAM_CAMERA, cam))
        return self._scenes[cam]

    def render(self, pid: int, cam: int, frame: int):
        """Images ``{rgb, nir, tir, labels}``, the pose and the rng used."""
        identity = self.identity(pid)
        scene = self.scene(cam)
        track = sample_track(self.img_size,
                             _rng(self.seed, _STREAM_TRACK, pid, cam))
        rng = _rng(self.seed, _STREAM_FRAME, pid, cam, frame)
        pose = sample_pose(identity, scene, track, frame, self.img_size, rng)
        images = render_triplet(identity, scene, pose, self.img_size, rng)
        return images, pose, rng


def _split_stats(layout: RGBNT201Layout, specs) -> Dict[str, Any]:
    stats = {}
    num_modalities = len(layout.modality_dirs)
    for split in layout.splits:
        in_split = [s for s in specs if s.split == split]
        counts = Counter(s.cam for s in in_split)
        cameras = {f'cam{cam}': counts[cam] for cam in sorted(counts)}
        num_ids = len(set(s.pid for s in in_split))
        stats[split] = {
            'ids': num_ids,
            'triplets': len(in_split),
            'images': len(in_split) * num_modalities,
            'cameras': cameras,
        }
    return stats


def make_synthetic_rgbnt201(root: str,
                            num_train_ids: int = 60,
                            num_test_ids: int = 20,
                            images_per_camera: int = 4,
                            img_size: Tuple[int, int] = (256, 128),
                            seed: int = 0,
                            progress: bool = True) -> Dict[str, Any]:
    """Write a synthetic dataset in the RGBNT201 layout under ``root``.

    Creates ``<root>/RGBNT201/{train_171,test}/{RGB,NI,TI}/*.jpg``, caption
    files ``<root>/RGBNT201/captions/{train_171,test}.json`` (format v1,
    ground truth) and, last, ``<root>/RGBNT201/synthetic_manifest.json``.
    An existing synthetic dataset there is replaced; a non-empty folder
    without the generator's manifest, incomplete-marker or caption files is
    never touched (``RuntimeError``).

    Args:
        root: Data root (the dataset folder is ``<root>/RGBNT201``).
        num_train_ids: Identities in ``train_171`` (cameras 1-4).
        num_test_ids: Identities in ``test`` (cameras 1 and 2).
        images_per_camera: Frames per (identity, camera), 1..30.
        img_size: ``(H, W)`` of every image.
        seed: Non-negative seed; the same seed gives byte-identical files.
        progress: Show a tqdm progress bar.

    Returns:
        dict: ``dataset``, ``dataset_dir``, ``params``, ``splits`` (per split
        ``ids``, ``triplets``, ``images``, ``cameras``), ``total_images``,
        ``seconds`` and ``generated=True``.
    """
    start = time.perf_counter()
    seed, img_size = _check_common(seed, img_size)
    layout = RGBNT201Layout(num_train_ids, num_test_ids, images_per_camera)
    params = _params(layout, seed, img_size)
    dataset_dir = osp.join(osp.abspath(root), layout.name)
    _prepare_dataset_dir(dataset_dir, layout)
    layout.make_dirs(dataset_dir)

    world = _World(seed, img_size)
    specs = layout.plan(lambda pid, cam: _rng(seed, _STREAM_PLAN, pid, cam))
    captions: Dict[str, Dict[str, Any]] = {s: {} for s in layout.splits}
    for spec in tqdm(
            specs,
            desc=f'synthetic {layout.name}',
            unit='triplet',
            disable=not progress):
        images, pose, rng = world.render(spec.pid, spec.cam, spec.frame)
        variant = int(rng.integers(2))
        identity = world.identity(spec.pid)
        for rel_path, modalities in layout.write(dataset_dir, spec,
                                                 images).items():
            captions[spec.split][rel_path] = {
                mod: caption_entry(identity, pose.view, mod, variant)
                for mod in modalities
            }
    for split in layout.splits:
        data = build_caption_data(
            layout.name,
            split,
            CAPTION_SOURCE,
            captions[split],
            extra={'generator': f'{GENERATOR_NAME} {GENERATOR_VERSION}'})
        save_caption_file(
            osp.join(dataset_dir, layout.caption_file(split)), data)

    splits = _split_stats(layout, specs)
    manifest = {
        'format': MANIFEST_FORMAT,
        'dataset': layout.name,
        'generator_version': GENERATOR_VERSION,
        'params': params,
        'splits': splits,
    }
    _write_json(osp.join(dataset_dir, MANIFEST_NAME), manifest)
    os.remove(osp.join(dataset_dir, INCOMPLETE_MARKER))
    return _stats(manifest, dataset_dir, time.perf_counter() - start, True)


def _params(layout: RGBNT201Layout, seed: int,
            img_size: Tuple[int, int]) -> Dict[str, Any]:
    params = layout.params()
    params.update(
        seed=seed, img_size=list(img_size), jpeg_quality=JPEG_QUALITY)
    return params


def _stats(manifest: Dict[str, Any], dataset_dir: str, seconds: float,
           generated: bool) -> Dict[str, Any]:
    splits = manifest['splits']
    return {
        'dataset': manifest['dataset'],
        'dataset_dir': dataset_dir,
        'params': manifest['params'],
        'splits': splits,
        'total_images': sum(s['images'] for s in splits.values()),
        'seconds': seconds,
        'generated': generated,
    }


def _files_complete(dataset_dir: str, layout: RGBNT201Layout,
                    manifest: Dict[str, Any]) -> bool:
    """Cheap check that the files the manifest announces are there."""
    for split in layout.splits:
        expected = manifest['splits'].get(split, {}).get('triplets')
        if not osp.isfile(osp.join(dataset_dir, layout.caption_file(split))):
            return False
        for folder in layout.modality_dirs.values():
            path = osp.join(dataset_dir, split, folder)
            if not osp.isdir(path) or len(os.listdir(path)) != expected:
                return False
    return True


def ensure_synthetic_rgbnt201(root: str,
                              num_train_ids: int = 60,
                              num_test_ids: int = 20,
                              images_per_camera: int = 4,
                              img_size: Tuple[int, int] = (256, 128),
                              seed: int = 0,
                              progress: bool = True) -> Dict[str, Any]:
    """Generate the synthetic RGBNT201 set unless an identical one exists.

    Returns immediately (``generated=False``) when the manifest is present,
    was written by this generator version with the same parameters, and the
    split folders hold the announced number of files; otherwise calls
    :func:`make_synthetic_rgbnt201` with the same arguments.
    Not safe against several processes generating at once: call it on one
    rank and synchronise.
    """
    start = time.perf_counter()
    seed, img_size = _check_common(seed, img_size)
    layout = RGBNT201Layout(num_train_ids, num_test_ids, images_per_camera)
    dataset_dir = osp.join(osp.abspath(root), layout.name)
    manifest = read_manifest(dataset_dir)
    if (manifest is not None
            and manifest.get('generator_version') == GENERATOR_VERSION
            and manifest.get('params') == _params(layout, seed, img_size)
            and _files_complete(dataset_dir, layout, manifest)):
        return _stats(manifest, dataset_dir,
                      time.perf_counter() - start, False)
    return make_synthetic_rgbnt201(
        root,
        num_train_ids=num_train_ids,
        num_test_ids=num_test_ids,
        images_per_camera=images_per_camera,
        img_size=img_size,
        seed=seed,
        progress=progress)
