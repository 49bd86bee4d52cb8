# Copyright (c) mmreid_text contributors. All rights reserved.
"""Package-scoped config bases: ``_base_ = 'mmreid_text::deep/x.py'``.

mmengine resolves ``<scope>::<path>`` bases as
``get_installed_path(<package>)/.mim/configs/<path>`` (after reading
``.mim/model-index.yml``), and only for the scopes listed in its
``MODULE2PACKAGE`` table. Two things are needed for ``mmreid_text``:

- ``setup.py`` places the repository's ``configs/`` (and
  ``model-index.yml``) under ``mmreid_text/.mim/``: a symlink for
  ``pip install -e .``, a copy inside wheels;
- :func:`enable_package_configs`, run when ``mmreid_text`` is imported, adds
  ``mmreid_text`` to ``MODULE2PACKAGE`` and makes mmengine locate the
  package where Python imports it from. mmengine 0.10.7 derives the path
  from the distribution's location, which for a PEP 660 editable install is
  ``site-packages/mmreid_text``, a folder that does not exist.

So ``import mmreid_text`` (``tools/train.py`` does, a plugin package
usually does) must come before ``Config.fromfile`` of a config with a
``mmreid_text::`` base.
"""
import os.path as osp
from typing import Callable

PACKAGE = 'mmreid_text'
#: Where the configs live inside the installed package.
MIM_DIR = '.mim'


def package_dir() -> str:
    """The folder ``mmreid_text`` is imported from."""
    return osp.dirname(osp.dirname(osp.abspath(__file__)))


def installed_configs_dir() -> str:
    """``<package>/.mim/configs``, whether or not it exists."""
    return osp.join(package_dir(), MIM_DIR, 'configs')


def _locate(original: Callable[[str], str]) -> Callable[[str], str]:
    """Wrap mmengine's ``get_installed_path`` for our package only."""

    def get_installed_path(package: str) -> str:
        if package != PACKAGE:
            return original(package)
        path = package_dir()
        if not osp.isdir(osp.join(path, MIM_DIR, 'configs')):
            raise FileNotFoundError(
                f'`{PACKAGE}::` config bases need {installed_configs_dir()}, '
                'which does not exist: mmreid_text is imported from a source '
                'tree that was not installed. Run `pip install -e .` in the '
                'repository (it links configs/ there), or install the '
                'mmreid_text wheel.')
        return path

    get_installed_path.wrapped = original  # type: ignore[attr-defined]
    return get_installed_path


def enable_package_configs() -> None:
    """Let mmengine resolve ``mmreid_text::`` bases (idempotent)."""
    from mmengine.config import config as mmengine_config
    from mmengine.config import utils as mmengine_config_utils

    mmengine_config_utils.MODULE2PACKAGE.setdefault(PACKAGE, PACKAGE)
    current = mmengine_config.get_installed_path
    if not hasattr(current, 'wrapped'):
        mmengine_config.get_installed_path = _locate(current)
