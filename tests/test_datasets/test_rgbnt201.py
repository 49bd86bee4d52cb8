# Copyright (c) mmreid_text contributors. All rights reserved.
import os
import os.path as osp

import pytest

from mmreid_text.datasets import RGBNT201


def test_train_split_relabels_and_pairs(rgbnt201_root):
    ds = RGBNT201(data_root=rgbnt201_root, split='train')
    assert len(ds) == 3 * 3 * 2
    assert ds.metainfo['modalities'] == ('rgb', 'nir', 'tir')
    assert ds.metainfo['classes'] == ('person', )
    info = ds.get_data_info(0)
    assert sorted({ds.get_data_info(i)['pid']
                   for i in range(len(ds))}) == [0, 1, 2]
    name = osp.basename(info['img_path']['rgb'])
    assert osp.basename(info['img_path']['nir']) == name
    assert info['img_path']['nir'].endswith(osp.join('NI', name))
    assert info['img_path']['tir'].endswith(osp.join('TI', name))
    assert info['rel_img_path']['rgb'] == osp.join('train_171', 'RGB', name)
    # cam1 -> 0
    cams = {ds.get_data_info(i)['camid'] for i in range(len(ds))}
    assert cams == {0, 1, 2}
    assert not info['is_query'] and not info['is_gallery']
    assert ds.num_ids == 3


def test_test_split_keeps_raw_ids_and_roles(rgbnt201_root):
    ds = RGBNT201(data_root=rgbnt201_root, split='test')
    pids = {ds.get_data_info(i)['pid'] for i in range(len(ds))}
    assert pids == {258, 259}
    assert all(
        ds.get_data_info(i)['is_query'] and ds.get_data_info(i)['is_gallery']
        for i in range(len(ds)))
    assert ds.test_mode


def test_missing_root_names_path_and_docs(tmp_path):
    missing = str(tmp_path / 'nowhere' / 'RGBNT201')
    with pytest.raises(FileNotFoundError) as err:
        RGBNT201(data_root=missing, split='train')
    assert missing in str(err.value)
    assert 'docs/datasets.md' in str(err.value)


def test_missing_modality_file_is_named(rgbnt201_root):
    victim = osp.join(rgbnt201_root, 'train_171', 'TI', '000002_cam2_0_01.jpg')
    os.remove(victim)
    with pytest.raises(RuntimeError) as err:
        RGBNT201(data_root=rgbnt201_root, split='train')
    msg = str(err.value)
    assert '000002_cam2_0_01.jpg' in msg and 'tir' in msg


def test_bad_file_name_is_named(rgbnt201_root):
    for sub in ('RGB', 'NI', 'TI'):
        d = osp.join(rgbnt201_root, 'train_171', sub)
        os.rename(osp.join(d, '000001_cam1_0_00.jpg'), osp.join(d, 'bad.jpg'))
    with pytest.raises(ValueError, match='bad.jpg'):
        RGBNT201(data_root=rgbnt201_root, split='train')


def test_unknown_split(rgbnt201_root):
    with pytest.raises(ValueError, match='unknown split'):
        RGBNT201(data_root=rgbnt201_root, split='query')


def test_modality_subset_keeps_the_samples_and_drops_the_paths(rgbnt201_root):
    full = RGBNT201(data_root=rgbnt201_root, split='train')
    sub = RGBNT201(
        data_root=rgbnt201_root, split='train', modalities=('tir', 'rgb'))
    assert sub.metainfo['modalities'] == ('tir', 'rgb')
    assert sub.stored_modalities == ('rgb', 'nir', 'tir')
    assert len(sub) == len(full)
    for i in range(len(full)):
        a, b = full.get_data_info(i), sub.get_data_info(i)
        assert list(b['img_path']) == ['tir', 'rgb']
        assert b['img_path'] == {m: a['img_path'][m] for m in ('tir', 'rgb')}
        assert list(b['rel_img_path']) == ['tir', 'rgb']
        assert b['modalities'] == ('tir', 'rgb')
        assert (a['pid'], a['camid']) == (b['pid'], b['camid'])


@pytest.mark.parametrize('modalities', [(), ('rgb', 'rgb'), ('rgb', 'uv')])
def test_bad_modality_subset_is_named(rgbnt201_root, modalities):
    with pytest.raises(ValueError) as err:
        RGBNT201(data_root=rgbnt201_root, modalities=modalities)
    assert "('rgb', 'nir', 'tir')" in str(err.value)
