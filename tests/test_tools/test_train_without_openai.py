# Copyright (c) mmreid_text contributors. All rights reserved.
"""Training works where the caption client (``openai``) cannot be imported.

A folder holding an ``openai`` package whose import raises ``ImportError``
is put first on ``PYTHONPATH``, so ``import openai`` fails in the
subprocess as it does where the optional ``captions`` extra is not
installed.
"""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from .conftest import REPO, TINY_CONFIG, data_options, run_tool

TRAIN = osp.join(REPO, 'tools', 'train.py')


@pytest.fixture(scope='module')
def no_openai_env(tmp_path_factory):
    """``PYTHONPATH`` with an ``openai`` that cannot be imported."""
    shim = tmp_path_factory.mktemp('no_openai')
    os.makedirs(shim / 'openai')
    (shim / 'openai' / '__init__.py').write_text(
        'raise ImportError("openai is made unimportable by the test")\n')
    paths = [str(shim), os.environ.get('PYTHONPATH', '')]
    return {'PYTHONPATH': os.pathsep.join(p for p in paths if p)}


def test_shim_makes_openai_unimportable(no_openai_env, tmp_path):
    proc = subprocess.run([sys.executable, '-c', 'import openai'],
                          cwd=str(tmp_path),
                          env=dict(os.environ, **no_openai_env),
                          stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT,
                          text=True,
                          timeout=60)
    assert proc.returncode != 0
    assert 'made unimportable by the test' in proc.stdout, proc.stdout


def test_tiny_training_run_without_openai(no_openai_env, tmp_path,
                                          tiny_data_root):
    out = run_tool([
        TRAIN, TINY_CONFIG, '--work-dir',
        str(tmp_path), '--cfg-options', *data_options(tiny_data_root)
    ],
                   cwd=tmp_path,
                   env_extra=no_openai_env)
    assert re.search(r'loss_id: [\d.]+', out)
    assert osp.isfile(tmp_path / 'epoch_2.pth')
