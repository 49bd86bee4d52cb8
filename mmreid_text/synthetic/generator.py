# Copyright (c) mmreid_text contributors. All rights reserved.
"""The generator: renders the plan of any layout and writes the dataset.

::

    make_synthetic('MSVR310', 'data/synthetic', seed=0)
    # -> data/synthetic/MSVR310/{bounding_box_train,query3,
    #                            bounding_box_test}/<vid>/{vis,ni,th}/...

One generator serves every layout (:mod:`.layouts`): the layout plans the
samples and writes the files, the layout's subject (:mod:`.subjects`)
renders them on the camera scenes (:mod:`.scene`), :mod:`.caption_writer`
writes the ground-truth captions and :mod:`.manifest` the manifest. The
same layout, parameters and seed give byte-identical files.
"""
import os.path as osp
import time
from collections import Counter
from typing import Any, Dict, List, Optional, Sequence, Tuple

from tqdm import tqdm

from .caption_writer import CaptionWriter
from .imaging import JPEG_QUALITY
from .layouts import FrameSpec, SyntheticLayout, build_layout, check_int
from .manifest import (GENERATOR_NAME, GENERATOR_VERSION, INCOMPLETE_MARKER,
                       prepare_dataset_dir, read_manifest, write_manifest)
from .scene import CameraScene, make_camera_scene, render_background
from .streams import Stream, stream_rng
from .subjects import SUBJECTS, CaptionFn, Images


class SyntheticWorld:
    """Identities, cameras and frames of one layout and seed (cached).

    Every draw comes from the layout's own streams (:mod:`.streams`).
    """

    def __init__(self, layout: SyntheticLayout, seed: int,
                 img_size: Tuple[int, int]) -> None:
        self.layout = layout
        self.subject = SUBJECTS[layout.subject].with_options(
            **layout.subject_options)
        self.seed = seed
        self.img_size = img_size
        self._identities: Dict[int, Any] = {}
        self._scenes: Dict[int, CameraScene] = {}

    def rng(self, stream: Stream, *keys: int):
        return stream_rng(self.seed, self.layout.stream_id, stream, *keys)

    def identity(self, subject_id: int) -> Any:
        """Attributes of identity ``subject_id``."""
        if subject_id not in self._identities:
            self._identities[subject_id] = self.subject.sample(
                subject_id, self.rng(Stream.IDENTITY, subject_id))
        return self._identities[subject_id]

    def scene(self, cam: int) -> CameraScene:
        """Background, optics and illumination of camera ``cam``."""
        if cam not in self._scenes:
            self._scenes[cam] = make_camera_scene(cam, self.img_size,
                                                  self.rng(Stream.CAMERA, cam))
        return self._scenes[cam]

    def render(self, spec: FrameSpec) -> Tuple[Images, Optional[CaptionFn]]:
        """Images of a sample and ``caption(rendered modality) -> entry``
        (None for a background crop)."""
        scene = self.scene(spec.cam)
        who = spec.subject_id
        frame_rng = self.rng(Stream.FRAME, who, spec.cam, spec.track,
                             spec.index, spec.scene)
        if who < 0:
            return render_background(scene, self.img_size, frame_rng), None
        track_rng = self.rng(Stream.TRACK, who, spec.cam, spec.track)
        return self.subject.render(
            self.identity(who), scene, spec.index, spec.night, self.img_size,
            track_rng, frame_rng)


def _check_img_size(layout: SyntheticLayout,
                    img_size: Optional[Sequence[int]]) -> Tuple[int, int]:
    if img_size is None:
        return tuple(layout.default_img_size)
    try:
        height, width = (int(v) for v in img_size)
    except (TypeError, ValueError):
        raise ValueError(f'img_size must be (height, width), got '
                         f'{img_size!r}.') from None
    if height < 32 or width < 16:
        raise ValueError(f'img_size {img_size!r} is too small; use at least '
                         f'(32, 16), e.g. {layout.default_img_size}.')
    return height, width


