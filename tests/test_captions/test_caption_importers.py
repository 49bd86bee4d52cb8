# Copyright (c) mmreid_text contributors. All rights reserved.
"""Importers of released caption files and the stats tool."""
import json
import os
import os.path as osp

import pytest

from mmreid_text.captions import (DatasetKeyResolver, TemplateKeyResolver,
                                  find_release_files, import_release,
                                  load_caption_file,
                                  read_item_description_list)
from mmreid_text.captions.importers import ReleaseFormatError


def write_release(folder, split, per_modality):
    os.makedirs(folder, exist_ok=True)
    for suffix, entries in per_modality.items():
        with open(osp.join(folder, f'{split}_{suffix}.json'), 'w') as f:
            json.dump([{'item': i, 'description': d} for i, d in entries], f)


def test_read_release_and_errors(tmp_path):
    write_release(str(tmp_path), 'train', {'RGB': [('a.jpg', 'A man.')]})
    assert read_item_description_list(str(tmp_path / 'train_RGB.json')) == {
        'a.jpg': 'A man.'
    }
    assert find_release_files(str(tmp_path), 'train') == {
        'rgb': str(tmp_path / 'train_RGB.json')
    }
    with pytest.raises(FileNotFoundError, match='test_'):
        find_release_files(str(tmp_path), 'test')
    (tmp_path / 'bad_RGB.json').write_text('[{"item": "a.jpg"}]')
    with pytest.raises(ReleaseFormatError, match='entry 0'):
        read_item_description_list(str(tmp_path / 'bad_RGB.json'))
    (tmp_path / 'obj_RGB.json').write_text('{"a.jpg": "x"}')
    with pytest.raises(ReleaseFormatError, match='JSON list'):
        read_item_description_list(str(tmp_path / 'obj_RGB.json'))


def test_template_resolvers():
    msvr = TemplateKeyResolver.from_preset('MSVR310', 'test')
    assert msvr('0019_s012_v0_000.jpg', 'nir') == [
        'bounding_box_test/0019/ni/0019_s012_v0_000.jpg',
        'query3/0019/ni/0019_s012_v0_000.jpg'
    ]
    rgbnt100 = TemplateKeyResolver.from_preset('RGBNT100', 'train')
    assert rgbnt100('0561_c0001_006.jpg',
                    'tir') == ['rgbir/bounding_box_train/0561_c0001_006.jpg']
    with pytest.raises(KeyError, match='presets'):
        TemplateKeyResolver.from_preset('Market', 'train')
    with pytest.raises(KeyError, match='splits'):
        TemplateKeyResolver.from_preset('RGBNT201', 'val')


def test_dataset_resolver_gives_every_copy_and_missing():
    infos = [{
        'rel_img_path': {
            'rgb': 'query3/0019/vis/0019_s012_v0_000.jpg'
        }
    }, {
        'rel_img_path': {
            'rgb': 'bounding_box_test/0019/vis/'
            '0019_s012_v0_000.jpg'
        }
    }, {
        'rel_img_path': {
            'rgb': 'bounding_box_test/0020/vis/0020_x.jpg'
        }
    }]
    resolver = DatasetKeyResolver(infos)
    assert sorted(resolver('0019_s012_v0_000.jpg', 'rgb')) == [
        'bounding_box_test/0019/vis/0019_s012_v0_000.jpg',
        'query3/0019/vis/0019_s012_v0_000.jpg'
    ]
    assert resolver('0019_s012_v0_000.jpg', 'nir') == []


