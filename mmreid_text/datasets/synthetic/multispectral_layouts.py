# Copyright (c) mmreid_text contributors. All rights reserved.
"""Synthetic RGBNT100, MSVR310, WMVEID863 and Market1501-MM layouts.

Writes tiny, deterministic datasets in the exact on-disk layouts the real
loaders read (``docs/datasets_multispectral.md``), plus ground-truth caption
files (format v1) and a manifest::

    make_synthetic_multispectral('MSVR310', 'data/synthetic', seed=0)
    # -> data/synthetic/MSVR310/{bounding_box_train,query3,
    #                            bounding_box_test}/<vid>/{vis,ni,th}/...

Vehicles (RGBNT100, MSVR310, WMVEID863) are drawn by
:mod:`.vehicle_render`, persons (Market1501-MM) by the person renderer of
:mod:`.render`; both use the camera backgrounds of
:func:`.render.make_camera_scene`. The same seed and parameters give
byte-identical files.
"""
import json
import os
import os.path as osp
import shutil
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from tqdm import tqdm

from mmreid_text.captions.format import build_caption_data, save_caption_file
from .captions import caption_entry
from .generator import (INCOMPLETE_MARKER, MANIFEST_FORMAT, MANIFEST_NAME,
                        read_manifest)
from .identity import sample_identity
from .layouts import JPEG_QUALITY, save_jpeg
from .render import (make_camera_scene, render_triplet, sample_pose,
                     sample_track)
from .vehicle_render import (VEHICLE_VIEWS, render_vehicle_triplet,
                             sample_vehicle, sample_vehicle_pose,
                             vehicle_caption_entry)

#: Bump when the output for the same parameters changes.
MULTISPECTRAL_GENERATOR_VERSION = '1.0'
GENERATOR_NAME = 'mmreid_text.synthetic.multispectral'
CAPTION_SOURCE = 'synthetic ground truth'
MODALITIES = ('rgb', 'nir', 'tir')

# random streams: numpy seeds [seed, stream, ...]
_STREAM_PLAN = 21
_STREAM_IDENTITY = 22
_STREAM_CAMERA = 23
_STREAM_TRACK = 24
_STREAM_FRAME = 25


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, *[int(k) + 1 for k in keys]])


@dataclass(frozen=True)
class FrameSpec:
    """One sample to write.

    Attributes:
        folder: Split folder relative to the dataset folder.
        role: ``'train'``, ``'query'`` or ``'gallery'``.
        pid: Identity written in the name / folder (Market: 0 =
            distractor, -1 = junk).
        cam: Camera number as written in the name.
        index: Frame index written in the name.
        scene: Scene / session number written in the name (-1: none).
        night: Poor visible light in this frame.
        render_id: Identity drawn (differs from ``pid`` for distractors).
        source: For copies (query ⊂ gallery), the frame copied.
    """
    folder: str
    role: str
    pid: int
    cam: int
    index: int
    scene: int = -1
    night: bool = False
    render_id: int = 0
    source: Optional['FrameSpec'] = None


def _check_int(name: str, value: Any, low: int, high: int = 10**9) -> int:
    if not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f'{name} must be an integer in [{low}, {high}], got '
                         f'{value!r}.')
    return int(value)


