# Copyright (c) mmreid_text contributors. All rights reserved.
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

DOCS_HINT = ('See docs/datasets.md for where each benchmark goes and how to '
             'check it.')
HOLDOUT_HINT = 'See docs/evaluation.md, "Model selection".'
#: Parts of a training split with held-out identities.
HOLDOUT_PARTS = ('train', 'val')


class ReIDSample:
    """Raw description of one sample as a dataset parser finds it.

    Args:
        img_path (dict): ``{modality: absolute path}`` (or list of frame
            paths per modality for tracklets).
        pid (int): identity as written in the benchmark files.
        camid (int): camera index.
        scene_id (int): scene / time-span id, ``-1`` when the benchmark has
            none.
    """

    __slots__ = ('img_path', 'pid', 'camid', 'scene_id', 'is_query',
                 'is_gallery')

    def __init__(self,
                 img_path: Dict[str, object],
                 pid: int,
                 camid: int,
                 scene_id: int = -1,
                 is_query: bool = False,
                 is_gallery: bool = False) -> None:
        self.img_path = img_path
        self.pid = pid
        self.camid = camid
        self.scene_id = scene_id
        self.is_query = is_query
        self.is_gallery = is_gallery


class BaseReIDDataset(BaseDataset):
    """Base class of every mmreid_text ReID dataset.

    Subclasses read a benchmark's on-disk layout unchanged in
    :meth:`parse_split` and return :class:`ReIDSample` objects. This class
    turns them into info dicts (see ``docs/datasets.md``)::

        {'img_path': {'rgb': p, 'nir': p, 'tir': p},
         'rel_img_path': {...},          # relative to ``data_root``
         'modalities': ('rgb', 'nir', 'tir'),   # keys of img_path
         'stored_modalities': ('rgb', 'nir', 'tir'),  # the benchmark's
         'pid': int, 'camid': int, 'scene_id': int,
         'is_query': bool, 'is_gallery': bool}

    ``modalities`` is per sample: the keys of its ``img_path`` in the
    dataset's modality order (every modality of a multi-spectral sample;
    the one modality of a visible-infrared tracklet). A sample with exactly
    one modality also gets ``'modality'`` (that name as a string), and a
    tracklet (a list of frame paths per modality) gets
    ``'num_frames_total'`` (the number of frames in the list).

    Training splits get identities relabelled to ``0..N-1`` in sorted order
    of the raw ids (deterministic, unlike the ``set`` order of public
    loaders); evaluation splits keep the raw ids.

    The benchmarks have no validation split (their ``val`` is the test
    set). ``holdout`` carves one out of the *training* identities for model
    selection (docs/evaluation.md, "Model selection"):

    - identities seen by at least two cameras are eligible; ``num_ids`` of
      them (or ``round(fraction * all training ids)``) are drawn with
      ``numpy.random.default_rng(seed)`` from the sorted eligible ids, so
      the split depends only on the data and the seed;
    - ``part='train'``: the other identities, relabelled ``0..N-K-1``;
    - ``part='val'``: the held-out identities with their raw ids; every
      sample is a gallery entry and, per (identity, camera), the first
      sample in path order (sorted image paths) is also a query. Under
      the market protocol a query is then matched against its identity's
      images from the other cameras (same-camera entries, itself
      included, are ignored).

    Args:
        data_root (str): Root folder of the benchmark (e.g.
            ``data/RGBNT201``).
        split (str): One of :attr:`SPLITS`.
        relabel (bool, optional): Relabel ids to ``0..N-1``. Defaults to
            True for the ``train`` split and False otherwise.
        check_files (bool): Check at start-up that every modality file of
            every sample exists. Defaults to True.
        holdout (dict, optional): Hold out training identities (``split``
            must be ``'train'``): ``dict(num_ids=K or fraction=f, seed=0,
            part='train' | 'val')``; see above. Defaults to None.
        modalities (Sequence[str], optional): Use only these modalities of
            the benchmark (e.g. ``('rgb', 'tir')`` for DEEP's Table IX):
            the samples are the benchmark's (parsed and paired with all of
            :attr:`stored_modalities`), but ``img_path`` and
            ``metainfo['modalities']`` hold the subset, in the order given,
            so the pipeline loads and packs only those images and a model
            built for the subset gets ``[B, len(modalities), ...]``. For
            datasets whose samples hold one modality each (visible-infrared
            tracklets), the samples of the other modalities are left out
            (their number is logged). Defaults to None (every modality of
            the benchmark).
        **kwargs: Passed to :class:`mmengine.dataset.BaseDataset`
            (``pipeline``, ``test_mode``, ``indices``, ``lazy_init``...).
    """

    SPLITS: Tuple[str, ...] = ('train', 'test')
    METAINFO: dict = dict(modalities=(), classes=())

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 relabel: Optional[bool] = None,
                 check_files: bool = True,
                 holdout: Optional[dict] = None,
                 modalities: Optional[Sequence[str]] = None,
                 **kwargs) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'{type(self).__name__}: unknown split '
                             f'"{split}"; choose one of {self.SPLITS}.')
        self.split = split
        self.holdout = self._check_holdout(holdout, split)
        training = split == 'train' and (self.holdout is None
                                         or self.holdout['part'] == 'train')
        self.relabel = training if relabel is None else relabel
        self.check_files = check_files
        if kwargs.get('test_mode') is None:
            kwargs['test_mode'] = not training
        if modalities is not None:
            kwargs['metainfo'] = dict(
                kwargs.get('metainfo') or {},
                modalities=self._check_modalities(modalities,
                                                  kwargs.get('metainfo')))
        super().__init__(data_root=data_root, **kwargs)

    @property
    def stored_modalities(self) -> Tuple[str, ...]:
        """Every modality the benchmark stores, in its order (parsers pair
        the files of all of them, whatever subset :attr:`modalities` is)."""
        return tuple(self.METAINFO['modalities'])

    def _check_modalities(self, modalities: Sequence[str],
                          metainfo: Optional[dict]) -> Tuple[str, ...]:
        name = type(self).__name__
        if isinstance(modalities, str):
            modalities = (modalities, )
        modalities = tuple(modalities)
        stored = self.stored_modalities
        unknown = [m for m in modalities if m not in stored]
        if not modalities or unknown or len(
                set(modalities)) != len(modalities):
            raise ValueError(
                f'{name}: modalities={modalities} must be a non-empty '
                f'subset of the benchmark modalities {stored} without '
                'repeats' + (f'; unknown: {unknown}' if unknown else '') + '.')
        given = (metainfo or {}).get('modalities')
        if given is not None and tuple(given) != modalities:
            raise ValueError(
                f'{name}: metainfo["modalities"]={tuple(given)} disagrees '
                f'with modalities={modalities}; set only modalities=.')
        return modalities

    def _check_holdout(self, holdout: Optional[dict],
                       split: str) -> Optional[dict]:
        if holdout is None:
            return None
        name = type(self).__name__
        unknown = set(holdout) - {'num_ids', 'fraction', 'seed', 'part'}
        if unknown:
            raise ValueError(f'{name}: unknown holdout keys {sorted(unknown)};'
                             ' use num_ids or fraction, seed and part. '
                             f'{HOLDOUT_HINT}')
        if split != 'train':
            raise ValueError(f'{name}: holdout takes identities out of the '
                             f"training split; use split='train', not "
                             f'{split!r}. {HOLDOUT_HINT}')
        num_ids, fraction = holdout.get('num_ids'), holdout.get('fraction')
        if (num_ids is None) == (fraction is None):
            raise ValueError(f'{name}: holdout needs exactly one of num_ids '
                             f'and fraction, got {dict(holdout)}. '
                             f'{HOLDOUT_HINT}')
        if num_ids is not None and (not isinstance(num_ids, int)
                                    or num_ids < 1):
            raise ValueError(f'{name}: holdout num_ids must be an int >= 1, '
                             f'got {num_ids!r}.')
        if fraction is not None and not 0 < fraction < 1:
            raise ValueError(f'{name}: holdout fraction must be in (0, 1), '
                             f'got {fraction!r}.')
        part = holdout.get('part', 'train')
        if part not in HOLDOUT_PARTS:
            raise ValueError(f'{name}: holdout part must be one of '
                             f'{HOLDOUT_PARTS}, got {part!r}.')
        return dict(
            num_ids=num_ids,
            fraction=fraction,
            seed=int(holdout.get('seed', 0)),
            part=part)

    @property
    def is_test_split(self) -> bool:
        """True for a benchmark's test data (not train, not held out)."""
        return self.holdout is None and self.split not in ('train', 'val')

    # ------------------------------------------------------------------
    # to be implemented by subclasses
    def parse_split(self, split: str) -> List[ReIDSample]:
        """Read ``split`` from :attr:`data_root`; return raw samples."""
        raise NotImplementedError

    # ------------------------------------------------------------------
    @property
    def modalities(self) -> Tuple[str, ...]:
        return tuple(self._metainfo['modalities'])

    def load_data_list(self) -> List[dict]:
        root = self.data_root
        if not root or not osp.isdir(root):
            raise FileNotFoundError(
                f'{type(self).__name__}: dataset root "{root}" does not '
                f'exist. Put the benchmark there (or set data_root in the '
                f'config / --cfg-options). {DOCS_HINT}')
        samples = self.parse_split(self.split)
        if not samples:
            raise RuntimeError(
                f'{type(self).__name__}: split "{self.split}" under '
                f'"{root}" contains no samples. {DOCS_HINT}')
        if self.check_files:
            self._check_files(samples)
        if self.holdout is not None:
            samples = self._apply_holdout(samples)
        # after the holdout: the same split (queries) for every subset
        samples = self._restrict_modalities(samples)

        pid_map = None
        if self.relabel:
            pid_map = {
                pid: i
                for i, pid in enumerate(sorted({s.pid
                                                for s in samples}))
            }
        data_list = []
        for s in samples:
            info = dict(
                img_path=s.img_path,
                rel_img_path=self._relative(s.img_path),
                modalities=tuple(s.img_path),
                stored_modalities=self.stored_modalities,
                pid=pid_map[s.pid] if pid_map is not None else s.pid,
                camid=s.camid,
                scene_id=s.scene_id,
                is_query=s.is_query,
                is_gallery=s.is_gallery)
            if len(s.img_path) == 1:
                info['modality'] = next(iter(s.img_path))
            frames = next(iter(s.img_path.values()))
            if isinstance(frames, (list, tuple)):
                info['num_frames_total'] = len(frames)
            data_list.append(info)
        return data_list

    def _restrict_modalities(
            self, samples: Sequence[ReIDSample]) -> List[ReIDSample]:
        """Keep the :attr:`modalities` of every sample, in that order; a
        sample holding none of them (a tracklet of another modality) is
        left out and the number left out is logged."""
        kept = []
        for s in samples:
            unknown = [
                m for m in s.img_path if m not in self.stored_modalities
            ]
            if unknown:
                raise ValueError(
                    f'{type(self).__name__}: parse_split returned a sample '
                    f'(pid {s.pid}) with modalities {unknown} that are not '
                    f'in METAINFO["modalities"]={self.stored_modalities}.')
            s.img_path = {
                m: s.img_path[m]
                for m in self.modalities if m in s.img_path
            }
            if s.img_path:
                kept.append(s)
        if len(kept) < len(samples):
            print_log(
                f'{type(self).__name__}: modalities={self.modalities} '
                f'keeps {len(kept)} of the {len(samples)} samples of split '
                f'"{self.split}"; the other {len(samples) - len(kept)} hold '
                'only other modalities.',
                logger='current')
        return kept

    def held_out_ids(self, samples: Sequence[ReIDSample]) -> List[int]:
        """Raw ids :attr:`holdout` takes out of ``samples`` (sorted)."""
        cameras = defaultdict(set)
        for s in samples:
            cameras[s.pid].add(s.camid)
        all_ids = sorted(cameras)
        eligible = [pid for pid in all_ids if len(cameras[pid]) >= 2]
        cfg = self.holdout
        count = cfg['num_ids']
        if count is None:
            count = max(1, int(round(cfg['fraction'] * len(all_ids))))
        if count > len(eligible) or count >= len(all_ids):
            raise ValueError(
                f'{type(self).__name__}: cannot hold out {count} identities'
                f': the training split has {len(all_ids)}, of which '
                f'{len(eligible)} are seen by two or more cameras (needed '
                'for a cross-camera query) and at least one must stay for '
                f'training. {HOLDOUT_HINT}')
        order = np.random.default_rng(cfg['seed']).permutation(len(eligible))
        return sorted(eligible[i] for i in order[:count])

    def _apply_holdout(self,
                       samples: Sequence[ReIDSample]) -> List[ReIDSample]:
        """The ``train`` or ``val`` part of a training split."""
        held_out = set(self.held_out_ids(samples))
        if self.holdout['part'] == 'train':
            return [s for s in samples if s.pid not in held_out]
        val = sorted((s for s in samples if s.pid in held_out),
                     key=lambda s: (s.pid, s.camid, str(s.img_path)))
        seen = set()
        for s in val:
            s.is_gallery = True
            s.is_query = (s.pid, s.camid) not in seen
            seen.add((s.pid, s.camid))
        return val

    def _relative(self, img_path):
        out = {}
        for mod, p in img_path.items():
            if isinstance(p, (list, tuple)):
                out[mod] = [osp.relpath(x, self.data_root) for x in p]
            else:
                out[mod] = osp.relpath(p, self.data_root)
        return out

    def _check_files(self, samples: Sequence[ReIDSample]) -> None:
        for s in samples:
            for mod, p in s.img_path.items():
                paths = p if isinstance(p, (list, tuple)) else [p]
                for path in paths:
                    if not osp.isfile(path):
                        raise FileNotFoundError(
                            f'{type(self).__name__}: the {mod} image of a '
                            f'sample (pid {s.pid}, cam {s.camid}) is missing'
                            f': "{path}". Every sample needs all its files '
                            f'(modalities {tuple(s.img_path)}); restore the '
                            f'file or remove the whole sample. {DOCS_HINT}')

    @property
    def num_ids(self) -> int:
        """Number of distinct identities in this split."""
        return len({self.get_data_info(i)['pid'] for i in range(len(self))})

    # ------------------------------------------------------------------
    # helpers shared by parsers
    @staticmethod
    def list_images(
        folder: str, exts: Tuple[str, ...] = ('.jpg', '.jpeg', '.png', '.bmp')
    ) -> List[str]:
        """Sorted image file names directly inside ``folder``."""
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'Expected the folder "{folder}" but it does not exist. '
                f'{DOCS_HINT}')
        return sorted(
            f for f in os.listdir(folder) if f.lower().endswith(exts))

    def pair_by_name(self, split_dir: str, folders: Dict[str,
                                                         str]) -> List[str]:
        """File names present in every modality folder of ``split_dir``.

        Modalities are paired by identical file names, never by listing
        order. Any name present in one modality folder but not in another
        is an error naming those files.

        Args:
            split_dir (str): Folder holding one sub-folder per modality.
            folders (dict): ``{modality: sub-folder name}``.
        """
        names = {
            mod: set(self.list_images(osp.join(split_dir, sub)))
            for mod, sub in folders.items()
        }
        ref_mod = next(iter(folders))
        problems = []
        for mod, found in names.items():
            for other, other_found in names.items():
                extra = sorted(found - other_found)
                if extra and mod != other:
                    shown = ', '.join(
                        osp.join(split_dir, folders[mod], n)
                        for n in extra[:5])
                    more = f' (and {len(extra) - 5} more)' if len(
                        extra) > 5 else ''
                    problems.append(
                        f'{len(extra)} {mod} file(s) have no {other} '
                        f'counterpart: {shown}{more}')
        if problems:
            raise RuntimeError(
                f'{type(self).__name__}: modality folders of "{split_dir}" '
                'disagree (files are paired by identical names across '
                f'{tuple(folders.values())}): ' + '; '.join(problems) +
                f'. {DOCS_HINT}')
        return sorted(names[ref_mod])
