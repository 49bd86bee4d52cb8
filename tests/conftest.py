# Copyright (c) mmreid_text contributors. All rights reserved.
import importlib.util
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def write_rgbnt201(root, ids_per_split=None, size=(32, 16), seed=0):
    """Write a tiny RGBNT201-layout folder with random images.

    Args:
        root (str): Folder to create (the ``RGBNT201`` root).
        ids_per_split (dict): ``{split_dir: {pid: [(cam, frame), ...]}}``.
        size (tuple): ``(H, W)`` of the images.
    Returns:
        dict: ``{split_dir: [file names]}``.
    """
    rng = np.random.default_rng(seed)
    if ids_per_split is None:
        ids_per_split = {
            'train_171': {
                p: [(c, f) for c in (1, 2, 3) for f in range(2)]
                for p in (1, 2, 5)
            },
            'test': {
                p: [(c, f) for c in (1, 2) for f in range(2)]
                for p in (258, 259)
            },
        }
    names = {}
    for split, ids in ids_per_split.items():
        names[split] = []
        for pid, shots in ids.items():
            for cam, frame in shots:
                name = f'{pid:06d}_cam{cam}_0_{frame:02d}.jpg'
                names[split].append(name)
                for sub in ('RGB', 'NI', 'TI'):
                    d = osp.join(root, split, sub)
                    os.makedirs(d, exist_ok=True)
                    arr = rng.integers(0, 255, (*size, 3), dtype=np.uint8)
                    Image.fromarray(arr).save(osp.join(d, name))
    return names


@pytest.fixture
def rgbnt201_root(tmp_path):
    root = str(tmp_path / 'RGBNT201')
    write_rgbnt201(root)
    return root


@pytest.fixture
def load_tool():
    """Factory importing a repository script as a module, without running
    it as ``__main__``: ``load_tool('tools/captions/stats.py').main([...])``.
    """

    def load(relpath):
        path = osp.join(REPO_ROOT, relpath)
        name = osp.splitext(relpath)[0].replace('/', '_')
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
