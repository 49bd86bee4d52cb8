# Copyright (c) mmreid_text contributors. All rights reserved.
import os.path as osp
import re
from typing import List

from mmreid_text.registry import DATASETS
from .base_reid_dataset import DOCS_HINT, BaseReIDDataset, ReIDSample


@DATASETS.register_module()
class RGBNT100(BaseReIDDataset):
    """RGBNT100 multi-spectral vehicle ReID (RGB | NIR | TIR in one file).

    Reads the released layout unchanged::

        data_root/                       # e.g. data/RGBNT100
          rgbir/bounding_box_train/PPPP_cCCCC_III.jpg
          rgbir/query/PPPP_cCCCC_III.jpg
          rgbir/bounding_box_test/PPPP_cCCCC_III.jpg

    Every file is one 768x128 (W x H) image holding the RGB, NIR and TIR
    views side by side, so the info dict maps all three modalities to the
    same file; ``LoadMultiModalImages(tiles=3)`` cuts it into three
    256-wide tiles. Names are parsed Market-style on the file name only
    (``0561_c0001_006.jpg``): ``pid`` = the first field, ``camid`` = the
    ``c`` number minus one (cameras 1..8 -> 0..7). Files with pid -1
    (Market junk) are skipped; the real data has none.

    Splits: ``train`` (``bounding_box_train``, relabelled; 50 ids, 8,675
    images on the real data) and ``test`` = ``query`` entries
    (``is_query``) followed by ``bounding_box_test`` entries
    (``is_gallery``; 50 ids, 8,575 images). Market-style protocol.

    Args:
        data_root (str): The ``RGBNT100`` folder (holding ``rgbir/``).
        split (str): ``'train'`` or ``'test'``.
    """

    SPLITS = ('train', 'test')
    IMAGE_DIR = 'rgbir'
    SPLIT_DIRS = dict(
        train=[('bounding_box_train', 'train')],
        test=[('query', 'query'), ('bounding_box_test', 'gallery')])
    METAINFO = dict(modalities=('rgb', 'nir', 'tir'), classes=('vehicle', ))
    NAME_PATTERN = re.compile(r'^(-?\d+)_c(\d+)')
    JUNK_PID = -1

    def parse_name(self, name: str, path: str) -> tuple:
        """``(pid, camid)`` of a file name; ``pid`` -1 marks junk."""
        match = self.NAME_PATTERN.match(name)
        if match is None:
            raise ValueError(
                f'RGBNT100: cannot parse "{path}"; names must look like '
                f'0561_c0001_006.jpg (pid_cCamera_index). {DOCS_HINT}')
        pid, cam = int(match.group(1)), int(match.group(2))
        if pid < self.JUNK_PID or cam < 1:
            raise ValueError(
                f'RGBNT100: "{path}" has pid {pid} / camera {cam}; pids '
                f'must be >= 0 (or -1 for junk) and cameras >= 1. '
                f'{DOCS_HINT}')
        return pid, cam - 1

    def parse_split(self, split: str) -> List[ReIDSample]:
        image_dir = osp.join(self.data_root, self.IMAGE_DIR)
        if not osp.isdir(image_dir):
            hint = ''
            if osp.basename(osp.normpath(self.data_root)) == self.IMAGE_DIR:
                hint = (' data_root points at rgbir/ itself; set it to the '
                        'RGBNT100 folder that contains rgbir/.')
            raise FileNotFoundError(
                f'RGBNT100: "{image_dir}" does not exist (expected '
                f'rgbir/{{bounding_box_train,query,bounding_box_test}} '
                f'inside "{self.data_root}").{hint} {DOCS_HINT}')
        samples = []
        for folder, role in self.SPLIT_DIRS[split]:
            split_dir = osp.join(image_dir, folder)
            for name in self.list_images(split_dir):
                path = osp.join(split_dir, name)
                pid, camid = self.parse_name(name, path)
                if pid == self.JUNK_PID:
                    continue
                samples.append(
                    ReIDSample(
                        img_path={m: path
                                  for m in self.stored_modalities},
                        pid=pid,
                        camid=camid,
                        is_query=role == 'query',
                        is_gallery=role == 'gallery'))
        return samples
