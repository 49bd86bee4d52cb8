# Copyright (c) mmreid_text contributors. All rights reserved.
"""Configs outside the repository inherit ours by package name:
``_base_ = 'mmreid_text::deep/deep_vitb16_rgbnt201.py'``."""
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest
from mmengine.config import Config
from mmengine.config import config as mmengine_config

import mmreid_text
from mmreid_text.registry import MODELS
from mmreid_text.utils import package_configs

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEEP = 'deep/deep_vitb16_rgbnt201.py'
REPO_CONFIGS = sorted(
    osp.relpath(p, osp.join(REPO, 'configs')) for p in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True))

CHILD = f"""
_base_ = 'mmreid_text::{DEEP}'
model = dict(head=dict(num_classes=10))
train_cfg = dict(max_epochs=3)
"""
# what a fresh interpreter makes of CHILD after only `import mmreid_text`
PROBE = """
import mmreid_text
from mmengine.config import Config
cfg = Config.fromfile('child.py')
print('package', mmreid_text.__file__)
print('num_classes', cfg.model.head.num_classes)
print('in_channels', cfg.model.head.in_channels)
"""


def _strip_scope(value):
    """``value`` without the ``_scope_`` keys a package-scoped base adds."""
    if isinstance(value, dict):
        return {k: _strip_scope(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, (list, tuple)):
        return type(value)(_strip_scope(v) for v in value)
    return value


def _probe(cwd, pythonpath=None):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    if pythonpath is not None:
        env['PYTHONPATH'] = pythonpath
    proc = subprocess.run([sys.executable, '-c', PROBE],
                          cwd=cwd,
                          env=env,
                          stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:]
    return dict(
        line.split(' ', 1) for line in proc.stdout.splitlines()
        if line.startswith(('package ', 'num_classes ', 'in_channels ')))


@pytest.fixture
def outside(tmp_path, monkeypatch):
    """A folder outside the repository holding CHILD, made the cwd."""
    (tmp_path / 'child.py').write_text(CHILD)
    monkeypatch.chdir(tmp_path)
    assert not str(tmp_path).startswith(REPO)
    return tmp_path


def test_child_inherits_by_package_name_and_overrides(outside):
    child = Config.fromfile(str(outside / 'child.py'))
    ours = Config.fromfile(osp.join(REPO, 'configs', DEEP))
    # the overrides apply ...
    assert child.model.head.num_classes == 10
    assert child.train_cfg.max_epochs == 3
    # ... and everything else is our config, unchanged
    expected_head = dict(ours.model.head.to_dict(), num_classes=10)
    assert _strip_scope(child.model.head.to_dict()) == expected_head
    assert child.train_cfg.val_interval == ours.train_cfg.val_interval
    for key in ours.keys():
        if key in ('model', 'train_cfg'):
            continue
        assert _strip_scope(child[key]) == _strip_scope(ours[key]), key
    assert _strip_scope(child.model.backbone.to_dict()) == (
        ours.model.backbone.to_dict())
    # our relative _base_ files and custom_imports / default_scope travel
    assert child.default_scope == 'mmreid_text'
    assert 'mmreid_text' in child.custom_imports.imports
    assert child.model._scope_ == 'mmreid_text'


def test_child_model_builds(outside):
    cfg = Config.fromfile(str(outside / 'child.py'))
    cfg.model.backbone.pretrained = None
    cfg.model.text_encoder.pretrained = None
    model = MODELS.build(cfg.model)
    assert type(model.head).__name__ == 'DEEPHead'
    # BNNeck classifier on the 3 x 512 concatenation, 10 identities
    assert model.head.necks[0].classifier.weight.shape == (10, 3 * 512)


def test_bases_resolve_inside_the_imported_package(outside):
    path, scope = Config._get_cfg_path(f'mmreid_text::{DEEP}',
                                       str(outside / 'child.py'))
    package = osp.dirname(osp.abspath(mmreid_text.__file__))
    assert scope == 'mmreid_text'
    assert path == osp.join(package, '.mim', 'configs', DEEP)
    assert package_configs.installed_configs_dir() == osp.join(
        package, '.mim', 'configs')
    # every config of the repository is there, with the same content
    for rel in REPO_CONFIGS:
        installed = osp.join(package, '.mim', 'configs', rel)
        with open(installed) as a, open(osp.join(REPO, 'configs', rel)) as b:
            assert a.read() == b.read(), rel


def test_unknown_config_names_the_missing_file(outside):
    (outside / 'bad.py').write_text("_base_ = 'mmreid_text::deep/nope.py'\n")
    with pytest.raises(FileNotFoundError, match=r'\.mim/configs/deep/nope'):
        Config.fromfile(str(outside / 'bad.py'))


def test_uninstalled_source_tree_says_how_to_fix(tmp_path, monkeypatch):
    locate = mmengine_config.get_installed_path
    monkeypatch.setattr(package_configs, 'package_dir',
                        lambda: str(tmp_path / 'mmreid_text'))
    with pytest.raises(FileNotFoundError, match='pip install -e'):
        locate('mmreid_text')
    # other packages keep mmengine's own lookup
    assert locate('mmengine') == locate.wrapped('mmengine')
    # enabling twice does not wrap twice
    package_configs.enable_package_configs()
    assert mmengine_config.get_installed_path is locate


def test_wheel_carries_the_configs(tmp_path):
    """A wheel built from a clean copy of the sources ships every config
    and model-index.yml under mmreid_text/.mim; installed on its own, a
    fresh interpreter that only imports mmreid_text resolves a
    package-scoped base from it (from a folder outside the repository)."""
    src = tmp_path / 'src'
    src.mkdir()
    ignore = shutil.ignore_patterns('.mim', '__pycache__', '*.pyc')
    for name in ('mmreid_text', 'configs', 'requirements'):
        shutil.copytree(osp.join(REPO, name), src / name, ignore=ignore)
    for name in ('setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml'):
        shutil.copy(osp.join(REPO, name), src / name)
    subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '--no-index', '--quiet', '-w',
        str(tmp_path / 'dist'),
        str(src)
    ],
                   check=True,
                   timeout=300)
    wheel, = glob.glob(str(tmp_path / 'dist' / 'mmreid_text-*.whl'))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert 'mmreid_text/.mim/model-index.yml' in names
    missing = [
        rel for rel in REPO_CONFIGS
        if f'mmreid_text/.mim/configs/{rel}' not in names
    ]
    assert not missing, missing
    assert not any('__pycache__' in n for n in names)
    site = tmp_path / 'site'
    subprocess.run([
        sys.executable, '-m', 'pip', 'install', '--no-deps', '--no-index',
        '--quiet', '--target',
        str(site), wheel
    ],
                   check=True,
                   timeout=300)
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'child.py').write_text(CHILD)
    out = _probe(outside, pythonpath=str(site))
    assert out['package'] == str(site / 'mmreid_text' / '__init__.py')
    assert out['num_classes'] == '10'