class MultiSpectralLayout:
    """Base of the layouts: where files go and how they are named.

    Subclasses set the class attributes and implement :meth:`plan`,
    :meth:`file_name` and :meth:`rel_paths`.
    """

    name: str = ''
    dataset_folder: str = ''
    kind: str = 'vehicle'  # or 'person'
    default_img_size: Tuple[int, int] = (128, 256)
    split_folders: Tuple[str, ...] = ()
    modality_dirs: Dict[str, str] = {}

    def plan(self, seed: int) -> List[FrameSpec]:
        """Every sample, gallery frames before the query copies of them."""
        raise NotImplementedError

    def file_name(self, spec: FrameSpec) -> str:
        raise NotImplementedError

    def rel_paths(self, spec: FrameSpec) -> Dict[str, str]:
        """``{modality: path relative to the dataset folder}``."""
        raise NotImplementedError

    def params(self) -> Dict[str, Any]:
        return dict(self._params)

    def managed_paths(self) -> Tuple[str, ...]:
        """Top-level entries of the dataset folder the generator owns."""
        tops = {folder.split('/')[0] for folder in self.split_folders}
        return tuple(sorted(tops)) + ('captions', )

    def caption_file(self, folder: str) -> str:
        return f'captions/{osp.basename(folder)}.json'

    def write(self, dataset_dir: str, spec: FrameSpec,
              images: Dict[str, np.ndarray]) -> Dict[str, Tuple[str, ...]]:
        """Save one sample; return ``{rel_path: modalities in the file}``.
        """
        written = {}
        for mod, rel_path in self.rel_paths(spec).items():
            path = osp.join(dataset_dir, rel_path)
            os.makedirs(osp.dirname(path), exist_ok=True)
            save_jpeg(path, images[mod])
            written[rel_path] = (mod, )
        return written

    def copy(self, dataset_dir: str,
             spec: FrameSpec) -> Dict[str, Tuple[str, ...]]:
        """Write ``spec`` as a byte copy of ``spec.source``."""
        written = {}
        source_paths = self.rel_paths(spec.source)
        for mod, rel_path in self.rel_paths(spec).items():
            path = osp.join(dataset_dir, rel_path)
            os.makedirs(osp.dirname(path), exist_ok=True)
            if rel_path not in written:
                shutil.copyfile(osp.join(dataset_dir, source_paths[mod]), path)
                written[rel_path] = ()
            written[rel_path] += (mod, )
        return written

    # helpers --------------------------------------------------------------
    def _init_camera_plan(self,
                          num_train_ids: int,
                          num_test_ids: int,
                          cameras_per_id: int,
                          images_per_camera: int,
                          queries_per_id: int,
                          night_fraction: float,
                          max_train_ids: int,
                          max_test_ids: int,
                          max_images: int,
                          pids_share_range: bool = False) -> None:
        """Check and store the parameters shared by the layouts whose
        identities are seen by ``cameras_per_id`` of cameras 1..8 and whose
        query files copy gallery frames (RGBNT100, WMVEID863). With
        ``pids_share_range`` test ids follow the train ids, so at most
        ``max_test_ids - num_train_ids`` of them fit."""
        self.num_train_ids = _check_int('num_train_ids', num_train_ids, 1,
                                        max_train_ids)
        if pids_share_range:
            max_test_ids -= self.num_train_ids
        self.num_test_ids = _check_int('num_test_ids', num_test_ids, 1,
                                       max_test_ids)
        self.cameras_per_id = _check_int('cameras_per_id', cameras_per_id, 2,
                                         8)
        self.images_per_camera = _check_int('images_per_camera',
                                            images_per_camera, 1,
                                            max_images // self.cameras_per_id)
        self.queries_per_id = _check_int('queries_per_id', queries_per_id, 1,
                                         self.cameras_per_id)
        self.night_fraction = float(night_fraction)
        self._params = dict(
            num_train_ids=self.num_train_ids,
            num_test_ids=self.num_test_ids,
            cameras_per_id=self.cameras_per_id,
            images_per_camera=self.images_per_camera,
            queries_per_id=self.queries_per_id,
            night_fraction=self.night_fraction)

    @staticmethod
    def _cameras(rng: np.random.Generator, cameras: Sequence[int],
                 count: int) -> List[int]:
        return sorted(
            int(c) for c in rng.choice(cameras, count, replace=False))


class RGBNT100Layout(MultiSpectralLayout):
    """``RGBNT100/rgbir/{bounding_box_train,query,bounding_box_test}/
    PPPP_cCCCC_III.jpg``, one ``H x 3W`` image = RGB | NIR | TIR.

    Train pids are odd (501, 503, ...), test pids even (502, ...) as in the
    real set; each identity is seen by ``cameras_per_id`` of the cameras
    1..8; the query files are byte copies of gallery files (the first
    frame of the first ``queries_per_id`` cameras of each test id).
    """

    name = 'RGBNT100'
    dataset_folder = 'RGBNT100'
    split_folders = ('rgbir/bounding_box_train', 'rgbir/query',
                     'rgbir/bounding_box_test')

    def __init__(self,
                 num_train_ids: int = 16,
                 num_test_ids: int = 8,
                 cameras_per_id: int = 3,
                 images_per_camera: int = 2,
                 queries_per_id: int = 2,
                 night_fraction: float = 0.1) -> None:
        self._init_camera_plan(
            num_train_ids,
            num_test_ids,
            cameras_per_id,
            images_per_camera,
            queries_per_id,
            night_fraction,
            max_train_ids=4000,
            max_test_ids=4000,
            max_images=999)

    def plan(self, seed: int) -> List[FrameSpec]:
        train = [501 + 2 * i for i in range(self.num_train_ids)]
        test = [502 + 2 * i for i in range(self.num_test_ids)]
        specs, queries = [], []
        for pids, folder, role in ((train, 'rgbir/bounding_box_train',
                                    'train'), (test, 'rgbir/bounding_box_test',
                                               'gallery')):
            for pid in pids:
                rng = _rng(seed, _STREAM_PLAN, pid)
                cams = self._cameras(rng, range(1, 9), self.cameras_per_id)
                index = 0
                for cam_rank, cam in enumerate(cams):
                    for frame in range(self.images_per_camera):
                        spec = FrameSpec(
                            folder,
                            role,
                            pid,
                            cam,
                            index,
                            night=bool(rng.random() < self.night_fraction),
                            render_id=pid)
                        specs.append(spec)
                        index += 1
                        if (role == 'gallery' and frame == 0
                                and cam_rank < self.queries_per_id):
                            queries.append(
                                FrameSpec(
                                    'rgbir/query',
                                    'query',
                                    pid,
                                    cam,
                                    spec.index,
                                    night=spec.night,
                                    render_id=pid,
                                    source=spec))
        return specs + queries

    def file_name(self, spec: FrameSpec) -> str:
        return f'{spec.pid:04d}_c{spec.cam:04d}_{spec.index:03d}.jpg'

    def rel_paths(self, spec: FrameSpec) -> Dict[str, str]:
        path = f'{spec.folder}/{self.file_name(spec)}'
        return {mod: path for mod in MODALITIES}

    def write(self, dataset_dir: str, spec: FrameSpec,
              images: Dict[str, np.ndarray]) -> Dict[str, Tuple[str, ...]]:
        rel_path = self.rel_paths(spec)['rgb']
        path = osp.join(dataset_dir, rel_path)
        os.makedirs(osp.dirname(path), exist_ok=True)
        save_jpeg(path, np.concatenate([images[m] for m in MODALITIES],
                                       axis=1))
        return {rel_path: MODALITIES}


class _IdentityFolderLayout(MultiSpectralLayout):
    """``<split>/<vid>/{vis,ni,th}/<name>`` (MSVR310, WMVEID863)."""

    modality_dirs = dict(rgb='vis', nir='ni', tir='th')

    def rel_paths(self, spec: FrameSpec) -> Dict[str, str]:
        name = self.file_name(spec)
        return {
            mod: f'{spec.folder}/{spec.pid:04d}/{sub}/{name}'
            for mod, sub in self.modality_dirs.items()
        }


class MSVR310Layout(_IdentityFolderLayout):
    """``MSVR310/{bounding_box_train,query3,bounding_box_test}/PPPP/
    {vis,ni,th}/PPPP_sSSS_vV_III.jpg``.

    Train pids are odd, test pids even. Every train id and each of the
    first ``num_query_ids`` test ids is shot in ``scenes_per_id`` (>= 2)
    scenes (time spans, 0..30); the other test ids appear in one scene only
    (distractors, as in the real set). Each scene is seen from
    ``views_per_scene`` of the views 0..7; a scene is at night or not for
    all of its frames. ``query3`` holds byte copies of the first frame of
    every scene of the query ids, so ``query3`` ⊂ ``bounding_box_test`` and
    each query has positives in another scene.
    """

    name = 'MSVR310'
    dataset_folder = 'MSVR310'
    split_folders = ('bounding_box_train', 'query3', 'bounding_box_test')

    def __init__(self,
                 num_train_ids: int = 16,
                 num_test_ids: int = 10,
                 num_query_ids: int = 5,
                 scenes_per_id: int = 2,
                 views_per_scene: int = 2,
                 images_per_view: int = 1,
                 night_fraction: float = 0.3) -> None:
        self.num_train_ids = _check_int('num_train_ids', num_train_ids, 1,
                                        4999)
        self.num_test_ids = _check_int('num_test_ids', num_test_ids, 1, 4999)
        self.num_query_ids = _check_int('num_query_ids', num_query_ids, 1,
                                        self.num_test_ids)
        self.scenes_per_id = _check_int('scenes_per_id', scenes_per_id, 2, 31)
        self.views_per_scene = _check_int('views_per_scene', views_per_scene,
                                          1, 8)
        self.images_per_view = _check_int(
            'images_per_view', images_per_view, 1,
            999 // (self.scenes_per_id * self.views_per_scene))
        self.night_fraction = float(night_fraction)
        self._params = dict(
            num_train_ids=self.num_train_ids,
            num_test_ids=self.num_test_ids,
            num_query_ids=self.num_query_ids,
            scenes_per_id=self.scenes_per_id,
            views_per_scene=self.views_per_scene,
            images_per_view=self.images_per_view,
            night_fraction=self.night_fraction)

    def plan(self, seed: int) -> List[FrameSpec]:
        night = {
            scene:
            bool(
                _rng(seed, _STREAM_PLAN, 0, scene).random() <
                self.night_fraction)
            for scene in range(31)
        }
        train = [1 + 2 * i for i in range(self.num_train_ids)]
        test = [2 + 2 * i for i in range(self.num_test_ids)]
        query_ids = set(test[:self.num_query_ids])
        specs, queries = [], []
        for pids, folder, role in ((train, 'bounding_box_train', 'train'),
                                   (test, 'bounding_box_test', 'gallery')):
            for pid in pids:
                rng = _rng(seed, _STREAM_PLAN, 1, pid)
                num_scenes = (
                    self.scenes_per_id
                    if role == 'train' or pid in query_ids else 1)
                scenes = self._cameras(rng, range(31), num_scenes)
                index = 0
                for scene in scenes:
                    views = self._cameras(rng, range(8), self.views_per_scene)
                    for view_rank, view in enumerate(views):
                        for frame in range(self.images_per_view):
                            spec = FrameSpec(
                                folder,
                                role,
                                pid,
                                view,
                                index,
                                scene=scene,
                                night=night[scene],
                                render_id=pid)
                            specs.append(spec)
                            index += 1
                            if (pid in query_ids and role == 'gallery'
                                    and view_rank == 0 and frame == 0):
                                queries.append(
                                    FrameSpec(
                                        'query3',
                                        'query',
                                        pid,
                                        view,
                                        spec.index,
                                        scene=scene,
                                        night=spec.night,
                                        render_id=pid,
                                        source=spec))
        return specs + queries

    def file_name(self, spec: FrameSpec) -> str:
        return (f'{spec.pid:04d}_s{spec.scene:03d}_v{spec.cam}_'
                f'{spec.index:03d}.jpg')


class WMVEID863Layout(_IdentityFolderLayout):
    """``WMVEID863/{train,query,test}/PPPP/{vis,ni,th}/
    v<C>_n<N>_s<SSS>_<IIII>.jpg``.

    ``C`` = camera 1..8, ``N`` = 1 at night (lit lamps flare in RGB),
    ``SSS`` = the session (rank of the camera for this id), ``IIII`` =
    index. Train pids 1..N, test pids follow. The query files are byte
    copies of the first frame of the first ``queries_per_id`` cameras of
    every test id.
    """

    name = 'WMVEID863'
    dataset_folder = 'WMVEID863'
    split_folders = ('train', 'query', 'test')

    def __init__(self,
                 num_train_ids: int = 16,
                 num_test_ids: int = 8,
                 cameras_per_id: int = 3,
                 images_per_camera: int = 2,
                 queries_per_id: int = 1,
                 night_fraction: float = 0.3) -> None:
        self._init_camera_plan(
            num_train_ids,
            num_test_ids,
            cameras_per_id,
            images_per_camera,
            queries_per_id,
            night_fraction,
            max_train_ids=4999,
            max_test_ids=9999,
            max_images=9999,
            pids_share_range=True)

    def plan(self, seed: int) -> List[FrameSpec]:
        train = list(range(1, self.num_train_ids + 1))
        test = [self.num_train_ids + 1 + i for i in range(self.num_test_ids)]
        specs, queries = [], []
        for pids, folder, role in ((train, 'train', 'train'), (test, 'test',
                                                               'gallery')):
            for pid in pids:
                rng = _rng(seed, _STREAM_PLAN, pid)
                cams = self._cameras(rng, range(1, 9), self.cameras_per_id)
                index = 1
                for session, cam in enumerate(cams, start=1):
                    night = bool(rng.random() < self.night_fraction)
                    for frame in range(self.images_per_camera):
                        spec = FrameSpec(
                            folder,
                            role,
                            pid,
                            cam,
                            index,
                            scene=session,
                            night=night,
                            render_id=pid)
                        specs.append(spec)
                        index += 1
                        if (role == 'gallery' and frame == 0
                                and session <= self.queries_per_id):
                            queries.append(
                                FrameSpec(
                                    'query',
                                    'query',
                                    pid,
                                    cam,
                                    spec.index,
                                    scene=session,
                                    night=night,
                                    render_id=pid,
                                    source=spec))
        return specs + queries

    def file_name(self, spec: FrameSpec) -> str:
        return (f'v{spec.cam}_n{int(spec.night)}_s{spec.scene:03d}_'
                f'{spec.index:04d}.jpg')


class MarketMMLayout(MultiSpectralLayout):
    """``Market1501-MM/{train,query,gallery}/{RGB,NI,TI}/
    PPPP_cCsS_FFFFFF_NN.jpg`` (persons, cameras 1..6).

    Train pids 1..N, test pids follow. Each test id has one query image
    (its first camera) rendered apart from its gallery images, as in
    Market-1501. The gallery also holds ``num_distractors`` images of
    other people under pid 0 and ``num_junk`` background-only crops under
    pid -1 (skipped by the loader).
    """

    name = 'MarketMM'
    dataset_folder = 'Market1501-MM'
    kind = 'person'
    default_img_size = (128, 64)
    split_folders = ('train', 'query', 'gallery')
    modality_dirs = dict(rgb='RGB', nir='NI', tir='TI')

    def __init__(self,
                 num_train_ids: int = 16,
                 num_test_ids: int = 8,
                 cameras_per_id: int = 3,
                 images_per_camera: int = 2,
                 num_distractors: int = 4,
                 num_junk: int = 2) -> None:
        self.num_train_ids = _check_int('num_train_ids', num_train_ids, 1,
                                        4999)
        self.num_test_ids = _check_int('num_test_ids', num_test_ids, 1,
                                       9999 - self.num_train_ids)
        self.cameras_per_id = _check_int('cameras_per_id', cameras_per_id, 2,
                                         6)
        self.images_per_camera = _check_int('images_per_camera',
                                            images_per_camera, 1, 1000)
        self.num_distractors = _check_int('num_distractors', num_distractors,
                                          0, 10**5)
        self.num_junk = _check_int('num_junk', num_junk, 0, 10**5)
        self._params = dict(
            num_train_ids=self.num_train_ids,
            num_test_ids=self.num_test_ids,
            cameras_per_id=self.cameras_per_id,
            images_per_camera=self.images_per_camera,
            num_distractors=self.num_distractors,
            num_junk=self.num_junk)

    def plan(self, seed: int) -> List[FrameSpec]:
        train = list(range(1, self.num_train_ids + 1))
        test = [self.num_train_ids + 1 + i for i in range(self.num_test_ids)]
        specs = []
        for pids, folder, role in ((train, 'train', 'train'), (test, 'gallery',
                                                               'gallery')):
            for pid in pids:
                rng = _rng(seed, _STREAM_PLAN, pid)
                cams = self._cameras(rng, range(1, 7), self.cameras_per_id)
                index = 0
                if role == 'gallery':
                    specs.append(
                        FrameSpec(
                            'query',
                            'query',
                            pid,
                            cams[0],
                            index,
                            render_id=pid))
                    index += 1
                for cam in cams:
                    for _ in range(self.images_per_camera):
                        specs.append(
                            FrameSpec(
                                folder, role, pid, cam, index, render_id=pid))
                        index += 1
        rng = _rng(seed, _STREAM_PLAN, 0)
        for k in range(self.num_distractors):
            specs.append(
                FrameSpec(
                    'gallery',
                    'gallery',
                    0,
                    int(rng.integers(1, 7)),
                    k,
                    render_id=100000 + k))
        for k in range(self.num_junk):
            specs.append(
                FrameSpec(
                    'gallery',
                    'gallery',
                    -1,
                    int(rng.integers(1, 7)),
                    k,
                    render_id=-1))
        return specs

    def file_name(self, spec: FrameSpec) -> str:
        frame = 25 * spec.index + 1
        pid = '-1' if spec.pid < 0 else f'{spec.pid:04d}'
        return f'{pid}_c{spec.cam}s1_{frame:06d}_01.jpg'

    def rel_paths(self, spec: FrameSpec) -> Dict[str, str]:
        name = self.file_name(spec)
        return {
            mod: f'{spec.folder}/{sub}/{name}'
            for mod, sub in self.modality_dirs.items()
        }


SYNTHETIC_LAYOUTS: Dict[str, type] = {
    'RGBNT100': RGBNT100Layout,
    'MSVR310': MSVR310Layout,
    'WMVEID863': WMVEID863Layout,
    'MarketMM': MarketMMLayout,
}


class _Renderer:
    """Identities, cameras and frames of one seed (vehicles or persons)."""

    def __init__(self, kind: str, seed: int, img_size: Tuple[int,
                                                             int]) -> None:
        self.kind = kind
        self.seed = seed
        self.img_size = img_size
        self._identities: Dict[int, Any] = {}
        self._scenes: Dict[int, Any] = {}

    def identity(self, render_id: int):
        if render_id not in self._identities:
            rng = _rng(self.seed, _STREAM_IDENTITY, render_id)
            sample = sample_vehicle if self.kind == 'vehicle' else (
                sample_identity)
            self._identities[render_id] = sample(render_id, rng)
        return self._identities[render_id]

    def scene(self, cam: int):
        if cam not in self._scenes:
            self._scenes[cam] = make_camera_scene(
                cam, self.img_size, _rng(self.seed, _STREAM_CAMERA, cam))
        return self._scenes[cam]

    def render(
            self, spec: FrameSpec
    ) -> Tuple[Dict[str, np.ndarray], Optional[Callable]]:
        """Images of a frame and ``caption(modality) -> entry`` (None for
        junk)."""
        scene = self.scene(spec.cam)
        rng = _rng(self.seed, _STREAM_FRAME, spec.render_id, spec.cam,
                   spec.index, spec.scene)
        if spec.render_id < 0:  # junk: a background crop
            return self._background(scene, rng), None
        identity = self.identity(spec.render_id)
        track_rng = _rng(self.seed, _STREAM_TRACK, spec.render_id, spec.cam)
        if self.kind == 'vehicle':
            view = VEHICLE_VIEWS[int(track_rng.integers(len(VEHICLE_VIEWS)))]
            if rng.random() < 0.2:
                view = VEHICLE_VIEWS[int(rng.integers(len(VEHICLE_VIEWS)))]
            pose = sample_vehicle_pose(
                scene, self.img_size, rng, view=view, night=spec.night)
            images = render_vehicle_triplet(identity, scene, pose,
                                            self.img_size, rng)
            return images, lambda mod: vehicle_caption_entry(
                identity, pose, mod)
        track = sample_track(self.img_size, track_rng)
        pose = sample_pose(identity, scene, track, spec.index % 30,
                           self.img_size, rng)
        images = render_triplet(identity, scene, pose, self.img_size, rng)
        variant = int(rng.integers(2))
        return images, lambda mod: caption_entry(identity, pose.view, mod,
                                                 variant)

    def _background(self, scene, rng) -> Dict[str, np.ndarray]:
        h, w = self.img_size
        canvas_h, canvas_w = scene.nir_background.shape
        row = int(rng.integers(0, canvas_h - h + 1))
        col = int(rng.integers(0, canvas_w - w + 1))
        window = (slice(row, row + h), slice(col, col + w))

        def grey3(img):
            img = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
            return np.repeat(img[..., None], 3, axis=2)

        rgb = np.clip(np.rint(scene.rgb_background[window]), 0, 255)
        return {
            'rgb': rgb.astype(np.uint8),
            'nir': grey3(scene.nir_background[window]),
            'tir': grey3(scene.tir_background[window]),
        }


def build_layout(dataset: str, **layout_params) -> MultiSpectralLayout:
    """The layout object of ``dataset`` (a key of SYNTHETIC_LAYOUTS)."""
    if dataset not in SYNTHETIC_LAYOUTS:
        raise KeyError(f'No synthetic layout for {dataset!r}; choose one of '
                       f'{sorted(SYNTHETIC_LAYOUTS)}.')
    return SYNTHETIC_LAYOUTS[dataset](**layout_params)


def _check_img_size(layout: MultiSpectralLayout,
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


def _full_params(layout: MultiSpectralLayout, seed: int,
                 img_size: Tuple[int, int]) -> Dict[str, Any]:
    params = layout.params()
    params.update(
        seed=seed, img_size=list(img_size), jpeg_quality=JPEG_QUALITY)
    return params


def _prepare(dataset_dir: str, layout: MultiSpectralLayout) -> None:
    """Empty the generator-owned parts of ``dataset_dir``; never touch a
    folder without a manifest or incomplete-marker (it may be real data).
    """
    if (osp.isdir(dataset_dir) and os.listdir(dataset_dir)
            and not osp.exists(osp.join(dataset_dir, MANIFEST_NAME))
            and not osp.exists(osp.join(dataset_dir, INCOMPLETE_MARKER))):
        raise RuntimeError(
            f'{dataset_dir!r} already exists and holds neither '
            f'{MANIFEST_NAME} nor {INCOMPLETE_MARKER}, so it may be a real '
            'dataset; it is left untouched. Pick another root for the '
            'synthetic data or delete that folder yourself.')
    os.makedirs(dataset_dir, exist_ok=True)
    with open(osp.join(dataset_dir, INCOMPLETE_MARKER), 'w') as f:
        f.write('synthetic generation in progress or interrupted\n')
    for entry in (MANIFEST_NAME, ) + layout.managed_paths():
        path = osp.join(dataset_dir, entry)
        if osp.isdir(path):
            shutil.rmtree(path)
        elif osp.exists(path):
            os.remove(path)


def _split_stats(layout: MultiSpectralLayout,
                 specs: List[FrameSpec]) -> Dict[str, Any]:
    stats = {}
    for folder in layout.split_folders:
        inside = [s for s in specs if s.folder == folder]
        stats[folder] = {
            'ids': len({s.pid
                        for s in inside if s.pid > 0}),
            'samples': len(inside),
            'distractors': sum(s.pid == 0 for s in inside),
            'junk': sum(s.pid < 0 for s in inside),
            'cameras': sorted({s.cam
                               for s in inside}),
        }
        if any(s.scene >= 0 for s in inside):
            stats[folder]['scenes'] = len({s.scene for s in inside})
    return stats


def _result(manifest: Dict[str, Any], dataset_dir: str, seconds: float,
            generated: bool) -> Dict[str, Any]:
    return {
        'dataset': manifest['dataset'],
        'dataset_dir': dataset_dir,
        'params': manifest['params'],
        'splits': manifest['splits'],
        'total_samples':
        sum(s['samples'] for s in manifest['splits'].values()),
        'seconds': seconds,
        'generated': generated,
    }


def make_synthetic_multispectral(dataset: str,
                                 root: str,
                                 seed: int = 0,
                                 img_size: Optional[Sequence[int]] = None,
                                 progress: bool = False,
                                 **layout_params) -> Dict[str, Any]:
    """Write a synthetic dataset in a real benchmark layout.

    Args:
        dataset: ``'RGBNT100'``, ``'MSVR310'``, ``'WMVEID863'`` or
            ``'MarketMM'``.
        root: Data root; the dataset goes to ``<root>/<folder>``
            (``RGBNT100``, ``MSVR310``, ``WMVEID863``, ``Market1501-MM``).
            An earlier synthetic set there is replaced; a folder without a
            manifest or incomplete-marker is never touched.
        seed: Non-negative seed; the same seed and parameters give
            byte-identical files.
        img_size: ``(H, W)`` of one modality image (default 128x256 for
            vehicles, 128x64 for Market1501-MM; RGBNT100 files are
            ``H x 3W``).
        progress: Show a tqdm progress bar.
        **layout_params: Arguments of the layout class (``num_train_ids``,
            ``num_test_ids``, ...).

    Returns:
        dict: ``dataset``, ``dataset_dir``, ``params``, ``splits`` (per
        split folder: ``ids``, ``samples``, ``distractors``, ``junk``,
        ``cameras`` and ``scenes`` where named), ``total_samples``,
        ``seconds``, ``generated=True``.
    """
    start = time.perf_counter()
    seed = _check_int('seed', seed, 0, 2**32 - 1)
    layout = build_layout(dataset, **layout_params)
    img_size = _check_img_size(layout, img_size)
    dataset_dir = osp.join(osp.abspath(root), layout.dataset_folder)
    _prepare(dataset_dir, layout)

    renderer = _Renderer(layout.kind, seed, img_size)
    specs = layout.plan(seed)
    captions: Dict[str, Dict[str, Any]] = {f: {} for f in layout.split_folders}
    entries: Dict[FrameSpec, Dict[str, Any]] = {}
    for spec in tqdm(
            specs, desc=f'synthetic {layout.name}', disable=not progress):
        if spec.source is not None:
            written = layout.copy(dataset_dir, spec)
            entry = entries[spec.source]
        else:
            images, caption = renderer.render(spec)
            written = layout.write(dataset_dir, spec, images)
            entry = (None if caption is None else {
                mod: caption(mod)
                for mod in MODALITIES
            })
            entries[spec] = entry
        if entry is None:
            continue
        for rel_path, modalities in written.items():
            captions[spec.folder][rel_path] = {
                mod: entry[mod]
                for mod in modalities
            }
    for folder in layout.split_folders:
        data = build_caption_data(
            layout.name,
            osp.basename(folder),
            CAPTION_SOURCE,
            captions[folder],
            extra={
                'generator':
                f'{GENERATOR_NAME} {MULTISPECTRAL_GENERATOR_VERSION}'
            })
        save_caption_file(
            osp.join(dataset_dir, layout.caption_file(folder)), data)

    manifest = {
        'format': MANIFEST_FORMAT,
        'dataset': layout.name,
        'generator': GENERATOR_NAME,
        'generator_version': MULTISPECTRAL_GENERATOR_VERSION,
        'params': _full_params(layout, seed, img_size),
        'splits': _split_stats(layout, specs),
    }
    tmp_path = osp.join(dataset_dir, MANIFEST_NAME + '.tmp')
    with open(tmp_path, 'w', encoding='utf-8') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    os.replace(tmp_path, osp.join(dataset_dir, MANIFEST_NAME))
    os.remove(osp.join(dataset_dir, INCOMPLETE_MARKER))
    return _result(manifest, dataset_dir, time.perf_counter() - start, True)


def ensure_synthetic_multispectral(dataset: str,
                                   root: str,
                                   seed: int = 0,
                                   img_size: Optional[Sequence[int]] = None,
                                   progress: bool = False,
                                   **layout_params) -> Dict[str, Any]:
    """Generate the dataset unless an identical one is already there.

    Returns at once (``generated=False``) when the manifest was written by
    this generator version with the same parameters and every planned file
    exists; otherwise calls :func:`make_synthetic_multispectral`. Call it
    on one process only (e.g. rank 0) and synchronise.
    """
    start = time.perf_counter()
    seed = _check_int('seed', seed, 0, 2**32 - 1)
    layout = build_layout(dataset, **layout_params)
    img_size = _check_img_size(layout, img_size)
    dataset_dir = osp.join(osp.abspath(root), layout.dataset_folder)
    manifest = read_manifest(dataset_dir)
    if (manifest is not None and manifest.get('generator') == GENERATOR_NAME
            and manifest.get('generator_version')
            == MULTISPECTRAL_GENERATOR_VERSION
            and manifest.get('params') == _full_params(layout, seed, img_size)
            and not osp.exists(osp.join(dataset_dir, INCOMPLETE_MARKER))
            and all(
                osp.isfile(osp.join(dataset_dir, p))
                for spec in layout.plan(seed)
                for p in layout.rel_paths(spec).values())):
        return _result(manifest, dataset_dir,
                       time.perf_counter() - start, False)
    return make_synthetic_multispectral(
        dataset,
        root,
        seed=seed,
        img_size=img_size,
        progress=progress,
        **layout_params)