def test_import_next_release_for_rgbnt201(tmp_path, rgbnt201_root, load_tool):
    names = sorted(os.listdir(osp.join(rgbnt201_root, 'train_171', 'RGB')))
    release = str(tmp_path / 'Annotation_Text' / 'NEXT' / '201')
    write_release(
        release, 'train', {
            'RGB': [(n, f'RGB caption of {n}. He is carrying none.')
                    for n in names] + [('999999_cam1_0_00.jpg', 'stray')],
            'NI': [(n, f'NIR caption of {n}.') for n in names[1:]],
            'TI': [(n, f'TIR caption of {n}.') for n in names],
        })
    tool = load_tool('tools/captions/import_captions.py')
    out = str(tmp_path / 'captions' / 'train_171.json')
    assert tool.main([
        '--format', 'next', '--files-dir', release, '--release-split', 'train',
        '--preset', 'RGBNT201', '--root', rgbnt201_root, '--dataset',
        'RGBNT201', '--split-name', 'train_171', '--out', out
    ]) == 0
    document = load_caption_file(out)
    assert document['source'].startswith('NEXT release')
    key = f'train_171/NI/{names[1]}'
    assert document['captions'][key] == {
        'nir': {
            'text': f'NIR caption of {names[1]}.'
        }
    }
    assert len(document['captions']) == 3 * len(names) - 1
    report = json.load(open(out[:-5] + '.import.json'))
    assert report['unresolved'] == ['rgb:999999_cam1_0_00.jpg']

    # through the dataset: exact keys, missing captions reported; strict
    config = tmp_path / 'cfg.py'
    config.write_text(
        f'train_dataloader = dict(dataset=dict(type="RGBNT201", '
        f'data_root={rgbnt201_root!r}, split="train", pipeline=[]))\n')
    assert tool.main([
        '--format', 'next', '--files-dir', release, '--dataset-config',
        str(config), '--dataset', 'RGBNT201', '--out', out, '--strict'
    ]) == 3
    report = json.load(open(out[:-5] + '.import.json'))
    assert report['missing'] == [f'nir:train_171/NI/{names[0]}']
    assert load_caption_file(out)['captions'][key]['nir']['text'].startswith(
        'NIR caption')

    # stats over the release folder and the imported file
    stats = load_tool('tools/captions/stats.py')
    json_out = str(tmp_path / 'stats.json')
    assert stats.main([release, out, '--json', json_out]) == 0
    numbers = json.load(open(json_out))
    released = numbers[osp.normpath(release)]
    assert released['rgb']['captions'] == len(names) + 1
    assert released['rgb']['unknown_rate'] == pytest.approx(
        len(names) / (len(names) + 1))
    assert released['nir']['unknown_rate'] == 0.0
    assert released['tir']['mean_tokens'] > 2
    imported = numbers[out]
    assert imported['all']['captions'] == 3 * len(names) - 1
    odd = tmp_path / 'odd.json'
    odd.write_text('[]')
    with pytest.raises(ValueError, match='RGB,NI,TI'):
        stats.read_triples(str(odd))


def test_import_tool_needs_one_resolver(tmp_path, load_tool):
    tool = load_tool('tools/captions/import_captions.py')
    with pytest.raises(SystemExit):
        tool.main([
            '--format', 'idea', '--files-dir',
            str(tmp_path), '--dataset', 'X', '--out',
            str(tmp_path / 'o.json')
        ])


def test_import_idea_rgbnt100_one_key_three_modalities(tmp_path):
    files = str(tmp_path / 'QwenVL_Anno' / 'RGBNT100' / 'text')
    write_release(files, 'train', {
        s: [('0561_c0001_006.jpg', f'{s} text')]
        for s in ('RGB', 'NI', 'TI')
    })
    document, report = import_release(
        find_release_files(files, 'train'),
        TemplateKeyResolver.from_preset('RGBNT100', 'train'), 'RGBNT100',
        'bounding_box_train', 'IDEA release')
    entry = document['captions']['rgbir/bounding_box_train/0561_c0001_006.jpg']
    assert entry == {
        'rgb': {
            'text': 'RGB text'
        },
        'nir': {
            'text': 'NI text'
        },
        'tir': {
            'text': 'TI text'
        }
    }
    assert report['unresolved'] == []


def _import_argv(release, root, out, extra=()):
    return [
        '--format', 'next', '--files-dir', release, '--release-split', 'train',
        '--preset', 'RGBNT201', '--root', root, '--dataset', 'RGBNT201',
        '--split-name', 'train_171', '--out', out
    ] + list(extra)


