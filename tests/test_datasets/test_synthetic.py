# Copyright (c) mmreid_text contributors. All rights reserved.
"""Tests of the synthetic RGBNT201 generator (layout, determinism, manifest,
captions, modality physics and learnability)."""
import importlib.util
import json
import os
import os.path as osp
import re
from collections import defaultdict

import numpy as np
import pytest
from PIL import Image

import mmreid_text.datasets.synthetic.layouts as layouts_module
import mmreid_text.datasets.synthetic.render as render_module
from mmreid_text.captions.format import load_caption_file
from mmreid_text.datasets.synthetic import (COLOUR_WORDS, MANIFEST_NAME,
                                            ensure_synthetic_rgbnt201,
                                            make_synthetic_rgbnt201,
                                            read_manifest, render_triplet,
                                            sample_identity)
from mmreid_text.datasets.synthetic.generator import INCOMPLETE_MARKER

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODALITY_DIRS = {'RGB': 'rgb', 'NI': 'nir', 'TI': 'tir'}
NAME_PATTERN = re.compile(r'^\d{6}_cam[1-9]_0_\d{2}\.jpg$')
TINY = dict(
    num_train_ids=1,
    num_test_ids=2,
    images_per_camera=2,
    img_size=(64, 32),
    progress=False)


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


def all_files(root):
    found = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                found[osp.relpath(path, root)] = f.read()
    return found


