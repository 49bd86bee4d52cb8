# Copyright (c) mmreid_text contributors. All rights reserved.
"""tools/dataset_converters/make_synthetic.py."""
import json
import os.path as osp
import re

from PIL import Image

from mmreid_text.synthetic import MANIFEST_NAME


def test_rgbnt201(tmp_path, capsys, load_tool):
    tool = load_tool('tools/dataset_converters/make_synthetic.py')
    argv = [
        '--root',
        str(tmp_path), '--num-train-ids', '1', '--num-test-ids', '2',
        '--images-per-camera', '2', '--img-size', '64', '32', '--no-progress'
    ]
    preview = str(tmp_path / 'preview.png')
    assert tool.main(argv + ['--preview', preview]) == 0
    out = capsys.readouterr().out
    # split, ids, samples, images
    assert re.search(r'train_171\s+1\s+8\s+24', out), out
    assert re.search(r'test\s+2\s+8\s+24', out), out
    assert 'rgb: ' in out and 'tir: ' in out
    with Image.open(preview) as img:
        assert img.size == (3 * 32 + 8, 14 + 2 * (64 + 4) - 4)
    assert tool.main(argv) == 0
    assert 'already present' in capsys.readouterr().out
    assert tool.main(argv + ['--force']) == 0
    assert 'generated' in capsys.readouterr().out
    assert tool.main(argv + ['--images-per-camera', '40']) == 1
    assert '30' in capsys.readouterr().err
    with open(osp.join(tmp_path, 'RGBNT201', MANIFEST_NAME)) as f:
        assert json.load(f)['params']['images_per_camera'] == 2


def test_other_layouts_and_layout_parameters(tmp_path, capsys, load_tool):
    tool = load_tool('tools/dataset_converters/make_synthetic.py')
    assert sorted(tool.DATASETS) == [
        'buptcampus', 'hitszvcm', 'market_mm', 'msvr310', 'reg_db', 'rgbnt100',
        'rgbnt201', 'sysumm01', 'wmveid863'
    ]
    argv = [
        '--root',
        str(tmp_path), '--dataset', 'msvr310', '--num-train-ids', '2',
        '--num-test-ids', '3', '--img-size', '32', '64', '--no-progress',
        '--set', 'num_query_ids=1', 'night_fraction=0.5'
    ]
    assert tool.main(argv + ['--preview', str(tmp_path / 'p.png')]) == 0
    out = capsys.readouterr().out
    assert re.search(r'bounding_box_train\s+2\s+8\s+24', out), out
    assert re.search(r'query3\s+1\s+2\s+6', out), out
    with open(osp.join(tmp_path, 'MSVR310', MANIFEST_NAME)) as f:
        params = json.load(f)['params']
    assert params['num_query_ids'] == 1 and params['night_fraction'] == 0.5
    assert tool.main(argv[:-3] + ['--set', 'colour=red']) == 1
    assert 'colour' in capsys.readouterr().err
    assert tool.main(argv[:-3] + ['--images-per-camera', '2']) == 1
    assert 'images_per_camera' in capsys.readouterr().err
