# Copyright (c) mmreid_text contributors. All rights reserved.
"""The Synthetic* datasets generate on first use; datasets/ never imports
the synthetic package; the package registers only those datasets."""
import ast
import os
import os.path as osp

import pytest
from mmengine.registry import Registry

import mmreid_text
import mmreid_text.registry as registry_module
from mmreid_text.registry import DATASETS
from mmreid_text.synthetic import (MANIFEST_NAME, SYNTHETIC_LAYOUTS,
                                   read_manifest)
from .conftest import PERSON_SIZE, TINY, VEHICLE_SIZE

PACKAGE = osp.dirname(osp.abspath(mmreid_text.__file__))


def _build(name, data_root, **generator):
    layout = SYNTHETIC_LAYOUTS[name]
    size = PERSON_SIZE if layout.subject == 'person' else VEHICLE_SIZE
    cfg = dict(TINY[name], img_size=size, progress=False, **generator)
    return DATASETS.build(
        dict(
            type=f'Synthetic{name}',
            data_root=data_root,
            split='train',
            generator=cfg,
            pipeline=[]))


@pytest.mark.parametrize('name', sorted(SYNTHETIC_LAYOUTS))
def test_generates_on_first_use_then_reuses(name, tmp_path):
    folder = SYNTHETIC_LAYOUTS[name].dataset_folder
    data_root = str(tmp_path / folder)
    dataset = _build(name, data_root)
    assert len(dataset) > 0
    assert dataset.num_ids == TINY[name]['num_train_ids']
    manifest_path = osp.join(data_root, MANIFEST_NAME)
    mtime = os.stat(manifest_path).st_mtime_ns
    assert len(_build(name, data_root)) == len(dataset)
    assert os.stat(manifest_path).st_mtime_ns == mtime  # not regenerated
    _build(name, data_root, seed=1)
    assert read_manifest(data_root)['params']['seed'] == 1


def test_rgbnt201_demo_arguments_and_data_root_check(tmp_path):
    dataset = DATASETS.build(
        dict(
            type='SyntheticRGBNT201',
            data_root=str(tmp_path / 'RGBNT201'),
            generator=dict(
                seed=0,
                num_train_ids=2,
                num_test_ids=2,
                images_per_camera=1,
                img_size=(64, 32)),
            split='test',
            pipeline=[]))
    assert len(dataset) == 2 * 2
    assert dataset.get_data_info(0)['pid'] == 3
    with pytest.raises(ValueError, match='must end with "RGBNT201"'):
        DATASETS.build(
            dict(
                type='SyntheticRGBNT201',
                data_root=str(tmp_path / 'data'),
                pipeline=[]))


def _imports(path):
    tree = ast.parse(open(path, encoding='utf-8').read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ''
            if node.level:  # relative: resolve against the file's package
                parts = osp.relpath(path, osp.dirname(PACKAGE)).split(os.sep)
                base = parts[:len(parts) - node.level]
                module = '.'.join(base + ([module] if module else []))
            yield module
            yield from (f'{module}.{alias.name}' for alias in node.names)


def test_datasets_never_import_synthetic():
    """Dependencies point one way: synthetic -> datasets, never back."""
    offenders = []
    for dirpath, _, files in os.walk(osp.join(PACKAGE, 'datasets')):
        for name in files:
            if name.endswith('.py'):
                path = osp.join(dirpath, name)
                offenders += [(path, m) for m in _imports(path)
                              if m.startswith('mmreid_text.synthetic')]
    assert not offenders
    # and the check sees relative imports
    here = osp.join(PACKAGE, 'synthetic', 'synthetic_dataset.py')
    assert 'mmreid_text.synthetic.generator' in set(_imports(here))


def test_synthetic_registers_only_its_datasets():
    registered = []
    for name in dir(registry_module):
        registry = getattr(registry_module, name)
        if isinstance(registry, Registry):
            for key, obj in registry.module_dict.items():
                module = getattr(obj, '__module__', '') or ''
                if module.startswith('mmreid_text.synthetic'):
                    registered.append((registry.name, key, module))
    assert sorted(registered) == sorted(
        ('dataset', f'Synthetic{name}',
         'mmreid_text.synthetic.synthetic_dataset')
        for name in SYNTHETIC_LAYOUTS)
