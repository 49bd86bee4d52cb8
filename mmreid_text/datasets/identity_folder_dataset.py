# Copyright (c) mmreid_text contributors. All rights reserved.
import os
import os.path as osp
from typing import Dict, List, Tuple

from .base_reid_dataset import DOCS_HINT, BaseReIDDataset, ReIDSample


class IdentityFolderDataset(BaseReIDDataset):
    """Base of layouts with one folder per identity and per modality.

    Reads ``<split dir>/<vid>/<modality dir>/<name>.jpg`` (MSVR310,
    WMVEID863): ``<vid>`` must be an integer (the raw identity), the
    modality folders of one identity must hold the same file names (files
    are paired by name, never by listing order).

    Subclasses set :attr:`SPLIT_DIRS` (``{split: [(folder, role), ...]}``
    where ``role`` is ``'train'``, ``'query'`` or ``'gallery'``),
    :attr:`MODALITY_DIRS` and implement :meth:`parse_name`.
    """

    SPLIT_DIRS: Dict[str, List[Tuple[str, str]]] = {}
    MODALITY_DIRS: Dict[str, str] = dict(rgb='vis', nir='ni', tir='th')

    def parse_name(self, name: str, path: str, folder_pid: int) -> dict:
        """Fields of one file: ``dict(pid=..., camid=..., scene_id=...)``.

        Args:
            name (str): File name (no folder).
            path (str): Path of the file in the first modality folder, for
                error messages.
            folder_pid (int): Identity given by the ``<vid>`` folder.
        """
        raise NotImplementedError

    def _identity_folders(self, split_dir: str) -> List[Tuple[int, str]]:
        """``[(pid, folder)]`` of a split, sorted by pid."""
        if not osp.isdir(split_dir):
            raise FileNotFoundError(
                f'{type(self).__name__}: split folder "{split_dir}" does '
                f'not exist (expected <vid>/{{{",".join(self._dirs())}}}/ '
                f'folders inside it). {DOCS_HINT}')
        folders = []
        for entry in sorted(os.listdir(split_dir)):
            path = osp.join(split_dir, entry)
            if entry.startswith('.') or not osp.isdir(path):
                continue
            if not entry.isdigit():
                raise ValueError(
                    f'{type(self).__name__}: identity folder "{path}" is '
                    'not an integer id; every folder of a split must be '
                    f'named by its vehicle id (e.g. 0019). {DOCS_HINT}')
            folders.append((int(entry), path))
        return sorted(folders)

    def _dirs(self) -> List[str]:
        return [self.MODALITY_DIRS[m] for m in self.stored_modalities]

    def parse_split(self, split: str) -> List[ReIDSample]:
        folders = {m: self.MODALITY_DIRS[m] for m in self.stored_modalities}
        samples = []
        for split_folder, role in self.SPLIT_DIRS[split]:
            split_dir = osp.join(self.data_root, split_folder)
            for folder_pid, id_dir in self._identity_folders(split_dir):
                ref_dir = osp.join(id_dir, next(iter(folders.values())))
                for name in self.pair_by_name(id_dir, folders):
                    fields = self.parse_name(name, osp.join(ref_dir, name),
                                             folder_pid)
                    samples.append(
                        ReIDSample(
                            img_path={
                                m: osp.join(id_dir, sub, name)
                                for m, sub in folders.items()
                            },
                            is_query=role == 'query',
                            is_gallery=role == 'gallery',
                            **fields))
        return samples
