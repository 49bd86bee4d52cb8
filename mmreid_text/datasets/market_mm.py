# Copyright (c) mmreid_text contributors. All rights reserved.
import os.path as osp
import re
from typing import List

from mmreid_text.registry import DATASETS
from .base_reid_dataset import DOCS_HINT, BaseReIDDataset, ReIDSample


@DATASETS.register_module()
class MarketMM(BaseReIDDataset):
    """Market1501-MM: Market-1501 with generated NIR and TIR images.

    Reads the released layout unchanged::

        data_root/                       # e.g. data/Market1501-MM
          train/{RGB,NI,TI}/PPPP_cCsS_FFFFFF_NN.jpg
          query/{RGB,NI,TI}/PPPP_cCsS_FFFFFF_NN.jpg
          gallery/{RGB,NI,TI}/PPPP_cCsS_FFFFFF_NN.jpg

    Modalities are paired by identical file names. Names follow
    Market-1501 (``0002_c1s1_000451_03.jpg``): ``pid`` = the first field,
    ``camid`` = the ``c`` digit minus one (cameras 1..6 -> 0..5). Junk
    files (pid -1) are skipped; distractors (pid 0) are kept and act as
    negatives.

    Splits: ``train`` (relabelled; Market-1501 has 751 ids / 12,936
    images) and ``test`` = ``query`` entries (``is_query``; 3,368) followed
    by ``gallery`` entries (``is_gallery``; 15,913 without junk).
    Market-style protocol.

    Args:
        data_root (str): The ``Market1501-MM`` folder.
        split (str): ``'train'`` or ``'test'``.
    """

    SPLITS = ('train', 'test')
    SPLIT_DIRS = dict(
        train=[('train', 'train')],
        test=[('query', 'query'), ('gallery', 'gallery')])
    MODALITY_DIRS = dict(rgb='RGB', nir='NI', tir='TI')
    METAINFO = dict(modalities=('rgb', 'nir', 'tir'), classes=('person', ))
    NAME_PATTERN = re.compile(r'^(-?\d+)_c(\d)')
    JUNK_PID = -1

    def parse_name(self, name: str, path: str) -> tuple:
        """``(pid, camid)`` of a file name; ``pid`` -1 marks junk."""
        match = self.NAME_PATTERN.match(name)
        if match is None:
            raise ValueError(
                f'MarketMM: cannot parse "{path}"; names must look like '
                f'0002_c1s1_000451_03.jpg (pid_cCsS_frame_box). {DOCS_HINT}')
        pid, cam = int(match.group(1)), int(match.group(2))
        if pid < self.JUNK_PID or cam < 1:
            raise ValueError(
                f'MarketMM: "{path}" has pid {pid} / camera {cam}; pids '
                'must be >= 0 (0 = distractor, -1 = junk) and cameras >= 1.'
                f' {DOCS_HINT}')
        return pid, cam - 1

    def parse_split(self, split: str) -> List[ReIDSample]:
        folders = {m: self.MODALITY_DIRS[m] for m in self.stored_modalities}
        samples = []
        for folder, role in self.SPLIT_DIRS[split]:
            split_dir = osp.join(self.data_root, folder)
            if not osp.isdir(split_dir):
                raise FileNotFoundError(
                    f'MarketMM: split folder "{split_dir}" does not exist '
                    f'(expected {folder}/ with RGB/, NI/, TI/ inside '
                    f'"{self.data_root}"). {DOCS_HINT}')
            ref_dir = osp.join(split_dir, next(iter(folders.values())))
            for name in self.pair_by_name(split_dir, folders):
                pid, camid = self.parse_name(name, osp.join(ref_dir, name))
                if pid == self.JUNK_PID:
                    continue
                samples.append(
                    ReIDSample(
                        img_path={
                            m: osp.join(split_dir, sub, name)
                            for m, sub in folders.items()
                        },
                        pid=pid,
                        camid=camid,
                        is_query=role == 'query',
                        is_gallery=role == 'gallery'))
        return samples