def test_import_reports_empty_and_bad_entries(tmp_path, rgbnt201_root, capsys,
                                              load_tool):
    """Issue 9.10: an empty description is reported (count, names) and not
    imported as ''; one bad entry is reported with its index and the rest
    imported; --strict fails without writing."""
    names = sorted(os.listdir(osp.join(rgbnt201_root, 'train_171', 'RGB')))
    release = str(tmp_path / 'release')
    write_release(
        release, 'train', {
            'RGB': [(n, f'RGB caption of {n}.') for n in names],
            'NI': [(names[0], '  '),
                   (names[1], '')] + [(n, f'NIR caption of {n}.')
                                      for n in names[2:]],
        })
    path = osp.join(release, 'train_TI.json')
    with open(path, 'w') as f:
        json.dump([{
            'item': names[0],
            'description': 'TIR caption.'
        }, {
            'item': names[1]
        }, 'junk', {
            'item': names[2],
            'description': 'TIR caption 2.'
        }], f)
    tool = load_tool('tools/captions/import_captions.py')
    out = str(tmp_path / 'train_171.json')
    assert tool.main(_import_argv(release, rgbnt201_root, out)) == 0
    printed = capsys.readouterr().out
    assert '2 items with an empty description not imported' in printed
    assert names[1] in printed and '2 bad entries skipped' in printed
    assert 'entry 1' in printed and 'entry 2' in printed
    captions = load_caption_file(out)['captions']
    assert f'train_171/NI/{names[0]}' not in captions  # not imported as ''
    assert all(e['text'] for v in captions.values() for e in v.values())
    assert f'train_171/TI/{names[2]}' in captions
    report = json.load(open(out[:-5] + '.import.json'))
    assert report['empty'] == [f'nir:{names[0]}', f'nir:{names[1]}']
    assert report['bad_entries'][0].endswith(
        'entry 1: "description" is missing or not a string: '
        f"{{'item': '{names[1]}'}}")
    assert report['per_modality']['tir'] == {
        'items': 2,
        'keys': 2,
        'empty': 0,
        'bad_entries': 2
    }
    os.remove(out)
    assert tool.main(_import_argv(release, rgbnt201_root, out,
                                  ['--strict'])) == 3
    assert not osp.exists(out)


def test_import_usage_errors(tmp_path, rgbnt201_root, capsys, load_tool):
    """Issue 9.10 / 9.7: a preset with a wrong --root resolves 0 keys and
    is an error (exit 2, nothing written), as are a missing folder and a
    --cfg-options typo; --cfg-options reaches the dataset config."""
    names = sorted(os.listdir(osp.join(rgbnt201_root, 'train_171', 'RGB')))
    release = str(tmp_path / 'release')
    write_release(release, 'train',
                  {'RGB': [(n, f'RGB caption of {n}.') for n in names]})
    tool = load_tool('tools/captions/import_captions.py')
    out = str(tmp_path / 'train_171.json')

    def usage_error(argv):
        capsys.readouterr()
        assert tool.main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and 'Traceback' not in err
        assert not osp.exists(out)
        return err

    wrong_root = str(tmp_path)  # exists, but is not the dataset root
    err = usage_error(_import_argv(release, wrong_root, out))
    assert 'resolved to an image' in err and wrong_root in err
    assert f'train_171/RGB/{names[0]}' in err
    err = usage_error(_import_argv(release, str(tmp_path / 'nope'), out))
    assert 'is not a folder' in err
    err = usage_error(_import_argv(str(tmp_path / 'none'), rgbnt201_root, out))
    assert 'No train_' in err
    config = tmp_path / 'cfg.py'
    config.write_text('train_dataloader = dict(dataset=dict(type="RGBNT201", '
                      f'data_root={str(tmp_path / "gone")!r}, split="train", '
                      'pipeline=[]))\n')
    argv = [
        '--format', 'next', '--files-dir', release, '--dataset-config',
        str(config), '--dataset', 'RGBNT201', '--out', out
    ]
    assert 'gone' in usage_error(argv)
    err = usage_error(argv + [
        '--cfg-options', 'train_dataloader.dataset.data_rot=' + rgbnt201_root
    ])
    assert 'data_rot' in err
    assert tool.main(argv + [
        '--cfg-options', 'train_dataloader.dataset.data_root=' + rgbnt201_root
    ]) == 0
    assert len(load_caption_file(out)['captions']) == len(names)


def test_stats_usage_errors(tmp_path, capsys, load_tool):
    """A missing input or a file that is no caption file: exit 2, one
    line, no traceback."""
    stats = load_tool('tools/captions/stats.py')
    assert stats.main([str(tmp_path / 'none.json'), '--no-tokens']) == 2
    assert 'does not exist' in capsys.readouterr().err
    odd = tmp_path / 'odd.json'
    odd.write_text('{"format": "other"}')
    assert stats.main([str(odd), '--no-tokens']) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and '"format"' in err
