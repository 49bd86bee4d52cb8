# Copyright (c) mmreid_text contributors. All rights reserved.
"""Caption generation is off the training path.

``mmreid_text.captioning`` (and its ``openai`` client) may import the rest
of the package, never the reverse: nothing under ``mmreid_text/`` outside
``captioning/`` and no tool other than ``tools/captions/generate.py``
imports it.  tests/test_tools/test_train_without_openai.py trains with
``openai`` made unimportable.
"""
import ast
import importlib
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from mmreid_text.captions import build_caption_data, save_caption_file

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_CONFIG = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_baseline.py')
GENERATION = 'mmreid_text.captioning'
#: Files allowed to import caption generation (repository-relative).
ALLOWED = ('mmreid_text/captioning/', 'tools/captions/generate.py')


def _package_of(rel_path: str) -> list:
    """Package (as name parts) a module's relative imports start from."""
    return rel_path[:-len('.py')].split('/')[:-1]


def imported_modules(path: str, rel_path: str):
    """``(line, dotted name)`` of every import in a file.

    ``from a import b`` yields ``a`` and ``a.b``; relative imports are
    resolved against the file's package (``rel_path`` relative to the
    repository root).
    """
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    package = _package_of(rel_path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                base = '.'.join(base + ([node.module] if node.module else []))
            else:
                base = node.module
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f'{base}.{alias.name}'


def _forbidden(name: str) -> bool:
    return any(name == top or name.startswith(top + '.')
               for top in ('openai', GENERATION))


def _python_files(*folders):
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(osp.join(REPO, folder)):
            dirnames[:] = [d for d in dirnames if d != '__pycache__']
            for name in sorted(filenames):
                if name.endswith('.py'):
                    path = osp.join(dirpath, name)
                    yield path, osp.relpath(path, REPO).replace(os.sep, '/')


def test_scanner_resolves_relative_imports(tmp_path):
    source = tmp_path / 'mod.py'
    source.write_text('from ..captioning import pipeline\n'
                      'from . import heads\nimport openai.types\n'
                      'from mmreid_text import captioning\n')
    names = [
        n
        for _, n in imported_modules(str(source), 'mmreid_text/models/mod.py')
    ]
    assert 'mmreid_text.captioning.pipeline' in names
    assert 'mmreid_text.models.heads' in names
    assert 'mmreid_text.captioning' in names and 'openai.types' in names
    inits = imported_modules(str(source), 'mmreid_text/models/__init__.py')
    assert (1, 'mmreid_text.captioning') in list(inits)
    assert [n for n in names if _forbidden(n)] == [
        'mmreid_text.captioning', 'mmreid_text.captioning.pipeline',
        'openai.types', 'mmreid_text.captioning'
    ]


def test_only_generation_imports_captioning_and_openai():
    offenders = []
    for path, rel in _python_files('mmreid_text', 'tools'):
        if rel.startswith(ALLOWED):
            continue
        for line, name in imported_modules(path, rel):
            if _forbidden(name):
                offenders.append(f'{rel}:{line} imports {name}')
    assert not offenders, (
        'Caption generation (mmreid_text.captioning, the openai client) must '
        'stay off the training path; these modules import it:\n  ' +
        '\n  '.join(sorted(set(offenders))) +
        '\nRead caption files through mmreid_text.captions instead, or move '
        'the code into mmreid_text/captioning/.')


BUILD_SCRIPT = r'''
import json, sys
import mmreid_text
from mmengine.config import Config
from mmreid_text.registry import DATASETS, MODELS
from mmreid_text.utils import register_all_modules

config, root, caption_file = sys.argv[1:4]
register_all_modules()
model = MODELS.build(Config.fromfile(config).model)
dataset = DATASETS.build(dict(
    type='RGBNT201', data_root=root, split='train', pipeline=[
        dict(type='LoadMultiModalImages'),
        dict(type='LoadCaptions', caption_file=caption_file,
             on_missing='fallback_template')]))
sample = dataset[0]
print(json.dumps(dict(
    captions=sample['captions'], rel=sample['rel_img_path'],
    loaded=sorted({m.split('.')[0] if m.startswith('openai') else m
                   for m in sys.modules
                   if m.split('.')[0] == 'openai'
                   or m.startswith('mmreid_text.captioning')}))))
'''


def test_import_build_and_load_captions_leave_openai_unloaded(
        tmp_path, rgbnt201_root):
    names = sorted(os.listdir(osp.join(rgbnt201_root, 'train_171', 'RGB')))
    caption_file = str(tmp_path / 'train_171.json')
    save_caption_file(
        caption_file,
        build_caption_data(
            'RGBNT201', 'train_171', 'test',
            {f'train_171/RGB/{n}': {
                'rgb': f'Caption of {n}.'
            }
             for n in names}))
    proc = subprocess.run([
        sys.executable, '-c', BUILD_SCRIPT, TINY_CONFIG, rgbnt201_root,
        caption_file
    ],
                          cwd=str(tmp_path),
                          stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result['loaded'] == [], (
        'import mmreid_text + building a model and a dataset loaded caption '
        f'generation: {result["loaded"]}')
    rgb_name = result['rel']['rgb'].rsplit('/', 1)[-1]
    assert result['captions'] == {
        'rgb': f'Caption of {rgb_name}.',
        'nir': 'An image of a person in the near-infrared spectrum.',
        'tir': 'An image of a person in the thermal-infrared spectrum.',
    }


def test_missing_client_names_the_extra_to_install(monkeypatch):
    importlib.import_module('mmreid_text.captioning.chat_backend')
    monkeypatch.setitem(sys.modules, 'openai', None)  # import raises
    monkeypatch.delitem(sys.modules, 'mmreid_text.captioning.chat_backend')
    with pytest.raises(ImportError, match=r'pip install -e "\.\[captions\]"'):
        importlib.import_module('mmreid_text.captioning.chat_backend')
