# Copyright (c) mmreid_text contributors. All rights reserved.
"""The RGBNT201 layout: names as the public loaders parse them, captions
consistent with the images' attributes, identities learnable."""
import os
import os.path as osp
import re
from collections import defaultdict

import numpy as np
from PIL import Image

from mmreid_text.captions.format import load_caption_file
from mmreid_text.synthetic import COLOUR_WORDS, MANIFEST_NAME

MODALITY_DIRS = {'RGB': 'rgb', 'NI': 'nir', 'TI': 'tir'}
NAME_PATTERN = re.compile(r'^\d{6}_cam[1-9]_0_\d{2}\.jpg$')


def parse_rgbnt201_name(name):
    """pid and 0-based camid exactly as the public RGBNT201 loaders do."""
    pid = int(name.split('_')[0][:6])
    camid = int(name.split('_')[1][3]) - 1
    return pid, camid


def list_split(dataset_dir, split):
    return {
        folder: sorted(os.listdir(osp.join(dataset_dir, split, folder)))
        for folder in MODALITY_DIRS
    }


def test_layout_and_names(small_rgbnt201):
    dataset_dir = small_rgbnt201['dataset_dir']
    assert osp.basename(dataset_dir) == 'RGBNT201'
    assert sorted(os.listdir(dataset_dir)) == sorted(
        ['train_171', 'test', 'captions', MANIFEST_NAME])
    pids_of = {}
    for split, expected_cams in (('train_171', {0, 1, 2, 3}), ('test', {0,
                                                                        1})):
        files = list_split(dataset_dir, split)
        # identical file names in the three modality folders
        assert files['RGB'] == files['NI'] == files['TI']
        names = files['RGB']
        assert len(names) == small_rgbnt201['splits'][split]['samples']
        per_id_cam = defaultdict(int)
        for name in names:
            assert len(name) == 20 and NAME_PATTERN.match(name), name
            assert int(name[-6:-4]) < 30
            pid, camid = parse_rgbnt201_name(name)
            per_id_cam[(pid, camid)] += 1
        pids = {pid for pid, _ in per_id_cam}
        assert {cam for _, cam in per_id_cam} == expected_cams
        # every id under every camera of its split, 4 frames each
        assert set(per_id_cam) == {(p, c) for p in pids for c in expected_cams}
        assert set(per_id_cam.values()) == {4}
        pids_of[split] = pids
    assert pids_of['train_171'] == {1, 2, 3}
    assert not pids_of['train_171'] & pids_of['test']
    assert min(pids_of['test']) > max(pids_of['train_171'])
    assert len(pids_of['test']) == 12
    for folder in MODALITY_DIRS:
        name = list_split(dataset_dir, 'test')[folder][0]
        with Image.open(osp.join(dataset_dir, 'test', folder, name)) as img:
            assert img.format == 'JPEG'
            assert img.mode == 'RGB'
            assert img.size == (128, 256)


def _words(text):
    return set(re.findall(r'[a-z]+', text.lower()))


def test_captions(small_rgbnt201):
    dataset_dir = small_rgbnt201['dataset_dir']
    identity_attrs = defaultdict(set)
    for split in ('train_171', 'test'):
        data = load_caption_file(
            osp.join(dataset_dir, 'captions', f'{split}.json'))
        assert data['dataset'] == 'RGBNT201'
        assert data['split'] == split
        assert data['source'] == 'synthetic ground truth'
        expected_keys = {
            f'{split}/{folder}/{name}'
            for folder, names in list_split(dataset_dir, split).items()
            for name in names
        }
        assert set(data['captions']) == expected_keys
        for key, entry in data['captions'].items():
            assert osp.isfile(osp.join(dataset_dir, key))
            folder = key.split('/')[1]
            assert list(entry) == [MODALITY_DIRS[folder]]
            modality, item = next(iter(entry.items()))
            attrs = {k: v['value'] for k, v in item['attributes'].items()}
            assert all(v['confidence'] == 1.0
                       for v in item['attributes'].values())
            text_words = _words(item['text'])
            colour_names = {
                v
                for k, v in attrs.items()
                if k.endswith('colour') and v not in ('none', 'unknown')
            }
            if modality == 'rgb':
                assert 'unknown' not in {
                    v
                    for k, v in attrs.items() if k != 'glasses'
                }
                assert attrs['upper_colour'] in text_words
                assert colour_names <= set(COLOUR_WORDS)
            else:
                # NIR and TIR never name a colour
                assert not text_words & set(COLOUR_WORDS), item['text']
                assert not colour_names
                assert attrs['upper_colour'] == 'unknown'
            if modality == 'tir':
                assert attrs['upper_pattern'] == 'unknown'
                assert attrs['upper_accent_colour'] == 'unknown'
                assert not text_words & {'striped', 'checked', 'logo'}
            elif attrs['upper_pattern'] == 'stripes':
                assert 'striped' in text_words
            assert attrs['upper_type'].split('-')[-1] in text_words
            if attrs['view'] == 'back':
                assert attrs['glasses'] == 'unknown'
            # identity-level attributes are the same in every image
            pid = int(osp.basename(key)[:6])
            fixed = tuple(
                sorted((k, v) for k, v in attrs.items()
                       if k not in ('view', 'glasses') and v != 'unknown'))
            identity_attrs[(pid, modality)].add(fixed)
    assert all(len(v) == 1 for v in identity_attrs.values())


