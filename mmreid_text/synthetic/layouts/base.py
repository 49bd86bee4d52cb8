# Copyright (c) mmreid_text contributors. All rights reserved.
"""What a synthetic layout declares, and the registry of layouts.

A layout reproduces the on-disk layout of one benchmark: which identities
appear under which cameras (or modalities, scenes, tracklets) in which split
folder, how files are named, which files are byte copies of others, and
which index / list files accompany the images. It knows nothing about
rendering: the generator (:mod:`..generator`) renders every planned
:class:`FrameSpec` with the layout's subject (person or vehicle) and hands
the images back to the layout to write. See ``docs/synthetic_data.md``
("Adding a layout").
"""
import dataclasses
import os
import os.path as osp
import shutil
from dataclasses import dataclass
from itertools import groupby
from typing import (Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple,
                    Type)

import numpy as np

from ..imaging import save_jpeg
from ..streams import Stream, stream_rng
from ..subjects import SUBJECTS


@dataclass(frozen=True)
class FrameSpec:
    """One sample to write.

    Attributes:
        folder: Split folder relative to the dataset folder; one of the
            layout's ``split_folders`` (it is also the caption group).
        role: ``'train'``, ``'query'``, ``'gallery'`` or ``'test'`` (query
            and gallery at once, as in RGBNT201).
        pid: Identity written in the name / folder (Market: 0 =
            distractor, -1 = junk).
        cam: Camera number as written in the name (MSVR310: the view).
        index: Frame index written in the name; for a person it also sets
            the position along the walk (``index % 30``).
        scene: Scene / session / time span written in the name (-1: none).
        track: Tracklet number of ``(pid, cam)`` (video layouts): frames of
            one track share how the identity passes the camera.
        night: Poor visible light in this frame.
        render_id: Identity drawn when it differs from ``pid``
            (distractors), -1 for no one (a background crop); None: ``pid``.
        source: For byte copies (query files that are gallery files), the
            sample copied; it must come earlier in the plan.
    """
    folder: str
    role: str
    pid: int
    cam: int
    index: int
    scene: int = -1
    track: int = 0
    night: bool = False
    render_id: Optional[int] = None
    source: Optional['FrameSpec'] = None

    @property
    def subject_id(self) -> int:
        """The identity drawn (-1: nobody)."""
        return self.pid if self.render_id is None else self.render_id


def check_int(name: str,
              value: Any,
              low: int,
              high: int = 10**9,
              hint: str = '') -> int:
    """``value`` as an int, or ``ValueError`` naming ``name`` and the range.
    """
    if (isinstance(value, bool) or not isinstance(value, (int, np.integer))
            or not low <= value <= high):
        raise ValueError(f'{name} must be an integer in [{low}, {high}], got '
                         f'{value!r}.{" " + hint if hint else ""}')
    return int(value)


def query_copy(spec: FrameSpec, folder: str) -> FrameSpec:
    """A query sample in ``folder`` that is a byte copy of ``spec``."""
    return dataclasses.replace(spec, folder=folder, role='query', source=spec)


#: Frame orders of a temporal twin (``temporal_twins``).
TWIN_ORDERS = ('reversed', 'shuffled')


def twin_frame_order(order: str,
                     num_frames: int,
                     rng: Optional[np.random.Generator] = None) -> List[int]:
    """Which partner frame each frame of a twin's tracklet copies.

    ``'reversed'``: ``n-1, ..., 0``. ``'shuffled'``: a permutation drawn by
    ``rng`` that is neither the identity nor the reversal (when ``n >= 3``).
    """
    if order == 'reversed':
        return list(range(num_frames - 1, -1, -1))
    if order != 'shuffled':
        raise ValueError(f'twin order must be one of {TWIN_ORDERS}, got '
                         f'{order!r}.')
    if rng is None:
        raise ValueError("twin order 'shuffled' needs an rng.")
    plain = (list(range(num_frames)), list(range(num_frames - 1, -1, -1)))
    while True:
        perm = [int(i) for i in rng.permutation(num_frames)]
        if num_frames < 3 or perm not in plain:
            return perm


