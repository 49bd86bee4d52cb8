# Copyright (c) mmreid_text contributors. All rights reserved.
"""RegDB on hand-written tiny copies of the release layout, its base config
and the synthetic layout's captions."""
import os
import os.path as osp

import pytest
from mmengine.config import Config

from mmreid_text.datasets import RegDB
from mmreid_text.datasets.transforms import LoadCaptions
from mmreid_text.registry import DATASETS
from mmreid_text.utils import register_all_modules

INFO_KEYS = {
    'img_path', 'rel_img_path', 'modalities', 'modality', 'stored_modalities',
    'pid', 'camid', 'scene_id', 'is_query', 'is_gallery'
}
CONFIG = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', '_base_', 'datasets',
    'regdb.py')
# trial -> split -> [(folder id, label)], two images per (id, modality)
TRIALS = {
    1: dict(train=[(4, 0), (9, 1)], test=[(2, 0), (5, 1)]),
    2: dict(train=[(2, 0), (5, 1), (9, 2)], test=[(4, 0)]),
}
WORDS = dict(vis=('visible', 'Visible', 'v'), ir=('thermal', 'Thermal', 't'))


def rel(mod, folder, k):
    _, sub, code = WORDS[mod]
    return f'{sub}/{folder}/male_front_{code}_{k:05d}_{folder}.bmp'


def write_regdb(root):
    """idx/ lists of two trials and empty image files; return ``root``."""
    os.makedirs(osp.join(root, 'idx'))
    for trial, splits in TRIALS.items():
        for split, rows in splits.items():
            for mod, (word, _, _) in WORDS.items():
                lines = [
                    f'{rel(mod, folder, k)} {label}' for folder, label in rows
                    for k in (folder * 10, folder * 10 + 1)
                ]
                with open(
                        osp.join(root, 'idx', f'{split}_{word}_{trial}.txt'),
                        'w') as f:
                    f.write('\n'.join(lines) + '\n')
    for folder in (2, 4, 5, 9):
        for mod in WORDS:
            for k in (folder * 10, folder * 10 + 1):
                path = osp.join(root, rel(mod, folder, k))
                os.makedirs(osp.dirname(path), exist_ok=True)
                open(path, 'w').close()
    return root


@pytest.fixture
def regdb_root(tmp_path):
    return write_regdb(str(tmp_path / 'RegDB'))


def infos(ds):
    return [{
        k: v
        for k, v in ds.get_data_info(i).items() if k != 'sample_idx'
    } for i in range(len(ds))]


def _list(root, name, lines):
    with open(osp.join(root, 'idx', name), 'w') as f:
        f.write('\n'.join(lines) + '\n')


def test_train_trial_1(regdb_root):
    ds = RegDB(data_root=regdb_root, split='train')
    data = infos(ds)
    assert ds.metainfo['modalities'] == ('vis', 'ir') and not ds.test_mode
    assert {frozenset(d) for d in data} == {frozenset(INFO_KEYS)}
    rows = [(d['modality'], d['pid'], d['camid'],
             d['rel_img_path'][d['modality']]) for d in data]
    # visible list first, each in file order; labels as written (already
    # 0..N-1, so relabelling keeps them)
    assert rows == [('vis', 0, 1, rel('vis', 4, 40)),
                    ('vis', 0, 1, rel('vis', 4, 41)),
                    ('vis', 1, 1, rel('vis', 9, 90)),
                    ('vis', 1, 1, rel('vis', 9, 91)),
                    ('ir', 0, 2, rel('ir', 4, 40)),
                    ('ir', 0, 2, rel('ir', 4, 41)),
                    ('ir', 1, 2, rel('ir', 9, 90)),
                    ('ir', 1, 2, rel('ir', 9, 91))]
    for d in data:
        mod = d['modality']
        assert d['modalities'] == (mod, )
        assert d['img_path'] == {
            mod: osp.join(regdb_root, d['rel_img_path'][mod])
        }
        assert not d['is_query'] and not d['is_gallery']
    assert ds.num_ids == 2


def test_trial_selects_the_lists(regdb_root):
    train = RegDB(data_root=regdb_root, split='train', trial=2)
    assert len(train) == 12 and train.num_ids == 3 and train.trial == 2
    assert {
        d['rel_img_path'][d['modality']].split('/')[1]
        for d in infos(train)
    } == {'2', '5', '9'}
    test = RegDB(data_root=regdb_root, split='test', trial=2)
    assert [d['pid'] for d in infos(test)] == [0] * 4


def test_test_samples_are_query_and_gallery(regdb_root):
    ds = RegDB(data_root=regdb_root, split='test')
    data = infos(ds)
    assert ds.test_mode and len(data) == 8
    assert all(d['is_query'] and d['is_gallery'] for d in data)
    assert [(d['modality'], d['camid'], d['pid'])
            for d in data] == ([('vis', 1, 0)] * 2 + [('vis', 1, 1)] * 2 +
                               [('ir', 2, 0)] * 2 + [('ir', 2, 1)] * 2)