@pytest.fixture(scope='module')
def small_set(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    stats = make_synthetic_rgbnt201(
        root,
        num_train_ids=3,
        num_test_ids=12,
        images_per_camera=4,
        seed=0,
        progress=False)
    return stats


def test_layout_and_names(small_set):
    dataset_dir = small_set['dataset_dir']
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
        assert len(names) == small_set['splits'][split]['triplets']
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


def test_determinism(tmp_path):
    make_synthetic_rgbnt201(str(tmp_path / 'a'), seed=3, **TINY)
    make_synthetic_rgbnt201(str(tmp_path / 'b'), seed=3, **TINY)
    make_synthetic_rgbnt201(str(tmp_path / 'c'), seed=4, **TINY)
    files_a = all_files(str(tmp_path / 'a'))
    files_b = all_files(str(tmp_path / 'b'))
    files_c = all_files(str(tmp_path / 'c'))
    assert len(files_a) == 3 * (1 * 4 * 2 + 2 * 2 * 2) + 3
    assert files_a == files_b
    assert len(files_c) == len(files_a)
    images_a = {v for k, v in files_a.items() if k.endswith('.jpg')}
    images_c = {v for k, v in files_c.items() if k.endswith('.jpg')}
    # another seed: not a single identical image
    assert len(images_a) == len(images_c) == 3 * 16
    assert not images_a & images_c


def test_ensure_uses_manifest(tmp_path):
    root = str(tmp_path)
    first = ensure_synthetic_rgbnt201(root, seed=0, **TINY)
    assert first['generated']
    dataset_dir = first['dataset_dir']
    manifest = read_manifest(dataset_dir)
    assert manifest['params']['seed'] == 0
    assert manifest['params']['img_size'] == [64, 32]
    assert not osp.exists(osp.join(dataset_dir, INCOMPLETE_MARKER))
    probe = osp.join(
        dataset_dir, 'test', 'RGB',
        sorted(os.listdir(osp.join(dataset_dir, 'test', 'RGB')))[0])
    mtime = os.stat(probe).st_mtime_ns

    second = ensure_synthetic_rgbnt201(root, seed=0, **TINY)
    assert not second['generated']
    assert second['splits'] == first['splits']
    assert os.stat(probe).st_mtime_ns == mtime

    # manifest missing -> regenerated
    os.remove(osp.join(dataset_dir, MANIFEST_NAME))
    third = ensure_synthetic_rgbnt201(root, seed=0, **TINY)
    assert third['generated']
    assert read_manifest(dataset_dir) is not None

    # different parameters -> regenerated, stale files gone
    params = dict(TINY, num_test_ids=3)
    fourth = ensure_synthetic_rgbnt201(root, seed=0, **params)
    assert fourth['generated']
    assert len(os.listdir(osp.join(dataset_dir, 'test', 'TI'))) == 3 * 2 * 2

    # a file deleted behind the manifest's back -> regenerated
    os.remove(probe)
    assert ensure_synthetic_rgbnt201(root, seed=0, **params)['generated']


def test_interrupted_generation_is_redone(tmp_path, monkeypatch):
    root = str(tmp_path)
    calls = {'n': 0}
    real_save = layouts_module.save_jpeg

    def failing_save(path, image):
        calls['n'] += 1
        if calls['n'] > 5:
            raise KeyboardInterrupt('simulated interruption')
        real_save(path, image)

    monkeypatch.setattr(layouts_module, 'save_jpeg', failing_save)
    with pytest.raises(KeyboardInterrupt):
        make_synthetic_rgbnt201(root, **TINY)
    dataset_dir = osp.join(root, 'RGBNT201')
    assert not osp.exists(osp.join(dataset_dir, MANIFEST_NAME))
    assert osp.exists(osp.join(dataset_dir, INCOMPLETE_MARKER))
    monkeypatch.setattr(layouts_module, 'save_jpeg', real_save)
    stats = ensure_synthetic_rgbnt201(root, **TINY)
    assert stats['generated']
    assert not osp.exists(osp.join(dataset_dir, INCOMPLETE_MARKER))
    assert len(os.listdir(osp.join(dataset_dir, 'train_171', 'RGB'))) == 8


def test_refuses_foreign_folder_and_bad_arguments(tmp_path):
    dataset_dir = tmp_path / 'RGBNT201'
    dataset_dir.mkdir()
    (dataset_dir / 'something.txt').write_text('real data')
    with pytest.raises(RuntimeError, match='RGBNT201'):
        ensure_synthetic_rgbnt201(str(tmp_path), **TINY)
    assert (dataset_dir / 'something.txt').exists()
    with pytest.raises(ValueError, match='30'):
        make_synthetic_rgbnt201(
            str(tmp_path / 'x'), images_per_camera=31, progress=False)
    with pytest.raises(ValueError, match='seed'):
        make_synthetic_rgbnt201(str(tmp_path / 'x'), seed=-1, progress=False)
    with pytest.raises(ValueError, match='img_size'):
        make_synthetic_rgbnt201(
            str(tmp_path / 'x'), img_size=(256, ), progress=False)


def _words(text):
    return set(re.findall(r'[a-z]+', text.lower()))


def test_captions(small_set):
    dataset_dir = small_set['dataset_dir']
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


def test_nir_and_tir_are_grey(small_set):
    dataset_dir = small_set['dataset_dir']
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


def _render_frames(num_frames):
    """Yield (identity, rendered frame) for varied ids, cams and poses."""
    img_size = (256, 128)
    scenes = {
        cam:
        render_module.make_camera_scene(cam, img_size,
                                        np.random.default_rng(cam))
        for cam in (1, 2)
    }
    for index in range(num_frames):
        rng = np.random.default_rng([7, index])
        identity = sample_identity(index, rng)
        scene = scenes[index % 2 + 1]
        track = render_module.sample_track(img_size, rng)
        pose = render_module.sample_pose(identity, scene, track, index % 30,
                                         img_size, rng)
        yield identity, render_triplet(identity, scene, pose, img_size, rng)


def test_modality_physics():
    """TIR: skin > clothing > bags and background; patterns vanish in TIR
    but stay in NIR."""
    stats = defaultdict(list)
    for identity, frame in _render_frames(40):
        labels = frame['labels']
        # blur mixes labels near edges: use interior pixels only
        interior = labels.copy()
        for shift in ((0, 2), (0, -2), (2, 0), (-2, 0)):
            interior[np.roll(labels, shift, axis=(0, 1)) != labels] = 255
        tir = frame['tir'][..., 0].astype(np.float32)
        nir = frame['nir'][..., 0].astype(np.float32)
        for material, name in ((render_module.SKIN,
                                'skin'), (render_module.UPPER, 'upper'),
                               (render_module.BAG, 'bag'), (render_module.BG,
                                                            'bg')):
            mask = interior == material
            if mask.sum() > 10:
                stats[name].append(tir[mask].mean())
        # stripes are a few pixels wide: compare whole stripe areas
        upper = labels == render_module.UPPER
        accent = labels == render_module.ACCENT
        if identity.upper_pattern in ('stripes', 'checks') and min(
                upper.sum(), accent.sum()) > 20:
            stats['nir_pattern'].append(
                abs(nir[upper].mean() - nir[accent].mean()))
    assert np.mean(stats['skin']) > np.mean(stats['upper']) + 15
    assert np.mean(stats['upper']) > np.mean(stats['bag']) + 30
    assert np.mean(stats['upper']) > np.mean(stats['bg']) + 30
    assert len(stats['nir_pattern']) >= 3
    assert min(stats['nir_pattern']) > 15

    # TIR has no pattern: stripes of the same garment have one temperature
    identity = next(i for i, _ in _render_frames(40)
                    if i.upper_pattern in ('stripes', 'checks'))
    _, nir_table, tir_table = render_module.material_tables(identity)
    assert tir_table[render_module.UPPER] == tir_table[render_module.ACCENT]
    assert abs(nir_table[render_module.UPPER] -
               nir_table[render_module.ACCENT]) >= 0.15


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


def test_identity_is_learnable(small_set):
    dataset_dir = small_set['dataset_dir']
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


def test_cli(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        'make_synthetic',
        osp.join(REPO, 'tools', 'dataset_converters', 'make_synthetic.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    argv = [
        '--root',
        str(tmp_path), '--num-train-ids', '1', '--num-test-ids', '2',
        '--images-per-camera', '2', '--img-size', '64', '32', '--no-progress'
    ]
    preview = str(tmp_path / 'preview.png')
    assert tool.main(argv + ['--preview', preview]) == 0
    out = capsys.readouterr().out
    assert re.search(r'train_171\s+1\s+8\s+24', out), out
    assert re.search(r'test\s+2\s+8\s+24', out), out
    with Image.open(preview) as img:
        assert img.size[0] == 3 * 32 + 8
    assert tool.main(argv) == 0
    assert 'already present' in capsys.readouterr().out
    assert tool.main(argv + ['--force']) == 0
    assert 'generated' in capsys.readouterr().out
    assert tool.main(argv + ['--images-per-camera', '40']) == 1
    assert '30' in capsys.readouterr().err
    with open(osp.join(tmp_path, 'RGBNT201', MANIFEST_NAME)) as f:
        assert json.load(f)['params']['images_per_camera'] == 2


def test_import_registers_nothing():
    """No registry (ours or a parent) holds anything from the package."""
    from mmengine.registry import Registry

    import mmreid_text.registry as registry_module
    registries = [
        getattr(registry_module, name) for name in dir(registry_module)
        if isinstance(getattr(registry_module, name), Registry)
    ]
    assert registries
    for registry in registries:
        for name, obj in registry.module_dict.items():
            module = getattr(obj, '__module__', '') or ''
            assert module.split('.')[:3] != [
                'mmreid_text', 'datasets', 'synthetic'
            ], (registry.name, name, module)
