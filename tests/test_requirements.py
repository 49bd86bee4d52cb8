# Copyright (c) mmreid_text contributors. All rights reserved.
"""requirements/ lists what the code imports, in the right file.

* ``runtime.txt``: the package and tools/ (training, testing, caption
  files);
* ``captions.txt``: caption generation (``mmreid_text/captioning``,
  ``tools/captions/generate.py``), the ``captions`` extra;
* ``torchreid.txt``: the torchreid interoperability, which imports
  torchreid in one module (``mmreid_text/utils/torchreid_compat.py``,
  lazily), the ``torchreid`` extra;
* ``tests.txt``: tests/ and benchmarks/, the ``tests`` extra.

Import names are mapped to distributions with
``importlib.metadata.packages_distributions`` (``PIL`` -> ``pillow``,
``mmcv`` -> ``mmcv-lite``, ...).
"""
import ast
import importlib.metadata
import os
import os.path as osp
import re
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
GENERATION = ('mmreid_text/captioning/', 'tools/captions/generate.py')
TORCHREID_INTEROP = ('mmreid_text/utils/torchreid_compat.py', )
SKIP_DIRS = {'.git', '.venv', '__pycache__', 'build'}
#: Top-level folders of data and outputs (not code; may be large).
SKIP_TOP = {'data', 'work_dirs'}


def _normalize(name: str) -> str:
    return re.sub(r'[-_.]+', '-', name).lower()