def _check_plan(layout: SyntheticLayout, specs: List[FrameSpec]) -> None:
    """Catch layout bugs before anything is written."""
    seen, files = set(), set()
    for spec in specs:
        if spec.folder not in layout.split_folders:
            raise ValueError(f'{layout.name}: plan() wrote to {spec.folder!r}'
                             f', not one of split_folders '
                             f'{layout.split_folders}.')
        if spec.source is not None and spec.source not in seen:
            raise ValueError(f'{layout.name}: a copy of {spec.source} comes '
                             'before (or without) the sample it copies.')
        for rel_path in layout.files(spec):
            if rel_path in files:
                raise ValueError(f'{layout.name}: two samples write '
                                 f'{rel_path!r}.')
            files.add(rel_path)
        seen.add(spec)


def _params(layout: SyntheticLayout, seed: int,
            img_size: Tuple[int, int]) -> Dict[str, Any]:
    params = layout.params()
    params.update(
        seed=seed, img_size=list(img_size), jpeg_quality=JPEG_QUALITY)
    return params


def _split_stats(layout: SyntheticLayout,
                 specs: List[FrameSpec]) -> Dict[str, Any]:
    stats = {}
    for folder in layout.split_folders:
        inside = [s for s in specs if s.folder == folder]
        cameras = Counter(s.cam for s in inside)
        stats[folder] = {
            'ids': len({s.pid
                        for s in inside if s.pid > 0}),
            'samples': len(inside),
            'images': sum(len(layout.files(s)) for s in inside),
            'distractors': sum(s.pid == 0 for s in inside),
            'junk': sum(s.pid < 0 for s in inside),
            'cameras': {
                f'cam{c}': cameras[c]
                for c in sorted(cameras)
            },
        }
        if any(s.scene >= 0 for s in inside):
            stats[folder]['scenes'] = len({s.scene for s in inside})
        if any(s.track > 0 for s in inside):
            stats[folder]['tracks'] = len({(s.pid, s.cam, s.track)
                                           for s in inside})
    return stats


def _result(manifest: Dict[str, Any], dataset_dir: str, seconds: float,
            generated: bool) -> Dict[str, Any]:
    splits = manifest['splits']
    return {
        'dataset': manifest['dataset'],
        'dataset_dir': dataset_dir,
        'params': manifest['params'],
        'splits': splits,
        'total_samples': sum(s['samples'] for s in splits.values()),
        'total_images': sum(s['images'] for s in splits.values()),
        'seconds': seconds,
        'generated': generated,
    }


def _setup(dataset: str, root: str, seed: int,
           img_size: Optional[Sequence[int]], layout_params: Dict[str, Any]):
    seed = check_int('seed', seed, 0, 2**32 - 1)
    layout = build_layout(dataset, **layout_params)
    img_size = _check_img_size(layout, img_size)
    dataset_dir = osp.join(osp.abspath(root), layout.dataset_folder)
    return layout, seed, img_size, dataset_dir


