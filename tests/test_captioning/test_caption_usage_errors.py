# Copyright (c) mmreid_text contributors. All rights reserved.
"""Usage mistakes of tools/captions/generate.py: exit 2, one clear line on
stderr, no traceback and no request to the (real, local) server
(docs/captions.md, *Exit status*; issue 9 points 5 and 7)."""
import json

import pytest
from chat_server_utils import (ScriptedResponder, default_reply,
                               write_multimodal_images)


def write_rgbnt201_config(folder, data_root, type_name='RGBNT201'):
    config = folder / 'rgbnt201_captions.py'
    config.write_text(f'train_dataloader = dict(dataset=dict('
                      f'type={type_name!r}, data_root={data_root!r}, '
                      'split="train", pipeline=[]))\n')
    return config


def _argv(server, root, out, backend=None, extra=()):
    backend = backend or (f'name=gpt,base_url={server.url},model=gpt,'
                          'timeout=2')
    return [
        '--images', 'train_171/*/*.png', '--root', root, '--out', out,
        '--backend', backend, '--no-progress'
    ] + list(extra)


@pytest.fixture
def tool(chat_server, tmp_path, capsys, load_tool):
    """``(run(argv_builder) -> stderr line, server, root)``."""
    root = str(tmp_path / 'RGBNT201')
    write_multimodal_images(root, ['A', 'B'])
    server = chat_server(ScriptedResponder({}, default_reply))
    generate = load_tool('tools/captions/generate.py')

    def run(argv):
        capsys.readouterr()
        code = generate.main(argv)
        err = capsys.readouterr().err.strip()
        assert code == 2, err
        assert 'Traceback' not in err
        assert len(err.splitlines()) == 1 and err.startswith('error: '), err
        assert server.requests == [] and server.model_requests == 0
        return err

    return run, server, root


def test_outputs_are_checked_before_any_request(tool, tmp_path):
    """Issue 9.5: --out / --cache / --report that cannot be written are
    rejected up front (the old code made every request, then crashed)."""
    run, server, root = tool
    (tmp_path / 'a_file').write_text('x')
    out = str(tmp_path / 'out.json')
    err = run(_argv(server, root, str(tmp_path / 'a_file' / 'train.json')))
    assert 'is a file, not a folder' in err and '--out' in err
    err = run(_argv(server, root, '/proc/mmreid_text_test/train.json'))
    assert "cannot write in '/proc'" in err
    err = run(
        _argv(
            server,
            root,
            out,
            extra=['--cache', str(tmp_path / 'a_file' / 'c.jsonl')]))
    assert '--cache' in err and 'is a file' in err
    err = run(_argv(server, root, str(tmp_path)))
    assert 'is a folder, not a file' in err
    err = run(_argv(server, root, out, extra=['--cache', out]))
    assert 'three different files' in err
    (tmp_path / 'junk.json').write_text('{"not": "captions"}')
    err = run(_argv(server, root, str(tmp_path / 'junk.json')))
    assert 'is not a caption file' in err and '--overwrite' in err


@pytest.mark.parametrize('rules, key', [({
    'low_confidence': 'high'
}, 'low_confidence'), ({
    'low_confidence': 1.5
}, 'low_confidence'), ({
    'prefer_known': 'yes'
}, 'prefer_known'), ({
    'not_carried': ['upper_color']
}, 'not_carried'), ({
    'modality_specific': 'view'
}, 'modality_specific'), ({
    'colour': 1
}, 'colour')])
def test_rules_of_the_wrong_type_are_rejected_up_front(rules, key, tool,
                                                       tmp_path):
    """Issue 9.5: a rule value of the wrong type names the key."""
    run, server, root = tool
    path = tmp_path / 'rules.json'
    path.write_text(json.dumps(rules))
    err = run(
        _argv(
            server,
            root,
            str(tmp_path / 'o.json'),
            extra=['--rules', str(path)]))
    assert key in err and 'rules.json' in err