def _camera_centred_histograms(paths, cams, bands=8, bins=6):
    """Per-band colour histograms of the central half of each image, minus
    the per-camera mean (removes the shared camera background)."""
    features = []
    for path in paths:
        with Image.open(path) as img:
            pixels = np.asarray(img.convert('RGB'), dtype=np.int64)
        h, w, _ = pixels.shape
        pixels = pixels[:, w // 4:3 * w // 4] * bins // 256
        codes = (pixels[..., 0] * bins + pixels[..., 1]) * bins + pixels[...,
                                                                         2]
        hists = []
        for band in range(bands):
            band_codes = codes[band * h // bands:(band + 1) * h // bands]
            hist = np.bincount(band_codes.ravel(), minlength=bins**3)
            hists.append(np.sqrt(hist / hist.sum()))
        features.append(np.concatenate(hists))
    features = np.stack(features)
    for cam in set(cams):
        features[cams == cam] -= features[cams == cam].mean(0)
    return features / np.linalg.norm(features, axis=1, keepdims=True)


def _rank1(features, pids, cams):
    """Market-style rank-1: gallery = all test images except same id and
    same camera as the query (which also removes the query itself)."""
    dist = ((features[:, None] - features[None])**2).sum(-1)
    invalid = (pids[:, None] == pids[None]) & (cams[:, None] == cams[None])
    dist[invalid] = np.inf
    return float(np.mean(pids[dist.argmin(1)] == pids))


def test_identity_is_learnable(small_rgbnt201):
    dataset_dir = small_rgbnt201['dataset_dir']
    results = {}
    for folder in ('RGB', 'NI'):
        names = list_split(dataset_dir, 'test')[folder]
        parsed = np.array([parse_rgbnt201_name(n) for n in names])
        pids, cams = parsed[:, 0], parsed[:, 1]
        paths = [osp.join(dataset_dir, 'test', folder, n) for n in names]
        features = _camera_centred_histograms(paths, cams)
        results[folder] = _rank1(features, pids, cams)
        shuffled = np.random.default_rng(0).permutation(pids)
        results[folder + '_shuffled'] = _rank1(features, shuffled, cams)
    chance = 1 / 12
    assert results['RGB'] >= max(0.5, 5 * chance), results
    assert results['NI'] >= 3 * chance, results
    # the control: with identity labels shuffled, retrieval is near chance
    assert results['RGB_shuffled'] <= 3 * chance, results


def test_nir_and_tir_are_grey(small_rgbnt201):
    dataset_dir = small_rgbnt201['dataset_dir']
    names = list_split(dataset_dir, 'test')['RGB'][::7]
    colourful = 0
    for name in names:
        for folder in MODALITY_DIRS:
            with Image.open(osp.join(dataset_dir, 'test', folder,
                                     name)) as img:
                pixels = np.asarray(img, dtype=np.int16)
            spread = np.abs(pixels - pixels[..., :1]).max()
            if folder == 'RGB':
                colourful += int(spread > 60)
            else:
                assert spread <= 2, (folder, name, spread)
    assert colourful == len(names)