def requirement_names(name: str) -> set:
    """Normalised distribution names listed in ``requirements/<name>``."""
    names = set()
    with open(osp.join(REPO, 'requirements', name)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-'):
                names.add(_normalize(re.split(r'[<>=!~;\[ ]', line)[0]))
    return names


def _walk(folder):
    for dirpath, dirnames, filenames in os.walk(osp.join(REPO, folder)):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            if name.endswith('.py'):
                path = osp.join(dirpath, name)
                yield path, osp.relpath(path, REPO).replace(os.sep, '/')


def _local_names() -> set:
    """Module names the repository itself provides (scripts, helpers)."""
    names = {'mmreid_text'}
    for dirpath, dirnames, filenames in os.walk(REPO):
        skip = SKIP_DIRS | (SKIP_TOP if dirpath == REPO else set())
        dirnames[:] = [d for d in dirnames if d not in skip]
        names.update(dirnames)
        names.update(n[:-3] for n in filenames if n.endswith('.py'))
    return names


def _optional_imports(tree: ast.AST) -> set:
    """Import nodes in the body of a ``try`` that catches ``ImportError``
    (or ``ModuleNotFoundError``): optional dependencies by design, e.g.
    ``vis_tsne.py --method umap``, which says how to install umap-learn
    when it is missing."""
    optional = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = set()
        for handler in node.handlers:
            kinds = handler.type.elts if isinstance(
                handler.type, ast.Tuple) else [handler.type]
            caught.update(k.id for k in kinds if isinstance(k, ast.Name))
        if caught & {'ImportError', 'ModuleNotFoundError'}:
            for stmt in node.body:
                optional.update(
                    id(n) for n in ast.walk(stmt)
                    if isinstance(n, (ast.Import, ast.ImportFrom)))
    return optional


def third_party_imports(folders, select, optional_only=False) -> dict:
    """``{top-level import name: ['file:line', ...]}`` of selected files.

    ``optional_only``: only the imports guarded by ``except ImportError``
    (else only the others)."""
    local = _local_names()
    found = {}
    for folder in folders:
        for path, rel in _walk(folder):
            if not select(rel):
                continue
            with open(path, encoding='utf-8') as f:
                tree = ast.parse(f.read(), path)
            optional = _optional_imports(tree)
            for node in ast.walk(tree):
                if (id(node) in optional) != optional_only:
                    continue
                if isinstance(node, ast.Import):
                    tops = [a.name.split('.')[0] for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    tops = [node.module.split('.')[0]]
                else:
                    continue
                for top in tops:
                    if top in sys.stdlib_module_names or top in local:
                        continue
                    found.setdefault(top, []).append(f'{rel}:{node.lineno}')
    return found


def _unlisted(imports: dict, allowed: set) -> list:
    mapping = importlib.metadata.packages_distributions()
    problems = []
    for top, where in sorted(imports.items()):
        dists = {_normalize(d) for d in mapping.get(top, [])}
        if not dists & allowed:
            problems.append(f'{top} (distribution {sorted(dists) or "?"}; '
                            f'imported at {", ".join(where[:3])})')
    return problems


def _is_generation(rel: str) -> bool:
    return rel.startswith(GENERATION)


def _is_torchreid_interop(rel: str) -> bool:
    return rel.startswith(TORCHREID_INTEROP)


@pytest.mark.parametrize(
    'folders, select, files', [
        (('mmreid_text', 'tools'),
         lambda r: not _is_generation(r) and not _is_torchreid_interop(r),
         ('runtime.txt', )),
        (('mmreid_text', 'tools'), _is_generation,
         ('runtime.txt', 'captions.txt')),
        (('mmreid_text', 'tools'), _is_torchreid_interop,
         ('runtime.txt', 'torchreid.txt')),
        (('tests', 'benchmarks'), lambda r: True,
         ('runtime.txt', 'captions.txt', 'tests.txt')),
    ],
    ids=[
        'runtime', 'caption-generation', 'torchreid-interop',
        'tests-and-benchmarks'
    ])
def test_requirements_cover_imports(folders, select, files):
    """Every import is listed in the files of who imports it. An import
    guarded by ``except ImportError`` may instead be listed nowhere (an
    optional package the project never installs, such as umap-learn); if
    a requirements file lists it, it must be the right one."""
    allowed = set().union(*(requirement_names(f) for f in files))
    imports = third_party_imports(folders, select)
    problems = _unlisted(imports, allowed)
    every_file = set().union(*(requirement_names(f)
                               for f in ('runtime.txt', 'captions.txt',
                                         'torchreid.txt', 'tests.txt')))
    mapping = importlib.metadata.packages_distributions()
    optional = third_party_imports(folders, select, optional_only=True)
    listed = {
        top: where
        for top, where in optional.items()
        if {_normalize(d)
            for d in mapping.get(top, [])} & every_file or top in every_file
    }
    assert imports or listed, f'no third-party import found in {folders}'
    problems += _unlisted(listed, allowed)
    assert not problems, (
        f'{" + ".join(folders)} import packages that '
        f'requirements/{{{",".join(files)}}} do not list; add each to the '
        'file that matches who imports it (see requirements.txt):\n  ' +
        '\n  '.join(problems))


def test_test_only_packages_are_not_runtime_requirements():
    runtime = requirement_names('runtime.txt')
    test_only = requirement_names('tests.txt') | requirement_names(
        'captions.txt')
    assert not runtime & test_only, sorted(runtime & test_only)
    for name in ('torchreid', 'gdown', 'pytest', 'openai'):
        assert name in test_only and name not in runtime


def test_requirements_txt_and_extras_install_every_file():
    with open(osp.join(REPO, 'requirements.txt')) as f:
        included = {line.split()[-1] for line in f if line.startswith('-r')}
    assert included == {
        f'requirements/{n}'
        for n in ('runtime.txt', 'captions.txt', 'torchreid.txt', 'tests.txt')
    }
    with open(osp.join(REPO, 'setup.py')) as f:
        setup_py = f.read()
    for extra, name in (('tests', 'tests.txt'), ('captions', 'captions.txt'),
                        ('torchreid', 'torchreid.txt')):
        assert re.search(
            rf"'{extra}':\s*read_requirements\('{name}'\)",
            setup_py), (f'setup.py: extras_require needs {extra!r} reading '
                        f'requirements/{name}')
