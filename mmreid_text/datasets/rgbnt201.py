# Copyright (c) mmreid_text contributors. All rights reserved.
import os.path as osp
import re
from typing import List

from mmreid_text.registry import DATASETS
from .base_reid_dataset import DOCS_HINT, BaseReIDDataset, ReIDSample


@DATASETS.register_module()
class RGBNT201(BaseReIDDataset):
    """RGBNT201 multi-spectral person ReID (RGB, NIR, TIR triplets).

    Reads the released layout unchanged::

        data_root/                  # e.g. data/RGBNT201
          train_171/{RGB,NI,TI}/PPPPPP_camC_X_FF.jpg
          test/{RGB,NI,TI}/PPPPPP_camC_X_FF.jpg

    Modalities are paired by identical file names. ``pid`` is the first
    ``_`` field, ``camid`` the digit of ``camC`` minus one. The ``test``
    split serves as query *and* gallery (836 x 836 on the real data); the
    ``train`` split (171 ids, 3,951 triplets) is relabelled.

    Args:
        data_root (str): The ``RGBNT201`` folder.
        split (str): ``'train'`` or ``'test'``.
    """

    SPLITS = ('train', 'test')
    SPLIT_DIRS = dict(train='train_171', test='test')
    MODALITY_DIRS = dict(rgb='RGB', nir='NI', tir='TI')
    METAINFO = dict(modalities=('rgb', 'nir', 'tir'), classes=('person', ))
    NAME_PATTERN = re.compile(r'^(\d+)_cam(\d)_')

    def parse_split(self, split: str) -> List[ReIDSample]:
        split_dir = osp.join(self.data_root, self.SPLIT_DIRS[split])
        if not osp.isdir(split_dir):
            raise FileNotFoundError(
                f'RGBNT201: split folder "{split_dir}" does not exist '
                f'(expected {self.SPLIT_DIRS[split]}/ with RGB/, NI/, TI/ '
                f'inside "{self.data_root}"). {DOCS_HINT}')
        folders = {m: self.MODALITY_DIRS[m] for m in self.stored_modalities}
        names = self.pair_by_name(split_dir, folders)
        evaluation = split == 'test'
        samples = []
        for name in names:
            match = self.NAME_PATTERN.match(name)
            if match is None:
                raise ValueError(
                    f'RGBNT201: cannot parse "{osp.join(split_dir, name)}"'
                    '; names must look like 000028_cam1_0_02.jpg '
                    f'(pid_camC_X_FF). {DOCS_HINT}')
            samples.append(
                ReIDSample(
                    img_path={
                        m: osp.join(split_dir, sub, name)
                        for m, sub in folders.items()
                    },
                    pid=int(match.group(1)),
                    camid=int(match.group(2)) - 1,
                    is_query=evaluation,
                    is_gallery=evaluation))
        return samples
