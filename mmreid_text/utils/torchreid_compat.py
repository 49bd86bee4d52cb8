# Copyright (c) mmreid_text contributors. All rights reserved.
"""The one place where mmreid_text imports torchreid (optional extra).

torchreid is needed only by the torchreid interoperability parts
(``TorchreidBackbone``, ``TorchreidImageDataset`` and
``tools/model_converters/torchreid_to_mmreid.py --check``); training and
testing the CLIP models do not need it. It is imported lazily, on first
use, because ``import torchreid`` loads its whole package (engine,
tensorboard, cv2...).

Two namespaces exist: the PyPI package ``torchreid`` 0.2.5 (a repackaging
of the official 1.4 code under ``torchreid.reid``) and the official
GitHub package (``torchreid.models``, ``torchreid.data``). Both are
accepted.
"""
import importlib
from types import ModuleType
from typing import Dict

#: Printed when torchreid is not installed.
INSTALL_HINT = ('pip install -e ".[torchreid]" (or pip install -r '
                'requirements/torchreid.txt)')


def import_torchreid(component: str = 'This component') -> ModuleType:
    """``import torchreid`` with an error naming the extra to install.

    Args:
        component: Who needs it, for the message (``'TorchreidBackbone'``).

    Raises:
        ImportError: torchreid (or one of the packages its import needs:
            torchvision, scipy, gdown, tensorboard, opencv) is missing.
    """
    try:
        import torchreid
    except ImportError as err:  # the optional `torchreid` extra
        raise ImportError(
            f'{component} needs torchreid, which could not be imported '
            f'({err}). Install the torchreid extra: {INSTALL_HINT}. '
            'Training and testing the CLIP models do not need it.') from err
    return torchreid


def _submodule(component: str, *names: str) -> ModuleType:
    """The first importable of ``names`` (PyPI layout first)."""
    import_torchreid(component)
    errors = []
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError as err:
            errors.append(f'{name}: {err}')
    raise ImportError(f'{component}: the installed torchreid has none of '
                      f'{list(names)} ({"; ".join(errors)}). Install the '
                      f'supported version: {INSTALL_HINT}.')


def torchreid_models(component: str = 'This component') -> ModuleType:
    """torchreid's ``models`` package (``build_model`` and the archs)."""
    return _submodule(component, 'torchreid.reid.models', 'torchreid.models')


def torchreid_model_factory(component: str = 'This component') -> Dict:
    """``{name: constructor}`` of torchreid's ``build_model``."""
    return dict(getattr(torchreid_models(component), '__model_factory'))


def torchreid_image_datasets(component: str = 'This component') -> Dict:
    """``{name: class}`` of torchreid's image datasets, including those
    added with ``torchreid.data.register_image_dataset``."""
    module = _submodule(component, 'torchreid.reid.data.datasets',
                        'torchreid.data.datasets')
    return dict(getattr(module, '__image_datasets'))
