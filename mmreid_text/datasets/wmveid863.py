# Copyright (c) mmreid_text contributors. All rights reserved.
import re

from mmreid_text.registry import DATASETS
from .base_reid_dataset import DOCS_HINT
from .identity_folder_dataset import IdentityFolderDataset


@DATASETS.register_module()
class WMVEID863(IdentityFolderDataset):
    """WMVEID863 (flare-aware) multi-spectral vehicle ReID.

    Reads the dataset authors' layout (FACENet) unchanged::

        data_root/                       # e.g. data/WMVEID863
          train/<vid>/{vis,ni,th}/<name>.jpg
          query/<vid>/{vis,ni,th}/<name>.jpg
          test/<vid>/{vis,ni,th}/<name>.jpg      # gallery

    ``vis``, ``ni`` and ``th`` hold RGB, NIR and TIR. Unlike the public
    loaders, which pair the three folders by listing position, files are
    paired by identical names; a name missing from one folder is an error.
    ``pid`` is the ``<vid>`` folder; ``camid`` is the first digit that
    follows a ``v`` in the file name (e.g. ``v1_n0_s001_0001.jpg`` ->
    camera 1), kept as is like the authors' loader. The ``n`` digit
    (day / night) is not used; ``scene_id`` is -1.

    Splits: ``train`` (relabelled) and ``test`` = ``query`` entries
    (``is_query``) followed by ``test`` entries (``is_gallery``).
    Market-style protocol (same pid and same camera ignored).

    Args:
        data_root (str): The ``WMVEID863`` folder.
        split (str): ``'train'`` or ``'test'``.
    """

    SPLITS = ('train', 'test')
    SPLIT_DIRS = dict(
        train=[('train', 'train')],
        test=[('query', 'query'), ('test', 'gallery')])
    MODALITY_DIRS = dict(rgb='vis', nir='ni', tir='th')
    METAINFO = dict(modalities=('rgb', 'nir', 'tir'), classes=('vehicle', ))
    CAMERA_PATTERN = re.compile(r'v(\d)')

    def parse_name(self, name: str, path: str, folder_pid: int) -> dict:
        match = self.CAMERA_PATTERN.search(name)
        if match is None:
            raise ValueError(
                f'WMVEID863: cannot find the camera in "{path}"; the name '
                'must contain "v" followed by the camera digit, e.g. '
                f'v1_n0_s001_0001.jpg. {DOCS_HINT}')
        return dict(pid=folder_pid, camid=int(match.group(1)))