def test_image_source_mistakes(tool, tmp_path):
    """Issue 9.7: a glob matching nothing, a missing root, a list file
    naming missing images or two images of one modality in a sample, bad
    --modality-dirs."""
    run, server, root = tool
    out = str(tmp_path / 'o.json')
    argv = _argv(server, root, out)
    glob_at = argv.index('train_171/*/*.png')
    err = run(argv[:glob_at] + ['train_171/*/*.jpeg'] + argv[glob_at + 1:])
    assert 'No file matches' in err
    err = run(_argv(server, str(tmp_path / 'nowhere'), out))
    assert "--root" in err and 'is not a folder' in err
    listing = tmp_path / 'list.txt'
    listing.write_text('train_171/RGB/A.png\ntrain_171/RGB/Z.png\n')
    err = run(argv[:glob_at] + [str(listing)] + argv[glob_at + 1:])
    assert '1 of 2 images do not exist' in err and 'Z.png' in err
    listing.write_text('train_171/RGB/A.png\ntrain_171/NI/A.png rgb\n')
    err = run(argv[:glob_at] + [str(listing)] + argv[glob_at + 1:])
    assert "two 'rgb' images" in err
    err = run(argv + ['--modality-dirs', 'RGB:rgb'])
    assert 'folder=modality' in err


@pytest.mark.parametrize('spec, words', [
    ('json_mode=maybe', ['json_mode', 'true or false']),
    ('timeout=soon', ['timeout', 'a number']),
    ('max_tokens=1.5', ['max_tokens', 'an integer']),
    ('colour=red', ['unknown key']),
])
def test_backend_spec_mistakes_name_the_key(spec, words, tool, tmp_path):
    """Issue 9.7: a bad boolean (or number) in --backend names the key."""
    run, server, root = tool
    backend = f'name=gpt,base_url={server.url},model=gpt,{spec}'
    err = run(_argv(server, root, str(tmp_path / 'o.json'), backend))
    for word in words:
        assert word in err


def test_backend_file_mistakes(tool, tmp_path):
    run, server, root = tool
    path = tmp_path / 'backends.json'
    path.write_text(
        json.dumps({
            'backends': [{
                'name': 'gpt',
                'base_url': server.url,
                'model': 'gpt',
                'json_mode': 'yes'
            }]
        }))
    err = run(_argv(server, root, str(tmp_path / 'o.json'), str(path)))
    assert 'json_mode must be true or false' in err
    path.write_text('{"backends": [')
    err = run(_argv(server, root, str(tmp_path / 'o.json'), str(path)))
    assert 'backends.json' in err
    err = run(
        _argv(server, root, str(tmp_path / 'o.json'),
              str(tmp_path / 'none.json')))
    assert 'does not exist' in err
    err = run(
        _argv(
            server,
            root,
            str(tmp_path / 'o.json'),
            extra=['--schema', str(tmp_path / 'none.json')]))
    assert '--schema' in err


@pytest.mark.parametrize('case', [
    'unknown_split', 'type_typo', 'cfg_option_typo', 'cfg_option_no_equals',
    'missing_data_root', 'missing_config'
])
def test_dataset_config_mistakes(case, tool, tmp_path, rgbnt201_root):
    """Issue 9.7: unknown --split, a typo in the dataset config or in
    --cfg-options, a missing data root."""
    run, server, _ = tool
    config = write_rgbnt201_config(
        tmp_path,
        rgbnt201_root if case != 'missing_data_root' else str(tmp_path /
                                                              'gone'),
        type_name='RGBNT20' if case == 'type_typo' else 'RGBNT201')
    argv = [
        '--dataset-config',
        str(config) if case != 'missing_config' else str(tmp_path / 'x.py'),
        '--out',
        str(tmp_path / 'o.json'), '--backend',
        f'name=gpt,base_url={server.url},model=gpt', '--no-progress'
    ]
    if case == 'unknown_split':
        argv += ['--split', 'tset']
    if case == 'cfg_option_typo':
        argv += ['--cfg-options', 'train_dataloader.dataset.data_rot=/x']
    if case == 'cfg_option_no_equals':
        argv += ['--cfg-options', 'train_dataloader.dataset.data_root']
    err = run(argv)
    expected = {
        'unknown_split': "'tset'",
        'type_typo': 'RGBNT20',
        'cfg_option_typo': 'data_rot',
        'cfg_option_no_equals': 'is not key=value',
        'missing_data_root': 'gone',
        'missing_config': 'does not exist',
    }[case]
    assert expected in err


@pytest.mark.parametrize('argv, words', [
    (['--images', 'x', '--backend', 'name=a'], '--images needs --root'),
    (['--images', 'x', '--root', '.', '--backend', 'a', '--concurrency', '0'
      ], 'must be > 0'),
    (['--images', 'x', '--root', '.'], 'at least one --backend'),
    (['--mode', 'poems'], 'invalid choice'),
])
def test_command_line_mistakes_are_one_line(argv, words, capsys, load_tool):
    """Issue 9.7: argparse mistakes too: one line, exit 2, no usage dump."""
    generate = load_tool('tools/captions/generate.py')
    with pytest.raises(SystemExit) as exit_info:
        generate.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err
