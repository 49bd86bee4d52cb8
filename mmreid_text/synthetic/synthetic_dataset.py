# Copyright (c) mmreid_text contributors. All rights reserved.
"""Datasets that generate their synthetic data on first use.

Each class generates the data of one layout into ``data_root`` (unless a
complete copy made with the same parameters is there) and then reads it
with the real loader of that benchmark. The class names say what the data
is: they never stand in for the real benchmarks.
"""
import os.path as osp
from typing import List, Optional

from mmengine.dist import barrier, get_dist_info

from mmreid_text.datasets import (HITSZVCM, MSVR310, RGBNT100, RGBNT201,
                                  SYSUMM01, WMVEID863, BUPTCampus, MarketMM,
                                  RegDB)
from mmreid_text.registry import DATASETS
from .generator import ensure_synthetic
from .layouts import SYNTHETIC_LAYOUTS


class SyntheticDataMixin:
    """Generates ``layout``'s data before the loader reads it.

    Put it before the loader class: ``class SyntheticX(SyntheticDataMixin,
    X)`` with ``layout = 'X'``. Under DDP only rank 0 writes; the others
    wait at a barrier.

    Args:
        data_root (str): Folder to use; must end with the layout's
            ``dataset_folder`` (e.g. ``RGBNT201``, ``Market1501-MM``).
        generator (dict, optional): Keyword arguments of
            :func:`ensure_synthetic` (``seed``, ``img_size``, ``progress``
            (default True) and the layout's parameters such as
            ``num_train_ids``).
        **kwargs: Arguments of the loader (``split``, ``pipeline``, ...).
    """

    layout: str = ''

    def __init__(self,
                 data_root: str,
                 generator: Optional[dict] = None,
                 **kwargs) -> None:
        self.generator_cfg = dict(generator or {})
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        folder = SYNTHETIC_LAYOUTS[self.layout].dataset_folder
        root = osp.normpath(self.data_root)
        if osp.basename(root) != folder:
            raise ValueError(f'{type(self).__name__}: data_root must end '
                             f'with "{folder}", got "{self.data_root}".')
        rank, _ = get_dist_info()
        if rank == 0:
            cfg = dict(progress=True)
            cfg.update(self.generator_cfg)
            ensure_synthetic(self.layout, osp.dirname(root), **cfg)
        barrier()
        return super().load_data_list()


def _synthetic(loader: type, layout: str, doc: str) -> type:
    """Register ``Synthetic<layout>``: the mixin before ``loader``."""
    cls = type(f'Synthetic{layout}', (SyntheticDataMixin, loader),
               dict(layout=layout, __doc__=doc, __module__=__name__))
    return DATASETS.register_module()(cls)


SyntheticRGBNT201 = _synthetic(
    RGBNT201, 'RGBNT201', 'Synthetic persons in the RGBNT201 layout (the '
    "demo's data); ``generator`` as in :func:`make_synthetic`.")
SyntheticRGBNT100 = _synthetic(RGBNT100, 'RGBNT100',
                               'Synthetic vehicles in the RGBNT100 layout.')
SyntheticMSVR310 = _synthetic(MSVR310, 'MSVR310',
                              'Synthetic vehicles in the MSVR310 layout.')
SyntheticWMVEID863 = _synthetic(WMVEID863, 'WMVEID863',
                                'Synthetic vehicles in the WMVEID863 layout.')
SyntheticMarketMM = _synthetic(
    MarketMM, 'MarketMM', 'Synthetic persons in the Market1501-MM layout.')
SyntheticHITSZVCM = _synthetic(
    HITSZVCM, 'HITSZVCM', 'Synthetic walking persons in the HITSZ-VCM video '
    'visible-infrared layout (``data_root`` ends with ``HITSZ-VCM``).')
SyntheticBUPTCampus = _synthetic(
    BUPTCampus, 'BUPTCampus', 'Synthetic walking persons in the BUPTCampus '
    'video visible-infrared layout (aligned RGB/IR training pairs).')
SyntheticSYSUMM01 = _synthetic(
    SYSUMM01, 'SYSUMM01', 'Synthetic persons in the SYSU-MM01 image '
    'visible-infrared layout (``data_root`` ends with ``SYSU-MM01``).')
SyntheticRegDB = _synthetic(
    RegDB, 'RegDB', 'Synthetic persons in the RegDB visible-thermal layout '
    '(aligned pairs, ``num_trials`` idx lists).')