def twin_tracklets(
        specs: Sequence[FrameSpec],
        pid: int,
        order: str = 'reversed',
        rng: Optional[np.random.Generator] = None) -> List[FrameSpec]:
    """The tracklets of ``specs`` (one identity, frames in order, tracklet
    after tracklet) recorded again as identity ``pid`` with the frames in
    another order (the ``temporal_twins`` option of the video layouts).

    Frame ``f`` of a tracklet is a byte copy of frame
    ``twin_frame_order(order, n, rng)[f]`` of the same tracklet of
    ``specs`` (same split folder, role, camera, track number and night
    flag), so the twin has exactly the partner's set of frames per
    tracklet, in another temporal order: played backwards
    (``'reversed'``) or scrambled (``'shuffled'``, one permutation per
    tracklet).
    """
    twin = []
    for _, group in groupby(specs, lambda s: (s.folder, s.cam, s.track)):
        frames = list(group)
        order_ = twin_frame_order(order, len(frames), rng)
        for spec, source in zip(frames, (frames[i] for i in order_)):
            twin.append(
                dataclasses.replace(
                    spec, pid=pid, render_id=None, source=source))
    return twin


def check_twin_counts(**counts: int) -> None:
    """``ValueError`` unless every count is even (``temporal_twins`` pairs
    the identities of each split)."""
    odd = {name: n for name, n in counts.items() if n % 2}
    if odd:
        raise ValueError(
            f'temporal_twins pairs identities (2k-1, 2k) within each split, '
            f'so the identity counts must be even; got {odd}. Use an even '
            'number of identities or temporal_twins=False.')


def pick_sorted(rng: np.random.Generator, values: Sequence[int],
                count: int) -> List[int]:
    """``count`` distinct ``values`` drawn by ``rng``, sorted."""
    return sorted(int(v) for v in rng.choice(values, count, replace=False))