def make_synthetic(dataset: str,
                   root: str,
                   seed: int = 0,
                   img_size: Optional[Sequence[int]] = None,
                   progress: bool = False,
                   **layout_params: Any) -> Dict[str, Any]:
    """Write a synthetic dataset in a real benchmark layout.

    Args:
        dataset: A key of :data:`SYNTHETIC_LAYOUTS` (``'RGBNT201'``,
            ``'RGBNT100'``, ``'MSVR310'``, ``'WMVEID863'``, ``'MarketMM'``).
        root: Data root; the dataset goes to ``<root>/<dataset_folder>``
            (e.g. ``RGBNT201``, ``Market1501-MM``). An earlier synthetic set
            there is replaced; a non-empty folder without the generator's
            manifest, incomplete-marker or caption files is never touched
            (``RuntimeError``).
        seed: Non-negative seed; the same seed and parameters give
            byte-identical files.
        img_size: ``(H, W)`` of one modality image (default: the layout's,
            e.g. 256x128 for RGBNT201, 128x256 for vehicles; RGBNT100 files
            are ``H x 3W``).
        progress: Show a tqdm progress bar.
        **layout_params: Arguments of the layout class (``num_train_ids``,
            ``num_test_ids``, ...).

    Returns:
        dict: ``dataset``, ``dataset_dir``, ``params``, ``splits`` (per
        split folder: ``ids``, ``samples``, ``images`` (files),
        ``distractors``, ``junk``, ``cameras`` (``{'camC': samples}``) and
        ``scenes`` / ``tracks`` where named), ``total_samples``,
        ``total_images``, ``seconds``, ``generated=True``.
    """
    start = time.perf_counter()
    layout, seed, img_size, dataset_dir = _setup(dataset, root, seed, img_size,
                                                 layout_params)
    specs = layout.plan(seed)
    _check_plan(layout, specs)
    prepare_dataset_dir(dataset_dir, layout.managed_paths(),
                        layout.caption_files())
    world = SyntheticWorld(layout, seed, img_size)
    writer = CaptionWriter(
        layout.name, {f: layout.caption_file(f)
                      for f in layout.split_folders},
        generator=f'{GENERATOR_NAME} {GENERATOR_VERSION}')
    entries: Dict[FrameSpec, Optional[Dict[str, Any]]] = {}
    for spec in tqdm(
            specs, desc=f'synthetic {layout.name}', disable=not progress):
        if spec.source is not None:
            written = layout.copy(dataset_dir, spec)
            entry = entries[spec.source]
        else:
            images, caption = world.render(spec)
            written = layout.write(dataset_dir, spec, images)
            entry = None if caption is None else {
                mod: caption(layout.rendered_modality(mod))
                for mod in layout.modalities
            }
            entries[spec] = entry
        if entry is not None:
            for rel_path, modalities in written.items():
                writer.add(spec.folder, rel_path, modalities, entry)
    writer.save(dataset_dir)
    layout.write_index(dataset_dir, specs)
    manifest = {
        'dataset': layout.name,
        'generator': GENERATOR_NAME,
        'generator_version': GENERATOR_VERSION,
        'params': _params(layout, seed, img_size),
        'splits': _split_stats(layout, specs),
    }
    write_manifest(dataset_dir, manifest)
    return _result(manifest, dataset_dir, time.perf_counter() - start, True)


def ensure_synthetic(dataset: str,
                     root: str,
                     seed: int = 0,
                     img_size: Optional[Sequence[int]] = None,
                     progress: bool = False,
                     **layout_params: Any) -> Dict[str, Any]:
    """Generate the dataset unless an identical one is already there.

    Returns at once (``generated=False``) when the manifest was written by
    this generator version with the same parameters and every planned file
    exists; otherwise calls :func:`make_synthetic` with the same arguments.
    Not safe against several processes generating at once: call it on one
    process only (e.g. rank 0) and synchronise.
    """
    start = time.perf_counter()
    layout, seed, img_size, dataset_dir = _setup(dataset, root, seed, img_size,
                                                 layout_params)
    manifest = read_manifest(dataset_dir)
    if (manifest is not None and manifest.get('generator') == GENERATOR_NAME
            and manifest.get('generator_version') == GENERATOR_VERSION
            and manifest.get('params') == _params(layout, seed, img_size)
            and not osp.exists(osp.join(dataset_dir, INCOMPLETE_MARKER))
            and all(
                osp.isfile(osp.join(dataset_dir, p))
                for p in layout.expected_files(layout.plan(seed)))):
        return _result(manifest, dataset_dir,
                       time.perf_counter() - start, False)
    return make_synthetic(
        dataset,
        root,
        seed=seed,
        img_size=img_size,
        progress=progress,
        **layout_params)
