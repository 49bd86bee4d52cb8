# Copyright (c) mmreid_text contributors. All rights reserved.
import os.path as osp
from typing import List, Optional

from mmengine.dist import barrier, get_dist_info

from mmreid_text.registry import DATASETS
from .rgbnt201 import RGBNT201


@DATASETS.register_module()
class SyntheticRGBNT201(RGBNT201):
    """Synthetic data in the RGBNT201 layout, generated when absent.

    Before reading, the generator
    (:func:`mmreid_text.datasets.synthetic.ensure_synthetic_rgbnt201`)
    writes the dataset into ``data_root`` unless a complete copy made with
    the same parameters is already there; the files are then read by the
    real :class:`RGBNT201` loader. Under DDP only rank 0 writes. The class
    name says what the data is: it never stands in for the real benchmark.

    Args:
        data_root (str): Folder to use, must end with ``RGBNT201``.
        generator (dict, optional): Keyword arguments of the generator
            (``num_train_ids``, ``num_test_ids``, ``seed``, ...).
    """

    def __init__(self,
                 data_root: str,
                 generator: Optional[dict] = None,
                 **kwargs) -> None:
        self.generator_cfg = dict(generator or {})
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        from .synthetic import ensure_synthetic_rgbnt201
        root = osp.normpath(self.data_root)
        if osp.basename(root) != 'RGBNT201':
            raise ValueError('SyntheticRGBNT201: data_root must end with '
                             f'"RGBNT201", got "{self.data_root}".')
        rank, _ = get_dist_info()
        if rank == 0:
            ensure_synthetic_rgbnt201(osp.dirname(root), **self.generator_cfg)
        barrier()
        return super().load_data_list()
