# Copyright (c) mmreid_text contributors. All rights reserved.
"""configs/<method>/metafile.yml: parse, point at existing configs, list
every main config of the folder, mark every result as the paper's or
ours, and take every number from the method README."""
import glob
import os.path as osp

import pytest
from mmengine.fileio import load

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
METHODS = ('baseline', 'deep', 'vld', 'eees', 'next')
SOURCES = ('paper (', 'ours (')
#: Method folders whose metafile lists every config, not only the main
#: ones (the other methods list their main configs and the ablation rows
#: whose numbers their README prints).
COMPLETE = ('baseline', 'vld')


def _metafile(method):
    path = osp.join(REPO, 'configs', method, 'metafile.yml')
    assert osp.isfile(path), f'{path} is missing'
    return load(path)


@pytest.mark.parametrize('method', METHODS)
def test_metafile_parses_and_points_at_configs(method):
    meta = _metafile(method)
    assert set(meta) == {'Collections', 'Models'}
    collections = {c['Name']: c for c in meta['Collections']}
    for c in collections.values():
        assert c['README'] == f'configs/{method}/README.md'
        assert osp.isfile(osp.join(REPO, c['README']))
        assert c['Paper']['Title']
    names = [m['Name'] for m in meta['Models']]
    assert len(names) == len(set(names)), 'model names repeat'
    for m in meta['Models']:
        assert m['In Collection'] in collections, m['Name']
        assert m['Config'].startswith(f'configs/{method}/'), m['Name']
        assert osp.isfile(osp.join(REPO, m['Config'])), m['Config']
        assert m['Name'] == osp.splitext(osp.basename(m['Config']))[0]
        assert m['Metadata']['Training Data'], m['Name']
        assert m['Weights'] is None  # no checkpoints published yet
        assert isinstance(m['Results'], list)


@pytest.mark.parametrize('method', METHODS)
def test_every_main_config_is_listed(method):
    listed = {m['Config'] for m in _metafile(method)['Models']}
    main = {
        osp.relpath(p, REPO).replace(osp.sep, '/')
        for p in glob.glob(osp.join(REPO, 'configs', method, '*.py'))
    }
    assert main, method
    assert not main - listed, f'not in the metafile: {sorted(main - listed)}'


@pytest.mark.parametrize('method', COMPLETE)
def test_every_config_is_listed_with_its_table_row(method):
    """In these folders every config, ablations included, has an entry,
    and every ablation entry carries the paper's numbers of its row."""
    meta = {m['Config']: m for m in _metafile(method)['Models']}
    folder = osp.join(REPO, 'configs', method)
    configs = {
        osp.relpath(p, REPO).replace(osp.sep, '/')
        for p in glob.glob(osp.join(folder, '**', '*.py'), recursive=True)
    }
    assert not configs - set(meta), sorted(configs - set(meta))
    for config in configs:
        if '/ablations/' in config:
            sources = [r['Source'] for r in meta[config]['Results']]
            assert any(s.startswith('paper (Table ') for s in sources), config


@pytest.mark.parametrize('method', METHODS)
def test_results_are_marked_and_come_from_the_readme(method):
    """Every number is printed in the README (paper tables and measured
    runs), so nothing is invented; 'ours' only where the README reports a
    measurement."""
    with open(osp.join(REPO, 'configs', method, 'README.md')) as f:
        readme = f.read()
    for m in _metafile(method)['Models']:
        for result in m['Results']:
            source = result['Source']
            assert source.startswith(SOURCES), (m['Name'], source)
            assert result['Task'] and result['Dataset']
            assert result['Metrics'], m['Name']
            for key, value in result['Metrics'].items():
                assert isinstance(value, (int, float)), (m['Name'], key)
                name = key.split('/')[-1]
                assert name in ('mAP', 'mINP', 'R1', 'R5', 'R10'), key
                assert f'{value:.1f}' in readme, (m['Name'], key, value)
            if source.startswith('ours'):
                assert 'synthetic' in result['Dataset'] or \
                    'synthetic' not in m['Metadata']['Training Data']


def test_paper_numbers_are_not_ours():
    """The real-benchmark configs carry paper numbers only (nothing was
    trained on the real benchmarks yet)."""
    for method in METHODS:
        for m in _metafile(method)['Models']:
            if 'synthetic' in m['Name']:
                continue
            assert all(r['Source'].startswith('paper (')
                       for r in m['Results']), m['Name']
