# Copyright (c) mmreid_text contributors. All rights reserved.
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine.logging import print_log

from mmreid_text.registry import DATASETS
from .base_reid_dataset import DOCS_HINT, BaseReIDDataset, ReIDSample
from .resize_cache import apply_resize_cache, build_resize_cache

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')


@DATASETS.register_module()
class SYSUMM01(BaseReIDDataset):
    """SYSU-MM01 visible-infrared person ReID (images).

    Reads the released layout unchanged::

        data_root/                        # e.g. data/SYSU-MM01
          cam1 ... cam6/<pid4>/<img4>.jpg # RGB: cams 1, 2, 4, 5; IR: 3, 6
          exp/train_id.txt  val_id.txt  test_id.txt
                                          # ids on the first line, commas

    One sample per image, one modality each: ``'vis'`` for the RGB cameras
    1, 2, 4, 5 and ``'ir'`` for the infrared cameras 3, 6 (cam3 is in the
    room of RGB cam2); ``camid`` is the camera *number* 1..6, as the
    official and AGW evaluations use it; ``pid`` is the folder's id.
    Samples come in id, camera, file-name order.

    Splits: ``train`` = every image of the ``train_id_files`` ids
    (``train_id.txt`` + ``val_id.txt`` = 395 ids, as AGW / CAJ / DEEN /
    CSDN; SYSU's protocol has no validation split), relabelled ``0..N-1``;
    ``test`` = the ``test_id.txt`` ids (96): every IR image of cams 3, 6
    is a query (``is_query``) and every RGB image of cams 1, 2, 4, 5 a
    gallery *candidate* (``is_gallery``): the ``'sysu'`` protocol of
    :class:`ReIDMetric` draws each trial's single- / multi-shot gallery
    from them (all-search: cams 1, 2, 4, 5; indoor: 1, 2).

    A listed id must have a ``<pid4>`` folder under at least one camera;
    an existing folder without images is an error; files that are not
    images (``Thumbs.db``...) are skipped and counted in the log.

    Args:
        data_root (str): The ``SYSU-MM01`` folder (holding ``cam1``...
            ``cam6`` and ``exp``; AGW's ``ori_data`` when it has them).
        split (str): ``'train'`` or ``'test'``.
        train_id_files (Sequence[str]): Id files of ``exp/`` whose ids form
            the training split. Defaults to ``('train_id.txt',
            'val_id.txt')``.
        resize_cache (dict, optional): Pre-resize every image of the split
            once into a cache and read those instead
            (:mod:`mmreid_text.datasets.resize_cache`): ``dict(size=(H, W),
            cache_dir=None, interpolation='lanczos', format='png',
            workers=4)``; ``cache_dir`` defaults to
            ``<data_root>/resized_<H>x<W>``. Stale entries (source newer,
            other size or parameters) are rebuilt. ``rel_img_path`` keeps
            the original paths. Defaults to None (read the originals).
        **kwargs: See :class:`BaseReIDDataset`.
    """

    SPLITS = ('train', 'test')
    METAINFO = dict(modalities=('vis', 'ir'), classes=('person', ))
    #: camera number -> modality.
    CAMERAS = {1: 'vis', 2: 'vis', 3: 'ir', 4: 'vis', 5: 'vis', 6: 'ir'}
    TEST_ID_FILE = 'test_id.txt'

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 train_id_files: Sequence[str] = ('train_id.txt',
                                                  'val_id.txt'),
                 resize_cache: Optional[dict] = None,
                 **kwargs) -> None:
        if isinstance(train_id_files, str):
            train_id_files = (train_id_files, )
        self.train_id_files = tuple(train_id_files)
        if not self.train_id_files:
            raise ValueError('SYSUMM01: train_id_files must name at least '
                             'one file of exp/, e.g. train_id.txt.')
        self.resize_cache = build_resize_cache(resize_cache, data_root,
                                               'SYSUMM01')
        #: Non-image files skipped in the id folders (set when read).
        self.num_skipped_files: Optional[int] = None
        super().__init__(data_root=data_root, split=split, **kwargs)

    # ------------------------------------------------------------------
    def read_ids(self, name: str) -> List[int]:
        """Ids of ``exp/<name>``: the first line, comma separated."""
        path = osp.join(self.data_root, 'exp', name)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'SYSUMM01: "{path}" does not exist; data_root must hold '
                'exp/ with train_id.txt, val_id.txt and test_id.txt from '
                f'the SYSU-MM01 release. {DOCS_HINT}')
        with open(path, encoding='utf-8') as f:
            first = f.readline().strip()
        fields = [v.strip() for v in first.split(',')]
        fields = fields[:-1] if fields and not fields[-1] else fields
        if not fields or not all(v.isdigit() for v in fields):
            shown = first if len(first) <= 60 else first[:60] + '...'
            raise ValueError(
                f'SYSUMM01: {path}, line 1: expected comma-separated '
                f'integer ids (e.g. "1,2,4"), got "{shown}". Restore the '
                f'file from the release. {DOCS_HINT}')
        ids = [int(v) for v in fields]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f'SYSUMM01: {path} lists ids {repeated[:5]} '
                             f'more than once. {DOCS_HINT}')
        return ids

    def split_ids(self, split: str) -> List[int]:
        """Sorted ids of ``split``."""
        if split == 'test':
            return sorted(self.read_ids(self.TEST_ID_FILE))
        ids: Dict[int, str] = {}
        for name in self.train_id_files:
            for pid in self.read_ids(name):
                if pid in ids:
                    raise ValueError(
                        f'SYSUMM01: id {pid} is in both exp/{ids[pid]} and '
                        f'exp/{name}; the training id files must be '
                        f'disjoint. {DOCS_HINT}')
                ids[pid] = name
        test = set(self.read_ids(self.TEST_ID_FILE))
        overlap = sorted(test & set(ids))
        if overlap:
            raise ValueError(
                f'SYSUMM01: ids {overlap[:5]} are both training ids '
                f'({self.train_id_files}) and test ids (exp/'
                f'{self.TEST_ID_FILE}). {DOCS_HINT}')
        return sorted(ids)

    def parse_split(self, split: str) -> List[ReIDSample]:
        ids = self.split_ids(split)
        for cam in self.CAMERAS:
            folder = osp.join(self.data_root, f'cam{cam}')
            if not osp.isdir(folder):
                raise FileNotFoundError(
                    f'SYSUMM01: camera folder "{folder}" does not exist; '
                    'data_root must hold cam1 ... cam6 (and exp/). '
                    f'{DOCS_HINT}')
        test = split == 'test'
        samples, skipped = [], []
        for pid in ids:
            found = False
            for cam, modality in self.CAMERAS.items():
                folder = osp.join(self.data_root, f'cam{cam}', f'{pid:04d}')
                if not osp.isdir(folder):
                    continue
                entries = sorted(os.listdir(folder))
                names = [n for n in entries if n.lower().endswith(IMAGE_EXTS)]
                skipped += [
                    osp.join(folder, n) for n in entries if n not in names
                ]
                if not names:
                    raise RuntimeError(
                        f'SYSUMM01: "{folder}" holds no image (.jpg, .png, '
                        '.bmp); restore its images from the release or '
                        f'remove the empty folder. {DOCS_HINT}')
                found = True
                samples.extend(
                    ReIDSample(
                        img_path={modality: osp.join(folder, n)},
                        pid=pid,
                        camid=cam,
                        is_query=test and modality == 'ir',
                        is_gallery=test and modality == 'vis') for n in names)
            if not found:
                source = (
                    self.TEST_ID_FILE
                    if test else ' / '.join(self.train_id_files))
                raise FileNotFoundError(
                    f'SYSUMM01: id {pid} (listed in exp/{source}) has no '
                    f'folder cam<k>/{pid:04d}/ under "{self.data_root}" for '
                    'any camera 1..6; the id files and the images come from '
                    f'different releases or images are missing. {DOCS_HINT}')
        self.num_skipped_files = len(skipped)
        if skipped:
            print_log(
                f'SYSUMM01: split "{split}": skipped {len(skipped)} files '
                f'that are not images, e.g. "{skipped[0]}".',
                logger='current')
        return samples

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        if self.resize_cache is not None:
            apply_resize_cache(self.resize_cache, data_list, self.data_root,
                               'SYSUMM01')
        return data_list
