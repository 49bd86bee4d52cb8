# Copyright (c) mmreid_text contributors. All rights reserved.
"""HITSZVCM on hand-written tiny copies of the real layout."""
import os
import os.path as osp

import pytest

from mmreid_text.datasets import HITSZVCM
from mmreid_text.datasets import hitsz_vcm as hitsz_vcm_module

INFO_KEYS = {
    'img_path', 'rel_img_path', 'modalities', 'modality', 'stored_modalities',
    'pid', 'camid', 'scene_id', 'is_query', 'is_gallery', 'num_frames_total'
}
# (modality code 1 = IR / 2 = RGB, pid, camera, tracklet, number of frames)
TRAIN = [(1, 3, 2, 1, 12), (2, 3, 4, 2, 14), (1, 3, 2, 3, 5), (2, 7, 1, 1, 13)]
TEST = [(1, 10, 1, 1, 12), (2, 10, 2, 2, 12), (1, 11, 3, 1, 4),
        (2, 11, 1, 2, 15), (1, 11, 2, 3, 12), (2, 10, 5, 3, 12)]


def _names(tracks):
    """Frame names in name-list order; file numbers go on per folder."""
    names, count = [], {}
    for mod, pid, cam, track, n in tracks:
        for _ in range(n):
            k = count[(pid, mod, cam)] = count.get((pid, mod, cam), 0) + 1
            names.append(f'{pid:04d}M{mod}D{cam}T{track:04d}F{k:04d}.jpg')
    return names


def _rows(tracks):
    rows, start = [], 1
    for mod, pid, cam, _, n in tracks:
        rows.append(f'{mod} {start} {start + n - 1} {pid} {cam}')
        start += n
    return rows


def write_vcm(root, variant='flat', query='1 3 5'):
    """Write info/ and empty frame files; return ``root``."""
    os.makedirs(osp.join(root, 'info'))
    for split, tracks in (('train', TRAIN), ('test', TEST)):
        names = _names(tracks)
        with open(osp.join(root, 'info', f'{split}_name.txt'), 'w') as f:
            f.write('\n'.join(names) + '\n')
        with open(osp.join(root, 'info', f'track_{split}_info.txt'), 'w') as f:
            f.write('\n'.join(_rows(tracks)) + '\n')
        base = root if variant == 'flat' else osp.join(root, split.title())
        for name in names:
            mod = 'ir' if name[5] == '1' else 'rgb'
            folder = osp.join(base, name[:4], mod, name[6:name.find('T')])
            os.makedirs(folder, exist_ok=True)
            open(osp.join(folder, name[name.find('F') + 1:]), 'w').close()
    with open(osp.join(root, 'info', 'query_IDX.txt'), 'w') as f:
        f.write(query + '\n')
    return root


@pytest.fixture
def vcm_root(tmp_path):
    return write_vcm(str(tmp_path / 'HITSZ-VCM'))


def infos(ds):
    """Info dicts without mmengine's ``sample_idx``."""
    return [{
        k: v
        for k, v in ds.get_data_info(i).items() if k != 'sample_idx'
    } for i in range(len(ds))]


