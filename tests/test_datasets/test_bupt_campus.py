# Copyright (c) mmreid_text contributors. All rights reserved.
"""BUPTCampus on a hand-written tiny copy of the real layout."""
import json
import os
import os.path as osp

import pytest

from mmreid_text.datasets import BUPTCampus

INFO_KEYS = {
    'img_path', 'rel_img_path', 'modalities', 'modality', 'stored_modalities',
    'pid', 'camid', 'scene_id', 'is_query', 'is_gallery', 'num_frames_total'
}
CAMERAS = ('LS3', 'G25', 'CQ1', 'W4', 'TSG1', 'TSG2')
LISTS = {
    'train.txt':
    ['0005 RGB/IR LS3 t1', '0005 RGB/IR W4 t2', '0002 RGB/IR G25 t1'],
    'train_auxiliary.txt': ['0040 RGB/IR TSG1 t1'],
    'query.txt': ['0100 RGB CQ1 t1', '0101 IR TSG2 t1', '0100 IR CQ1 t1'],
    'gallery.txt':
    ['0100 IR LS3 t2', '0101 RGB G25 t2', '0100 RGB W4 t3', '0101 IR TSG1 t3'],
}


def _frames(obj, mod, cam, tid):
    # 3 + (len(tid) + len(cam)) % 3 frames, named out of order on purpose
    n = 3 + (len(tid) + len(cam)) % 3
    return [f'{obj}/{mod}/{cam}/{tid}/{k:03d}.jpg' for k in range(n, 0, -1)]


def write_bupt(root):
    paths = {}
    os.makedirs(root)
    for name, lines in LISTS.items():
        with open(osp.join(root, name), 'w') as f:
            f.write('\n'.join(lines) + '\n')
        for line in lines:
            obj, mods, cam, tid = line.split()
            for mod in mods.split('/'):
                frames = _frames(obj, mod, cam, tid)
                paths.setdefault(obj, {}).setdefault(mod, {}).setdefault(
                    cam, {})[tid] = frames
                for frame in frames:
                    path = osp.join(root, 'DATA', frame)
                    os.makedirs(osp.dirname(path), exist_ok=True)
                    open(path, 'w').close()
    with open(osp.join(root, 'data_paths.json'), 'w') as f:
        json.dump(paths, f)
    return root


@pytest.fixture
def bupt_root(tmp_path):
    return write_bupt(str(tmp_path / 'BUPTCampus'))


def infos(ds):
    """Info dicts without mmengine's ``sample_idx``."""
    return [{
        k: v
        for k, v in ds.get_data_info(i).items() if k != 'sample_idx'
    } for i in range(len(ds))]


def test_a_training_pair_becomes_two_samples(bupt_root):
    ds = BUPTCampus(data_root=bupt_root, split='train')
    data = infos(ds)
    assert ds.metainfo['modalities'] == ('vis', 'ir')
    assert len(data) == 6 and ds.num_ids == 2
    assert all(set(d) == INFO_KEYS for d in data)
    vis, ir = data[:2]
    assert (vis['modality'], ir['modality']) == ('vis', 'ir')
    assert vis['modalities'] == ('vis', ) and ir['modalities'] == ('ir', )
    # the json's frame order is kept (temporal order, not sorted)
    assert vis['rel_img_path'] == {
        'vis': [f'DATA/0005/RGB/LS3/t1/{k:03d}.jpg' for k in (5, 4, 3, 2, 1)]
    }
    assert ir['img_path']['ir'][0] == osp.join(bupt_root,
                                               'DATA/0005/IR/LS3/t1/005.jpg')
    assert vis['num_frames_total'] == ir['num_frames_total'] == 5
    # relabelled in sorted order of the raw ids: 0002 -> 0, 0005 -> 1
    assert [(d['pid'], d['camid']) for d in data] == [(1, 0), (1, 0), (1, 3),
                                                      (1, 3), (0, 1), (0, 1)]
    assert not any(d['is_query'] or d['is_gallery'] for d in data)


def test_auxiliary_identities_are_optional(bupt_root):
    ds = BUPTCampus(data_root=bupt_root, split='train', auxiliary=True)
    data = infos(ds)
    assert len(data) == 8 and ds.num_ids == 3
    assert [(d['pid'], d['camid'], d['modality'])
            for d in data[-2:]] == [(2, 4, 'vis'), (2, 4, 'ir')]


def test_every_query_and_gallery_tracklet_is_kept(bupt_root):
    data = infos(BUPTCampus(data_root=bupt_root, split='test'))
    # 3 query + 4 gallery lines; the public sampler would drop every RGB
    # tracklet here (fewer than 64)
    assert [(d['pid'], d['modality'], d['camid'], d['is_query'],
             d['is_gallery']) for d in data] == [(100, 'vis', 2, True, False),
                                                 (101, 'ir', 5, True, False),
                                                 (100, 'ir', 2, True, False),
                                                 (100, 'ir', 0, False, True),
                                                 (101, 'vis', 1, False, True),
                                                 (100, 'vis', 3, False, True),
                                                 (101, 'ir', 4, False, True)]
    assert data[4]['rel_img_path']['vis'] == [
        f'DATA/0101/RGB/G25/t2/{k:03d}.jpg' for k in (5, 4, 3, 2, 1)
    ]


def test_camera_names_map_to_0_to_5(bupt_root):
    assert BUPTCampus.CAMERAS == CAMERAS
    data = infos(
        BUPTCampus(data_root=bupt_root, split='train',
                   auxiliary=True)) + infos(
                       BUPTCampus(data_root=bupt_root, split='test'))
    assert sorted({d['camid'] for d in data}) == list(range(6))


def _rewrite(root, name, index, line):
    path = osp.join(root, name)
    with open(path) as f:
        lines = f.read().splitlines()
    lines[index] = line
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


@pytest.mark.parametrize('line, match', [
    ('0005 RGB/IR LS4 t1', "unknown camera 'LS4'"),
    ('0005 NIR LS3 t1', "unknown modality 'NIR'"),
    ('0005 RGB/IR LS3', 'expected "obj_id modality camera'),
    ('0005 RGB/IR LS3 t9', 'tracklet 0005/RGB/LS3/t9'),
    ('x5 RGB LS3 t1', "obj_id 'x5'"),
])
def test_bad_lines_name_file_and_line(bupt_root, line, match):
    _rewrite(bupt_root, 'train.txt', 1, line)
    with pytest.raises((ValueError, KeyError)) as err:
        BUPTCampus(data_root=bupt_root, split='train')
    assert match in str(err.value)
    assert 'train.txt, line 2' in str(err.value)


def test_missing_json_points_at_the_parent(bupt_root):
    with pytest.raises(FileNotFoundError, match='set data_root to the'):
        BUPTCampus(data_root=osp.join(bupt_root, 'DATA'))
    os.remove(osp.join(bupt_root, 'data_paths.json'))
    with pytest.raises(FileNotFoundError, match='data_paths.json'):
        BUPTCampus(data_root=bupt_root)


def test_missing_frame_is_named(bupt_root):
    os.remove(osp.join(bupt_root, 'DATA/0101/IR/TSG1/t3/001.jpg'))
    with pytest.raises(FileNotFoundError, match='TSG1/t3/001.jpg'):
        BUPTCampus(data_root=bupt_root, split='test')


def test_modality_subset_keeps_one_of_each_pair(bupt_root):
    full = infos(BUPTCampus(data_root=bupt_root, split='train'))
    vis = BUPTCampus(data_root=bupt_root, split='train', modalities='vis')
    assert infos(vis) == full[0::2]