class SyntheticLayout:
    """Base class of the layouts.

    Class attributes a layout sets:

    * ``name``: key in :data:`SYNTHETIC_LAYOUTS` and the manifest;
    * ``dataset_folder``: folder under the data root;
    * ``loader``: registered ``DATASETS`` type that reads the layout;
    * ``subject``: ``'person'`` or ``'vehicle'`` (:data:`..SUBJECTS`);
    * ``stream_id``: integer unique among the layouts; all random draws of
      the layout use it (:mod:`..streams`);
    * ``default_img_size``: ``(H, W)`` of one modality image;
    * ``modalities``: the layout's modality names (the keys of the caption
      entries and of the loader's ``img_path``);
    * ``rendered``: layout modality -> rendered image (``'rgb'``,
      ``'nir'`` or ``'tir'``) where the names differ, e.g.
      ``{'ir': 'nir'}`` for a visible-infrared set;
    * ``split_folders``: every folder :meth:`plan` writes to;
    * ``modality_dirs`` and ``path_template``: where files go (or override
      :meth:`rel_paths`);
    * ``index_files``: list / index files written by :meth:`write_index`.

    Subclasses check their parameters in ``__init__`` (with
    :func:`check_int`) and store them with :meth:`_set_params`, and
    implement :meth:`plan` and :meth:`file_name`.
    """

    name: str = ''
    dataset_folder: str = ''
    loader: str = ''
    subject: str = 'person'
    #: options of the subject's renderer (``walk_speed`` of the video layouts)
    subject_options: Dict[str, Any] = {}
    stream_id: int = -1
    default_img_size: Tuple[int, int] = (256, 128)
    modalities: Tuple[str, ...] = ('rgb', 'nir', 'tir')
    rendered: Dict[str, str] = {}
    split_folders: Tuple[str, ...] = ()
    modality_dirs: Dict[str, str] = {}
    #: ``str.format`` fields: folder, pid, cam, scene, track, modality_dir,
    #: name. Modalities with the same path share one file (tiled
    #: left to right in ``modalities`` order, as in RGBNT100).
    path_template: str = '{folder}/{modality_dir}/{name}'
    index_files: Tuple[str, ...] = ()

    def _set_params(self, **params: Any) -> None:
        """Store checked parameters as attributes and for the manifest."""
        for key, value in params.items():
            setattr(self, key, value)
        self._params = dict(params)

    def params(self) -> Dict[str, Any]:
        """The layout's parameters (written to the manifest)."""
        return dict(self._params)

    def rng(self, seed: int, *keys: int) -> np.random.Generator:
        """The plan stream of this layout for ``keys``."""
        return stream_rng(seed, self.stream_id, Stream.PLAN, *keys)

    def plan(self, seed: int) -> List[FrameSpec]:
        """Every sample; byte copies after the samples they copy."""
        raise NotImplementedError

    def file_name(self, spec: FrameSpec) -> str:
        """The file name of a sample, as the benchmark names it."""
        raise NotImplementedError

    def rel_paths(self, spec: FrameSpec) -> Dict[str, str]:
        """``{modality: path relative to the dataset folder}``; modalities
        a sample does not have (e.g. RGB under an IR camera) are left out.
        """
        name = self.file_name(spec)
        return {
            mod:
            self.path_template.format(
                folder=spec.folder,
                pid=spec.pid,
                cam=spec.cam,
                scene=spec.scene,
                track=spec.track,
                modality_dir=self.modality_dirs.get(mod, ''),
                name=name)
            for mod in self.modalities
        }

    def rendered_modality(self, modality: str) -> str:
        """The rendered image shown as the layout's ``modality``."""
        return self.rendered.get(modality, modality)

    def files(self, spec: FrameSpec) -> Dict[str, Tuple[str, ...]]:
        """``{rel_path: modalities in that file}`` of a sample."""
        files: Dict[str, Tuple[str, ...]] = {}
        for mod, rel_path in self.rel_paths(spec).items():
            files[rel_path] = files.get(rel_path, ()) + (mod, )
        return files

    def save_image(self, path: str, image: np.ndarray) -> None:
        """Write one ``[H, W, 3]`` uint8 image (JPEG; override for other
        formats, e.g. BMP)."""
        save_jpeg(path, image)

    def write(self, dataset_dir: str, spec: FrameSpec,
              images: Dict[str, np.ndarray]) -> Dict[str, Tuple[str, ...]]:
        """Save one rendered sample; return :meth:`files` of it."""
        files = self.files(spec)
        for rel_path, mods in files.items():
            path = osp.join(dataset_dir, rel_path)
            os.makedirs(osp.dirname(path), exist_ok=True)
            tiles = [images[self.rendered_modality(m)] for m in mods]
            self.save_image(path, np.concatenate(tiles, axis=1))
        return files

    def copy(self, dataset_dir: str,
             spec: FrameSpec) -> Dict[str, Tuple[str, ...]]:
        """Write ``spec`` as a byte copy of ``spec.source``."""
        files = self.files(spec)
        source = self.rel_paths(spec.source)
        for rel_path, mods in files.items():
            path = osp.join(dataset_dir, rel_path)
            os.makedirs(osp.dirname(path), exist_ok=True)
            shutil.copyfile(osp.join(dataset_dir, source[mods[0]]), path)
        return files

    def write_index(self, dataset_dir: str, specs: List[FrameSpec]) -> None:
        """Write the ``index_files`` (split lists, tracklet tables, ...)
        once every image exists. Default: none."""

    def caption_file(self, folder: str) -> str:
        """Caption file of a split folder, relative to the dataset folder.
        """
        return f'captions/{osp.basename(folder)}.json'

    def caption_files(self) -> Tuple[str, ...]:
        return tuple(self.caption_file(f) for f in self.split_folders)

    def managed_paths(self) -> Tuple[str, ...]:
        """Entries of the dataset folder the generator owns (deleted before
        it writes)."""
        tops = {folder.split('/')[0] for folder in self.split_folders}
        tops.update(path.split('/')[0] for path in self.index_files)
        return tuple(sorted(tops)) + ('captions', )

    def expected_files(self, specs: Iterable[FrameSpec]) -> Set[str]:
        """Every file a complete dataset holds, relative to its folder."""
        files = {p for spec in specs for p in self.rel_paths(spec).values()}
        return files | set(self.index_files) | set(self.caption_files())