def test_train_frames_are_1_based_inclusive_ranges(vcm_root, monkeypatch):
    logged = []
    monkeypatch.setattr(hitsz_vcm_module, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    ds = HITSZVCM(data_root=vcm_root, split='train')
    data = infos(ds)
    assert ds.metainfo['modalities'] == ('vis', 'ir')
    assert len(data) == 3 and ds.num_dropped_tracklets == 1
    assert logged == [
        'HITSZVCM: split "train": dropped 1 of 4 tracklets shorter than '
        'min_seq_len=12 frames (ir: 1).'
    ]
    first, second, third = data
    assert set(first) == INFO_KEYS
    # row "1 1 12 3 2": names 1..12 = pid 3, IR, camera D2, files 1..12
    assert first['rel_img_path'] == {
        'ir': [f'0003/ir/D2/{k:04d}.jpg' for k in range(1, 13)]
    }
    assert first['img_path']['ir'][0] == osp.join(vcm_root,
                                                  '0003/ir/D2/0001.jpg')
    assert (first['modality'], first['modalities']) == ('ir', ('ir', ))
    assert first['stored_modalities'] == ('vis', 'ir')
    assert first['num_frames_total'] == 12
    assert (first['pid'], first['camid'], first['scene_id']) == (0, 2, -1)
    assert not first['is_query'] and not first['is_gallery']
    # row "2 13 26 3 4": 14 RGB frames of camera D4
    assert second['rel_img_path'] == {
        'vis': [f'0003/rgb/D4/{k:04d}.jpg' for k in range(1, 15)]
    }
    assert second['modality'] == 'vis' and second['num_frames_total'] == 14
    # the 5-frame row 27..31 is dropped; row "2 32 44 7 1" follows
    assert third['rel_img_path']['vis'][0] == '0007/rgb/D1/0001.jpg'
    assert third['num_frames_total'] == 13
    assert (third['pid'], third['camid']) == (1, 1)


def test_min_seq_len_is_configurable(vcm_root):
    ds = HITSZVCM(data_root=vcm_root, split='train', min_seq_len=5)
    assert len(ds) == 4 and ds.num_dropped_tracklets == 0
    short = ds.get_data_info(2)
    assert short['rel_img_path']['ir'] == [
        f'0003/ir/D2/{k:04d}.jpg' for k in range(13, 18)
    ]
    assert len(HITSZVCM(data_root=vcm_root, split='train',
                        min_seq_len=14)) == 1
    with pytest.raises(ValueError, match='min_seq_len'):
        HITSZVCM(data_root=vcm_root, min_seq_len=0)


def test_query_idx_rows_are_queries_the_rest_gallery(vcm_root):
    data = infos(HITSZVCM(data_root=vcm_root, split='test'))
    # row 3 (4 frames, a query row) is dropped
    assert [
        (d['pid'], d['modality'], d['is_query'], d['is_gallery']) for d in data
    ] == [(10, 'ir', True, False), (10, 'vis', False, True),
          (11, 'vis', False, True), (11, 'ir', True, False),
          (10, 'vis', False, True)]
    assert data[3]['rel_img_path']['ir'][0] == '0011/ir/D2/0001.jpg'
    assert data[2]['rel_img_path']['vis'][-1] == '0011/rgb/D1/0015.jpg'


def test_both_folder_variants_read_the_same(tmp_path):
    flat = write_vcm(str(tmp_path / 'flat'))
    split = write_vcm(str(tmp_path / 'split'), variant='split')
    for name in ('train', 'test'):
        a = infos(HITSZVCM(data_root=flat, split=name))
        b = infos(HITSZVCM(data_root=split, split=name))
        folder = name.title()
        for x, y in zip(a, b):
            assert {
                m: [osp.join(folder, p) for p in v]
                for m, v in x['rel_img_path'].items()
            } == y['rel_img_path']
            assert (x['pid'], x['camid'],
                    x['is_query']) == (y['pid'], y['camid'], y['is_query'])
    assert len(a) == len(b)
    forced = HITSZVCM(data_root=split, split='test', folder_layout='split')
    assert infos(forced) == b


def test_frames_in_neither_variant_is_an_error(vcm_root):
    os.rename(osp.join(vcm_root, '0003'), osp.join(vcm_root, 'moved'))
    with pytest.raises(FileNotFoundError) as err:
        HITSZVCM(data_root=vcm_root, split='train')
    msg = str(err.value)
    assert 'neither exists' in msg and 'Train' in msg
    assert '0003/ir/D2/0001.jpg' in msg and 'train_name.txt' in msg


@pytest.mark.parametrize('name', ['0003M1X2T0001F0005.jpg', '', '0003M1D2'])
def test_a_name_that_does_not_decode_names_file_and_line(vcm_root, name):
    path = osp.join(vcm_root, 'info', 'train_name.txt')
    with open(path) as f:
        lines = f.read().splitlines()
    lines[4] = name  # no D / a blank line (still frame 5) / no T, F
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n\n')
    with pytest.raises(ValueError) as err:
        HITSZVCM(data_root=vcm_root, split='train', check_files=False)
    assert f'"{name}"' in str(err.value)
    assert 'train_name.txt, line 5)' in str(err.value)


def test_name_and_row_must_agree(vcm_root):
    path = osp.join(vcm_root, 'info', 'track_train_info.txt')
    with open(path) as f:
        lines = f.read().splitlines()
    lines[0] = '2 1 12 3 2'  # the names are IR
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    with pytest.raises(ValueError, match='track_train_info.txt, line 1'):
        HITSZVCM(data_root=vcm_root, split='train')


@pytest.mark.parametrize('row', ['1 0 12 3 2', '1 40 50 3 2', '1 1 x 3 2'])
def test_bad_rows_name_file_and_line(vcm_root, row):
    path = osp.join(vcm_root, 'info', 'track_train_info.txt')
    with open(path) as f:
        lines = f.read().splitlines()
    lines[2] = row
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    with pytest.raises(ValueError, match='track_train_info.txt, line 3'):
        HITSZVCM(data_root=vcm_root, split='train')


def test_query_idx_lines(tmp_path):
    two = write_vcm(str(tmp_path / 'a'), query='2 4\n1 3 5')
    with pytest.raises(ValueError, match="query_idx_line='last'"):
        HITSZVCM(data_root=two, split='test')
    last = infos(HITSZVCM(data_root=two, split='test', query_idx_line='last'))
    assert [d['is_query'] for d in last] == [True, False, False, True, False]
    same = write_vcm(str(tmp_path / 'b'), query='1 3 5\n\n1 3 5')
    assert [(d['rel_img_path'], d['is_query'])
            for d in infos(HITSZVCM(data_root=same, split='test'))
            ] == [(d['rel_img_path'], d['is_query']) for d in last]
    for i, bad in enumerate(('0 1', '1 1', '1 7')):
        root = write_vcm(str(tmp_path / f'bad{i}'), query=bad)
        with pytest.raises(ValueError, match='query_IDX.txt, line 1'):
            HITSZVCM(data_root=root, split='test')


def test_missing_info_file_is_named(vcm_root):
    os.remove(osp.join(vcm_root, 'info', 'query_IDX.txt'))
    assert len(HITSZVCM(data_root=vcm_root, split='train')) == 3
    with pytest.raises(FileNotFoundError, match='query_IDX.txt'):
        HITSZVCM(data_root=vcm_root, split='test')


def test_modality_subset_keeps_the_samples_of_that_modality(vcm_root):
    full = infos(HITSZVCM(data_root=vcm_root, split='test'))
    ir = HITSZVCM(data_root=vcm_root, split='test', modalities=('ir', ))
    assert ir.metainfo['modalities'] == ('ir', )
    assert infos(ir) == [d for d in full if d['modality'] == 'ir']
    both = HITSZVCM(data_root=vcm_root, split='test', modalities=('ir', 'vis'))
    assert infos(both) == full
    with pytest.raises(ValueError, match="subset of the benchmark"):
        HITSZVCM(data_root=vcm_root, modalities=('rgb', ))
