# Copyright (c) mmreid_text contributors. All rights reserved.
import re

from mmreid_text.registry import DATASETS
from .base_reid_dataset import DOCS_HINT
from .identity_folder_dataset import IdentityFolderDataset


@DATASETS.register_module()
class MSVR310(IdentityFolderDataset):
    """MSVR310 multi-spectral vehicle ReID (RGB, NIR, TIR triplets).

    Reads the released layout unchanged::

        data_root/                       # e.g. data/MSVR310
          bounding_box_train/<vid>/{vis,ni,th}/PPPP_sSSS_vV_III.jpg
          query3/<vid>/{vis,ni,th}/PPPP_sSSS_vV_III.jpg
          bounding_box_test/<vid>/{vis,ni,th}/PPPP_sSSS_vV_III.jpg

    ``vis``, ``ni`` and ``th`` hold RGB, NIR and TIR and are paired by
    identical file names. From a name such as ``0019_s012_v0_000.jpg``:
    ``pid`` = ``PPPP`` (must equal the ``<vid>`` folder), ``scene_id`` =
    ``SSS`` (the time span), ``camid`` = the view digit ``V`` (0..7, kept
    as is, not decremented).

    Splits: ``train`` (``bounding_box_train``, relabelled; 155 ids, 1,032
    triplets on the real data) and ``test`` = ``query3`` entries
    (``is_query``; 591 triplets, 52 ids) followed by ``bounding_box_test``
    entries (``is_gallery``; 1,055 triplets, 155 ids). ``query3`` is a
    subset of ``bounding_box_test``. Evaluate with the ``'msvr310'``
    protocol: same pid AND same scene are ignored, the camera is not.

    Args:
        data_root (str): The ``MSVR310`` folder.
        split (str): ``'train'`` or ``'test'``.
    """

    SPLITS = ('train', 'test')
    SPLIT_DIRS = dict(
        train=[('bounding_box_train', 'train')],
        test=[('query3', 'query'), ('bounding_box_test', 'gallery')])
    MODALITY_DIRS = dict(rgb='vis', nir='ni', tir='th')
    METAINFO = dict(modalities=('rgb', 'nir', 'tir'), classes=('vehicle', ))
    NAME_PATTERN = re.compile(r'^(\d+)_s(\d+)_v(\d+)_\d+\.\w+$')

    def parse_name(self, name: str, path: str, folder_pid: int) -> dict:
        match = self.NAME_PATTERN.match(name)
        if match is None:
            raise ValueError(
                f'MSVR310: cannot parse "{path}"; names must look like '
                f'0019_s012_v0_000.jpg (pid_sScene_vView_index). {DOCS_HINT}')
        pid = int(match.group(1))
        if pid != folder_pid:
            raise ValueError(
                f'MSVR310: "{path}" has pid {pid} in its name but lies in '
                f'the folder of id {folder_pid}; move the file to the '
                f'folder of its id. {DOCS_HINT}')
        return dict(
            pid=pid, scene_id=int(match.group(2)), camid=int(match.group(3)))