class CameraPlanLayout(SyntheticLayout):
    """Base of the layouts whose identities are seen by ``cameras_per_id``
    of the cameras 1..8 and whose query files copy gallery frames
    (RGBNT100, WMVEID863).

    Subclasses set the limits ``max_train_ids``, ``max_test_ids`` (with
    ``test_pids_follow_train``, test ids follow the train ids, so at most
    ``max_test_ids - num_train_ids`` of them fit) and ``max_images`` (per
    identity), and the defaults of ``queries_per_id`` and
    ``night_fraction``.

    Args:
        num_train_ids: Identities in the train folder.
        num_test_ids: Identities in the test / gallery folder.
        cameras_per_id: Cameras (of 1..8) that see each identity.
        images_per_camera: Frames per (identity, camera).
        queries_per_id: Cameras of each test id whose first frame is also a
            query file (default: the layout's).
        night_fraction: Probability of poor visible light (default: the
            layout's).
    """
    max_train_ids = 4000
    max_test_ids = 4000
    max_images = 999
    test_pids_follow_train = False
    default_queries_per_id = 1
    default_night_fraction = 0.1

    def __init__(self,
                 num_train_ids: int = 16,
                 num_test_ids: int = 8,
                 cameras_per_id: int = 3,
                 images_per_camera: int = 2,
                 queries_per_id: Optional[int] = None,
                 night_fraction: Optional[float] = None) -> None:
        num_train_ids = check_int('num_train_ids', num_train_ids, 1,
                                  self.max_train_ids)
        max_test_ids = self.max_test_ids - (
            num_train_ids if self.test_pids_follow_train else 0)
        cameras_per_id = check_int('cameras_per_id', cameras_per_id, 2, 8)
        if queries_per_id is None:
            queries_per_id = self.default_queries_per_id
        if night_fraction is None:
            night_fraction = self.default_night_fraction
        self._set_params(
            num_train_ids=num_train_ids,
            num_test_ids=check_int('num_test_ids', num_test_ids, 1,
                                   max_test_ids),
            cameras_per_id=cameras_per_id,
            images_per_camera=check_int('images_per_camera', images_per_camera,
                                        1, self.max_images // cameras_per_id),
            queries_per_id=check_int('queries_per_id', queries_per_id, 1,
                                     cameras_per_id),
            night_fraction=float(night_fraction))


#: Layout name -> class.
SYNTHETIC_LAYOUTS: Dict[str, Type[SyntheticLayout]] = {}


def register_layout(cls: Type[SyntheticLayout]) -> Type[SyntheticLayout]:
    """Class decorator adding a layout to :data:`SYNTHETIC_LAYOUTS`; checks
    that its name and ``stream_id`` are unused and its declarations are
    complete."""
    where = f'synthetic layout {cls.__name__}'
    if not cls.name or not cls.dataset_folder or not cls.split_folders:
        raise ValueError(f'{where} must set name, dataset_folder and '
                         'split_folders.')
    if cls.name in SYNTHETIC_LAYOUTS:
        raise ValueError(f'{where}: the name {cls.name!r} is taken by '
                         f'{SYNTHETIC_LAYOUTS[cls.name].__name__}.')
    if cls.subject not in SUBJECTS:
        raise ValueError(f'{where}: subject {cls.subject!r} is not one of '
                         f'{sorted(SUBJECTS)}.')
    if not isinstance(cls.stream_id, int) or cls.stream_id < 0:
        raise ValueError(f'{where}: stream_id must be an integer >= 0.')
    for other in SYNTHETIC_LAYOUTS.values():
        if other.stream_id == cls.stream_id:
            raise ValueError(
                f'{where}: stream_id {cls.stream_id} is used by '
                f'{other.__name__}; two layouts would draw the same random '
                'numbers. Pick an unused one.')
    unknown = set(cls.rendered.values()) - {'rgb', 'nir', 'tir'}
    if unknown or not set(cls.rendered) <= set(cls.modalities):
        raise ValueError(f'{where}: rendered must map some of {cls.modalities}'
                         " to 'rgb', 'nir' or 'tir'.")
    SYNTHETIC_LAYOUTS[cls.name] = cls
    return cls


def build_layout(dataset: str, **layout_params: Any) -> SyntheticLayout:
    """The layout object of ``dataset`` (a key of SYNTHETIC_LAYOUTS)."""
    if dataset not in SYNTHETIC_LAYOUTS:
        raise KeyError(f'No synthetic layout for {dataset!r}; choose one of '
                       f'{sorted(SYNTHETIC_LAYOUTS)}.')
    return SYNTHETIC_LAYOUTS[dataset](**layout_params)
