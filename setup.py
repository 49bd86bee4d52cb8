# Copyright (c) mmreid_text contributors. All rights reserved.
"""Install mmreid_text; its configs travel with it under ``.mim/``.

mmengine resolves ``_base_ = 'mmreid_text::deep/x.py'`` in
``<package>/.mim/configs`` (see ``mmreid_text/utils/package_configs.py``).
A wheel carries a copy of ``configs/`` and ``model-index.yml`` there; an
editable install (``pip install -e .``, PEP 660 or legacy ``develop``)
links ``mmreid_text/.mim/<name>`` to the repository's files instead, so
edits to the configs are seen at once. ``mmreid_text/.mim`` is git-ignored.
"""
import os
import os.path as osp
import shutil
from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.develop import develop

try:  # setuptools >= 64 (PEP 660 editable installs)
    from setuptools.command.editable_wheel import editable_wheel
except ImportError:  # pragma: no cover - old setuptools: develop only
    editable_wheel = None

HERE = osp.dirname(osp.abspath(__file__))
PACKAGE = 'mmreid_text'
#: Repository files that mmengine looks up under ``<package>/.mim``.
MIM_FILES = ('configs', 'model-index.yml')


def read_requirements(name):
    path = osp.join(HERE, 'requirements', name)
    with open(path) as f:
        return [
            line.strip() for line in f
            if line.strip() and not line.startswith(('#', '-'))
        ]


def read_version():
    scope = {}
    with open(osp.join(HERE, PACKAGE, 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def _remove(path):
    if osp.islink(path) or osp.isfile(path):
        os.remove(path)
    elif osp.isdir(path):
        shutil.rmtree(path)


def _copy(src, dst):
    _remove(dst)
    if osp.isdir(src):
        shutil.copytree(
            src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    else:
        shutil.copyfile(src, dst)


def place_mim_files(package_dir, link):
    """Put ``MIM_FILES`` under ``<package_dir>/.mim``.

    Args:
        package_dir (str): The ``mmreid_text`` folder to fill (in the
            source tree for editable installs, in ``build_lib`` for wheels).
        link (bool): Relative symlinks to the repository's files (falls back
            to copies where symlinks are not allowed, e.g. Windows without
            developer mode) instead of copies.
    """
    mim_dir = osp.join(package_dir, '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src = osp.join(HERE, name)
        if not osp.exists(src):
            raise FileNotFoundError(
                f'setup.py: {src} is missing; it is installed as '
                f'{PACKAGE}/.mim/{name} for `{PACKAGE}::` config bases.')
        dst = osp.join(mim_dir, name)
        if not link:
            _copy(src, dst)
            continue
        target = osp.relpath(src, mim_dir)
        if osp.islink(dst) and os.readlink(dst) == target:
            continue
        _remove(dst)
        try:
            os.symlink(target, dst)
        except OSError:
            _copy(src, dst)


class BuildPyWithConfigs(build_py):
    """``build_py`` that also copies the configs into the built package."""

    def run(self):
        super().run()
        if not getattr(self, 'editable_mode', False):
            place_mim_files(osp.join(self.build_lib, PACKAGE), link=False)


class DevelopWithConfigs(develop):
    """Legacy ``setup.py develop``: link the configs into the source tree."""

    def run(self):
        place_mim_files(osp.join(HERE, PACKAGE), link=True)
        super().run()


cmdclass = dict(build_py=BuildPyWithConfigs, develop=DevelopWithConfigs)

if editable_wheel is not None:

    class EditableWheelWithConfigs(editable_wheel):
        """PEP 660 ``pip install -e .``: link the configs into the source
        tree (the editable wheel maps the package to it)."""

        def run(self):
            place_mim_files(osp.join(HERE, PACKAGE), link=True)
            super().run()

    cmdclass['editable_wheel'] = EditableWheelWithConfigs

setup(
    name=PACKAGE,
    version=read_version(),
    description='CLIP + language re-identification plugin for OpenMMLab',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    packages=find_packages(
        exclude=('configs', 'tools', 'tests', 'tests.*', 'docs', 'projects',
                 'projects.*')),
    python_requires='>=3.9',
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        'tests': read_requirements('tests.txt'),
        'captions': read_requirements('captions.txt'),
        'torchreid': read_requirements('torchreid.txt'),
    },
    # the tiny CLIP architectures (arch='clip-tiny', ...)
    package_data={'mmreid_text.models.utils': ['model_configs/*.json']},
    cmdclass=cmdclass,
    license='Apache License 2.0',
    zip_safe=False)
