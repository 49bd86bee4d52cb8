# Copyright (c) mmreid_text contributors. All rights reserved.
"""Per-sample ``modalities`` / ``modality`` of the base class: multi-spectral
info dicts keep exactly their keys; single-modality samples get
``modality``."""
from mmreid_text.datasets import RGBNT201

MULTI_SPECTRAL_KEYS = {
    'img_path', 'rel_img_path', 'modalities', 'stored_modalities', 'pid',
    'camid', 'scene_id', 'is_query', 'is_gallery', 'sample_idx'
}


def test_multi_spectral_info_dicts_are_unchanged(rgbnt201_root):
    ds = RGBNT201(data_root=rgbnt201_root, split='train')
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert set(info) == MULTI_SPECTRAL_KEYS
        assert info['modalities'] == ('rgb', 'nir', 'tir')
        assert list(info['img_path']) == ['rgb', 'nir', 'tir']


def test_a_single_spectrum_subset_names_its_modality(rgbnt201_root):
    full = RGBNT201(data_root=rgbnt201_root, split='test')
    tir = RGBNT201(data_root=rgbnt201_root, split='test', modalities='tir')
    assert len(tir) == len(full)  # every sample holds every spectrum
    for i in range(len(tir)):
        info = tir.get_data_info(i)
        assert set(info) == MULTI_SPECTRAL_KEYS | {'modality'}
        assert (info['modality'], info['modalities']) == ('tir', ('tir', ))
        assert info['img_path'] == {
            'tir': full.get_data_info(i)['img_path']['tir']
        }
