# Copyright (c) mmreid_text contributors. All rights reserved.
import os
import os.path as osp

from .conftest import REPO, data_options, run_tool

PLUGIN_DIR = osp.join(REPO, 'tests', 'data', 'plugin_pkg')


def test_head_from_another_package_trains(tmp_path, tiny_data_root):
    """A head registered by a separate package, loaded via custom_imports,
    trains for two iterations without any change to mmreid_text."""
    config = osp.join(PLUGIN_DIR, 'plugin_head_config.py')
    env = dict(PYTHONPATH=PLUGIN_DIR + os.pathsep +
               os.environ.get('PYTHONPATH', ''))
    out = run_tool([
        osp.join(REPO, 'tools', 'train.py'), config, '--work-dir',
        str(tmp_path / 'w'), '--no-validate', '--cfg-options',
        *data_options(tiny_data_root)
    ],
                   cwd=tmp_path,
                   env_extra=env)
    assert 'ModalityMeanCosineHead' in out
    assert 'Iter(train) [2/2]' in out
    assert osp.isfile(tmp_path / 'w' / 'iter_2.pth')
