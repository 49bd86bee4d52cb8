# Copyright (c) mmreid_text contributors. All rights reserved.
import json
import os.path as osp
from typing import Dict, List, Tuple

from mmreid_text.registry import DATASETS
from .base_reid_dataset import DOCS_HINT, BaseReIDDataset, ReIDSample


@DATASETS.register_module()
class BUPTCampus(BaseReIDDataset):
    """BUPTCampus video visible-infrared person ReID (tracklets).

    Reads the released layout unchanged::

        data_root/                    # e.g. data/BUPTCampus
          DATA/...                    # frames; json paths are relative
          data_paths.json             # [obj_id][RGB|IR][camera][tracklet_id]
          train.txt  train_auxiliary.txt  query.txt  gallery.txt

    Each list line is ``obj_id modality camera tracklet_id``; the frames of
    a tracklet are ``data_paths.json[obj_id][modality][camera]
    [tracklet_id]`` (paths relative to ``DATA/``, in temporal order).
    ``modality`` is ``RGB`` (visible, ``'vis'``), ``IR`` (``'ir'``) or
    ``RGB/IR``: a pixel-aligned pair (all training lines), which becomes
    *two* samples, the ``'vis'`` one then the ``'ir'`` one, with the same
    pid and camid. Cameras ``LS3, G25, CQ1, W4, TSG1, TSG2`` -> camid
    ``0..5``; ``pid`` = ``int(obj_id)``.

    Splits: ``train`` (``train.txt``, 1,074 ids; with ``auxiliary=True``
    also ``train_auxiliary.txt``, the identities seen by one camera), then
    relabelled; ``test`` = the ``query.txt`` tracklets (``is_query``)
    followed by the ``gallery.txt`` ones (``is_gallery``). Every query and
    gallery tracklet is kept: the public test sampler silently leaves out
    the last ``n_RGB mod 64`` RGB tracklets (all of them when there are
    fewer than 64); this loader does not (docs/datasets.md). Evaluate with
    the ``'bupt'`` protocol (no camera filter; vis->IR and IR->vis).

    Args:
        data_root (str): Folder holding ``data_paths.json`` and ``DATA/``.
        split (str): ``'train'`` or ``'test'``.
        auxiliary (bool): Add ``train_auxiliary.txt`` to ``train``.
            Defaults to False.
        **kwargs: See :class:`BaseReIDDataset`.
    """

    SPLITS = ('train', 'test')
    METAINFO = dict(modalities=('vis', 'ir'), classes=('person', ))
    CAMERAS = ('LS3', 'G25', 'CQ1', 'W4', 'TSG1', 'TSG2')
    MODALITIES = {'RGB': ('vis', ), 'IR': ('ir', ), 'RGB/IR': ('vis', 'ir')}
    JSON_MODALITY = dict(vis='RGB', ir='IR')
    IMAGE_DIR = 'DATA'
    PATHS_FILE = 'data_paths.json'

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 auxiliary: bool = False,
                 **kwargs) -> None:
        self.auxiliary = bool(auxiliary)
        super().__init__(data_root=data_root, split=split, **kwargs)

    def list_files(self, split: str) -> List[Tuple[str, str]]:
        """``(list file, role)`` read for ``split``, in order."""
        if split == 'test':
            return [('query.txt', 'query'), ('gallery.txt', 'gallery')]
        files = [('train.txt', 'train')]
        if self.auxiliary:
            files.append(('train_auxiliary.txt', 'train'))
        return files

    def _load_paths(self) -> Dict:
        path = osp.join(self.data_root, self.PATHS_FILE)
        if not osp.isfile(path):
            hint = ''
            if osp.isfile(osp.join(self.data_root, '..', self.PATHS_FILE)):
                hint = (' It is in the parent folder: set data_root to the '
                        'folder above DATA/ (the AuxNet code points at DATA/'
                        ' itself).')
            raise FileNotFoundError(
                f'BUPTCampus: "{path}" does not exist; data_root must hold '
                'data_paths.json, train.txt, train_auxiliary.txt, query.txt,'
                f' gallery.txt and DATA/.{hint} {DOCS_HINT}')
        with open(path, encoding='utf-8') as f:
            try:
                return json.load(f)
            except json.JSONDecodeError as err:
                raise ValueError(f'BUPTCampus: "{path}" is not valid JSON '
                                 f'({err}).') from None

    def _frames(self, paths: Dict, key: Tuple[str, str, str, str],
                where: str) -> List[str]:
        node = paths
        for level in key:
            node = node.get(level) if isinstance(node, dict) else None
            if node is None:
                raise KeyError(
                    f'BUPTCampus: {where}: tracklet {"/".join(key)} (obj_id'
                    '/modality/camera/tracklet_id) is not in '
                    f'{self.PATHS_FILE}. Use the list files and the json '
                    f'of the same release. {DOCS_HINT}')
        if not isinstance(node, list) or not node:
            raise ValueError(f'BUPTCampus: {where}: tracklet {"/".join(key)} '
                             f'has no frames in {self.PATHS_FILE}.')
        image_dir = osp.join(self.data_root, self.IMAGE_DIR)
        return [osp.join(image_dir, p) for p in node]

    def parse_split(self, split: str) -> List[ReIDSample]:
        paths = self._load_paths()
        samples = []
        for file_name, role in self.list_files(split):
            list_path = osp.join(self.data_root, file_name)
            if not osp.isfile(list_path):
                raise FileNotFoundError(
                    f'BUPTCampus: "{list_path}" does not exist. {DOCS_HINT}')
            with open(list_path, encoding='utf-8') as f:
                lines = [(i, t.split()) for i, t in enumerate(f, 1)
                         if t.strip()]
            for line, fields in lines:
                where = f'{list_path}, line {line}'
                samples.extend(self._parse_line(paths, fields, role, where))
        return samples

    def _parse_line(self, paths: Dict, fields: List[str], role: str,
                    where: str) -> List[ReIDSample]:
        if len(fields) != 4:
            raise ValueError(
                f'BUPTCampus: {where}: expected "obj_id modality camera '
                f'tracklet_id", got {" ".join(fields)!r}. {DOCS_HINT}')
        obj_id, modality, camera, tracklet = fields
        if modality not in self.MODALITIES:
            raise ValueError(f'BUPTCampus: {where}: unknown modality '
                             f'{modality!r}; expected one of '
                             f'{sorted(self.MODALITIES)}. {DOCS_HINT}')
        if camera not in self.CAMERAS:
            raise ValueError(
                f'BUPTCampus: {where}: unknown camera {camera!r}; expected '
                f'one of {self.CAMERAS} (camid 0..5). {DOCS_HINT}')
        try:
            pid = int(obj_id)
        except ValueError:
            raise ValueError(f'BUPTCampus: {where}: obj_id {obj_id!r} is not '
                             f'an integer. {DOCS_HINT}') from None
        return [
            ReIDSample(
                img_path={
                    mod:
                    self._frames(
                        paths,
                        (obj_id, self.JSON_MODALITY[mod], camera, tracklet),
                        where)
                },
                pid=pid,
                camid=self.CAMERAS.index(camera),
                is_query=role == 'query',
                is_gallery=role == 'gallery')
            for mod in self.MODALITIES[modality]
        ]