@pytest.mark.parametrize('label', [206, -1])
def test_train_label_out_of_range(regdb_root, label):
    _list(regdb_root, 'train_thermal_1.txt',
          [f'{rel("ir", 4, 40)} 0', f'{rel("ir", 9, 90)} {label}'])
    with pytest.raises(
            ValueError,
            match=r'train_thermal_1\.txt, line 2: '
            rf'training label {label} is outside \[0, 205\]'):
        RegDB(data_root=regdb_root, split='train')
    # test labels are only compared for equality
    _list(regdb_root, 'test_thermal_1.txt', [f'{rel("ir", 2, 20)} {label}'])
    assert infos(RegDB(data_root=regdb_root, split='test'))[-1]['pid'] == label


def test_num_train_classes(regdb_root):
    with pytest.raises(ValueError, match=r'outside \[0, 0\]'):
        RegDB(data_root=regdb_root, split='train', num_train_classes=1)
    ds = RegDB(data_root=regdb_root, split='train', num_train_classes=2)
    assert ds.num_ids == 2


@pytest.mark.parametrize(
    'line', ['Visible/4/male_front_v_00040_4.bmp', 'Visible/4/x.bmp zero', ''])
def test_corrupt_list_line(regdb_root, line):
    _list(regdb_root, 'train_visible_1.txt',
          [f'{rel("vis", 4, 40)} 0', line] if line else [])
    match = (r'train_visible_1\.txt, line 2: expected "<relative path> '
             '<integer label>"' if line else 'lists no image')
    with pytest.raises(ValueError, match=match):
        RegDB(data_root=regdb_root, split='train')


def test_backslash_paths_and_swapped_lists(regdb_root):
    _list(regdb_root, 'train_visible_1.txt',
          [rel('vis', 4, 40).replace('/', '\\') + ' 0'])
    ds = RegDB(data_root=regdb_root, split='train')
    assert infos(ds)[0]['rel_img_path'] == {'vis': rel('vis', 4, 40)}
    _list(regdb_root, 'train_visible_1.txt', [f'{rel("ir", 4, 40)} 0'])
    with pytest.raises(ValueError, match='names "Thermal/4/.*swapped'):
        RegDB(data_root=regdb_root, split='train')


def test_missing_files_and_bad_trial(regdb_root):
    os.remove(osp.join(regdb_root, 'idx', 'test_thermal_2.txt'))
    with pytest.raises(FileNotFoundError, match=r'test_thermal_2\.txt" does'):
        RegDB(data_root=regdb_root, split='test', trial=2)
    os.remove(osp.join(regdb_root, rel('ir', 9, 91)))
    with pytest.raises(FileNotFoundError, match='ir image .* missing'):
        RegDB(data_root=regdb_root, split='train')
    for trial in (0, 11, '1', True, 1.0):
        with pytest.raises(ValueError, match='trial must be an integer'):
            RegDB(data_root=regdb_root, split='train', trial=trial)


def test_base_config_and_synthetic_captions(tmp_path):
    from mmreid_text.synthetic import make_synthetic
    register_all_modules()
    cfg = Config.fromfile(CONFIG)
    assert cfg.img_size == (288, 144) and cfg.trial == 1
    loader = cfg.train_dataloader
    assert loader.batch_size == 64
    assert loader.sampler.type == 'CrossModalityIdentitySampler'
    assert loader.sampler.num_instances == 4
    assert loader.dataset.trial == cfg.val_dataloader.dataset.trial == 1
    assert [t['type'] for t in loader.dataset.pipeline] == [
        'LoadMultiModalImages', 'LoadCaptions', 'BroadcastToModalities',
        'PackReIDInputs'
    ]
    assert cfg.test_evaluator['protocol'] == 'regdb'
    from mmreid_text.registry import METRICS, REID_PROTOCOLS
    if 'regdb' in REID_PROTOCOLS.module_dict:  # the protocol is registered
        METRICS.build(cfg.test_evaluator)

    result = make_synthetic(
        'RegDB',
        str(tmp_path),
        img_size=(64, 32),
        num_train_ids=3,
        num_test_ids=2,
        images_per_id=2,
        num_trials=2)
    root = result['dataset_dir']
    caption_file = osp.join(root, 'captions', 'all.json')
    pipeline = [
        dict(t, caption_file=caption_file)
        if t['type'] == 'LoadCaptions' else t for t in loader.dataset.pipeline
    ]
    for trial in (1, 2):
        ds = DATASETS.build(
            dict(
                loader.dataset, data_root=root, trial=trial,
                pipeline=pipeline))
        assert ds.num_ids == 3 and len(ds) == 3 * 2 * 2
        sample = ds[0]
        assert sample['inputs'].shape == (1, 3, 288, 144)
        assert set(sample['data_samples'].metainfo['captions']) == {'vis'}
        load = LoadCaptions(caption_file=caption_file)
        test = DATASETS.build(
            dict(cfg.test_dataloader.dataset, data_root=root, trial=trial))
        for d in infos(ds) + infos(test):
            assert load(dict(d))['captions'][d['modality']].strip()
