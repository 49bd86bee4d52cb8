# Copyright (c) mmreid_text contributors. All rights reserved.
"""The generator: determinism, independent streams per layout, manifest,
regeneration, protection of real data, plan checks, and a layout that uses
the whole layout interface (visible-infrared modalities, tracklets, an
index file)."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from mmreid_text.captions.format import load_caption_file
from mmreid_text.synthetic import (COLOUR_WORDS, INCOMPLETE_MARKER,
                                   MANIFEST_NAME, SYNTHETIC_LAYOUTS, FrameSpec,
                                   SyntheticLayout, SyntheticWorld,
                                   build_layout, ensure_synthetic,
                                   make_synthetic, read_manifest,
                                   register_layout)
from mmreid_text.synthetic.generator import _check_plan
from mmreid_text.synthetic.layouts.base import check_int
from .conftest import PERSON_SIZE, TINY, VEHICLE_SIZE, all_files, generate_tiny

RGBNT201_TINY = dict(
    num_train_ids=1,
    num_test_ids=2,
    images_per_camera=2,
    img_size=(64, 32),
    progress=False)


@pytest.mark.parametrize('name', sorted(SYNTHETIC_LAYOUTS))
def test_same_seed_same_bytes(name, tmp_path):
    first = all_files(generate_tiny(name, tmp_path / 'a')['dataset_dir'])
    again = all_files(generate_tiny(name, tmp_path / 'b')['dataset_dir'])
    assert first == again
    assert sum(k.endswith(('.jpg', '.bmp')) for k in first) > 10


def test_another_seed_shares_no_image(tmp_path):
    files_a = all_files(
        make_synthetic(
            'RGBNT201', str(tmp_path / 'a'), seed=3,
            **RGBNT201_TINY)['dataset_dir'])
    files_c = all_files(
        make_synthetic(
            'RGBNT201', str(tmp_path / 'c'), seed=4,
            **RGBNT201_TINY)['dataset_dir'])
    assert len(files_a) == 3 * (1 * 4 * 2 + 2 * 2 * 2) + 3
    assert len(files_c) == len(files_a)
    images_a = {v for k, v in files_a.items() if k.endswith('.jpg')}
    images_c = {v for k, v in files_c.items() if k.endswith('.jpg')}
    assert len(images_a) == len(images_c) == 3 * 16
    assert not images_a & images_c


def test_same_bytes_in_a_fresh_process_with_another_hash_seed(tmp_path):
    """Nothing may depend on the process (hash(), set order, global rng)."""
    here = all_files(generate_tiny('MarketMM', tmp_path / 'a')['dataset_dir'])
    code = ('import sys; sys.path.insert(0, sys.argv[2]); '
            'from test_synthetic.conftest import generate_tiny; '
            'generate_tiny("MarketMM", sys.argv[1])')
    tests_dir = osp.dirname(osp.dirname(osp.abspath(__file__)))
    env = dict(os.environ, PYTHONHASHSEED='12345', OMP_NUM_THREADS='1')
    subprocess.run(
        [sys.executable, '-c', code,
         str(tmp_path / 'b'), tests_dir],
        check=True,
        env=env,
        timeout=300)
    there = all_files(str(tmp_path / 'b' / 'Market1501-MM'))
    assert here == there


@pytest.mark.parametrize('first, second', [('RGBNT201', 'MarketMM'),
                                           ('RGBNT100', 'MSVR310'),
                                           ('RGBNT100', 'WMVEID863'),
                                           ('MSVR310', 'WMVEID863')])
def test_layouts_never_share_a_random_stream(first, second):
    """The same seed, pid and camera give other people / vehicles, scenes
    and plans in two layouts."""
    size = PERSON_SIZE if first in ('RGBNT201', 'MarketMM') else VEHICLE_SIZE
    worlds = [
        SyntheticWorld(build_layout(n, **TINY[n]), 0, size)
        for n in (first, second)
    ]
    assert worlds[0].identity(1) != worlds[1].identity(1)
    backgrounds = [w.scene(1).rgb_background for w in worlds]
    assert not (backgrounds[0] == backgrounds[1]).all()
    plan_draws = [w.layout.rng(0, 1).random() for w in worlds]
    assert plan_draws[0] != plan_draws[1]


def test_registering_a_used_stream_id_or_name_fails():

    class Clash(SyntheticLayout):
        name = 'Clash'
        dataset_folder = 'Clash'
        split_folders = ('train', )
        stream_id = SYNTHETIC_LAYOUTS['MSVR310'].stream_id

    with pytest.raises(ValueError, match='MSVR310Layout'):
        register_layout(Clash)
    Clash.stream_id, Clash.name = 999, 'RGBNT201'
    with pytest.raises(ValueError, match='taken'):
        register_layout(Clash)
    assert 'Clash' not in SYNTHETIC_LAYOUTS


def test_ensure_uses_manifest(tmp_path):
    root = str(tmp_path)
    first = ensure_synthetic('RGBNT201', root, seed=0, **RGBNT201_TINY)
    assert first['generated']
    dataset_dir = first['dataset_dir']
    manifest = read_manifest(dataset_dir)
    assert manifest['params']['seed'] == 0
    assert manifest['params']['img_size'] == [64, 32]
    assert manifest['dataset'] == 'RGBNT201'
    assert not osp.exists(osp.join(dataset_dir, INCOMPLETE_MARKER))
    probe = osp.join(
        dataset_dir, 'test', 'RGB',
        sorted(os.listdir(osp.join(dataset_dir, 'test', 'RGB')))[0])
    mtime = os.stat(probe).st_mtime_ns

    second = ensure_synthetic('RGBNT201', root, seed=0, **RGBNT201_TINY)
    assert not second['generated']
    assert second['splits'] == first['splits']
    assert os.stat(probe).st_mtime_ns == mtime

    # manifest missing -> regenerated
    os.remove(osp.join(dataset_dir, MANIFEST_NAME))
    assert ensure_synthetic('RGBNT201', root, **RGBNT201_TINY)['generated']
    assert read_manifest(dataset_dir) is not None

    # different parameters -> regenerated, stale files gone
    params = dict(RGBNT201_TINY, num_test_ids=3)
    assert ensure_synthetic('RGBNT201', root, **params)['generated']
    assert len(os.listdir(osp.join(dataset_dir, 'test', 'TI'))) == 3 * 2 * 2

    # a file deleted behind the manifest's back -> regenerated
    os.remove(probe)
    assert ensure_synthetic('RGBNT201', root, **params)['generated']
    assert osp.isfile(probe)

    # an older generator version -> regenerated
    with open(osp.join(dataset_dir, MANIFEST_NAME)) as f:
        manifest = json.load(f)
    manifest['generator_version'] = '1.0'
    with open(osp.join(dataset_dir, MANIFEST_NAME), 'w') as f:
        json.dump(manifest, f)
    assert ensure_synthetic('RGBNT201', root, **params)['generated']


def test_interrupted_generation_is_redone(tmp_path, monkeypatch):
    root = str(tmp_path)
    calls = {'n': 0}
    real_save = SyntheticLayout.save_image

    def failing_save(self, path, image):
        calls['n'] += 1
        if calls['n'] > 5:
            raise KeyboardInterrupt('simulated interruption')
        real_save(self, path, image)

    monkeypatch.setattr(SyntheticLayout, 'save_image', failing_save)
    with pytest.raises(KeyboardInterrupt):
        make_synthetic('RGBNT201', root, **RGBNT201_TINY)
    dataset_dir = osp.join(root, 'RGBNT201')
    assert not osp.exists(osp.join(dataset_dir, MANIFEST_NAME))
    assert osp.exists(osp.join(dataset_dir, INCOMPLETE_MARKER))
    monkeypatch.setattr(SyntheticLayout, 'save_image', real_save)
    stats = ensure_synthetic('RGBNT201', root, **RGBNT201_TINY)
    assert stats['generated']
    assert not osp.exists(osp.join(dataset_dir, INCOMPLETE_MARKER))
    assert len(os.listdir(osp.join(dataset_dir, 'train_171', 'RGB'))) == 8


def test_refuses_foreign_folder_and_bad_arguments(tmp_path):
    dataset_dir = tmp_path / 'RGBNT201'
    dataset_dir.mkdir()
    (dataset_dir / 'something.txt').write_text('real data')
    with pytest.raises(RuntimeError, match='left untouched'):
        ensure_synthetic('RGBNT201', str(tmp_path), **RGBNT201_TINY)
    assert (dataset_dir / 'something.txt').exists()
    assert os.listdir(dataset_dir) == ['something.txt']
    x = str(tmp_path / 'x')
    with pytest.raises(ValueError, match='at most 30'):
        make_synthetic('RGBNT201', x, images_per_camera=31)
    with pytest.raises(ValueError, match='seed'):
        make_synthetic('RGBNT201', x, seed=-1)
    with pytest.raises(ValueError, match='img_size'):
        make_synthetic('RGBNT201', x, img_size=(256, ))
    with pytest.raises(ValueError, match='scenes_per_id'):
        make_synthetic('MSVR310', x, scenes_per_id=1)
    with pytest.raises(ValueError, match='cameras_per_id'):
        make_synthetic('RGBNT100', x, cameras_per_id=9)
    with pytest.raises(KeyError, match='RGBNT201'):
        make_synthetic('RGBNT999', x)
    with pytest.raises(TypeError, match='num_query_ids'):
        make_synthetic('RGBNT201', x, num_query_ids=2)
    assert not osp.exists(x)


def test_plan_errors_name_the_layout():
    layout = build_layout('RGBNT201', **TINY['RGBNT201'])
    spec = FrameSpec('test', 'test', 3, 1, 0)
    with pytest.raises(ValueError, match="RGBNT201: plan.. wrote to 'tests'"):
        _check_plan(layout, [FrameSpec('tests', 'test', 3, 1, 0)])
    with pytest.raises(ValueError, match='two samples write'):
        _check_plan(layout, [spec, spec])
    copy = FrameSpec('test', 'query', 3, 1, 1, source=spec)
    with pytest.raises(ValueError, match='comes before'):
        _check_plan(layout, [copy, spec])


class ToyVisibleInfrared(SyntheticLayout):
    """A video visible-infrared layout written against the interface only:
    ``toy/<split>/<pid>/<rgb|ir>/D<cam>/T<track>_F<frame>.jpg``; cameras 1-2
    see visible light, cameras 3-4 infrared (NIR images under the layout's
    modality name ``ir``); ``info/tracks.txt`` lists every tracklet."""
    name = 'ToyVI'
    dataset_folder = 'ToyVI'
    subject = 'person'
    stream_id = 990
    default_img_size = (64, 32)
    modalities = ('rgb', 'ir')
    rendered = {'ir': 'nir'}
    split_folders = ('train', 'test')
    modality_dirs = {'rgb': 'rgb', 'ir': 'ir'}
    path_template = '{folder}/{pid:04d}/{modality_dir}/D{cam}/{name}'
    index_files = ('info/tracks.txt', )

    def __init__(self, num_ids: int = 2, frames: int = 3) -> None:
        self._set_params(
            num_ids=check_int('num_ids', num_ids, 1, 99),
            frames=check_int('frames', frames, 1, 99))

    def plan(self, seed):
        return [
            FrameSpec(
                split,
                'train' if split == 'train' else 'test',
                pid,
                cam,
                frame,
                track=track) for split, first in (('train', 1), ('test', 50))
            for pid in range(first, first + self.num_ids) for cam in (1, 3)
            for track in (1, 2) for frame in range(self.frames)
        ]

    def file_name(self, spec):
        return f'T{spec.track}_F{spec.index:03d}.jpg'

    def rel_paths(self, spec):
        paths = super().rel_paths(spec)
        return {
            'ir' if spec.cam >= 3 else 'rgb':
            paths['ir' if spec.cam >= 3 else 'rgb']
        }

    def write_index(self, dataset_dir, specs):
        tracks = sorted({(s.folder, s.pid, s.cam, s.track) for s in specs})
        os.makedirs(osp.join(dataset_dir, 'info'), exist_ok=True)
        with open(osp.join(dataset_dir, 'info', 'tracks.txt'), 'w') as f:
            f.writelines(' '.join(map(str, t)) + '\n' for t in tracks)


def test_a_visible_infrared_video_layout_needs_only_the_interface(tmp_path):
    register_layout(ToyVisibleInfrared)
    try:
        stats = make_synthetic('ToyVI', str(tmp_path), num_ids=2, frames=3)
        again = ensure_synthetic('ToyVI', str(tmp_path), num_ids=2, frames=3)
        assert not again['generated']
        os.remove(osp.join(stats['dataset_dir'], 'info', 'tracks.txt'))
        assert ensure_synthetic(
            'ToyVI', str(tmp_path), num_ids=2, frames=3)['generated']
    finally:
        del SYNTHETIC_LAYOUTS['ToyVI']
    dataset_dir = stats['dataset_dir']
    assert stats['splits']['train']['tracks'] == 2 * 2 * 2
    assert stats['splits']['train']['samples'] == 2 * 2 * 2 * 3
    assert stats['splits']['train']['images'] == 2 * 2 * 2 * 3
    with open(osp.join(dataset_dir, 'info', 'tracks.txt')) as f:
        assert len(f.read().splitlines()) == 2 * 8
    assert osp.isfile(osp.join(dataset_dir, 'train/0001/rgb/D1/T2_F002.jpg'))
    assert osp.isfile(osp.join(dataset_dir, 'test/0050/ir/D3/T1_F000.jpg'))
    assert not osp.exists(osp.join(dataset_dir, 'train/0001/ir/D1'))
    captions = load_caption_file(
        osp.join(dataset_dir, 'captions', 'test.json'))['captions']
    ir_entry = captions['test/0050/ir/D3/T1_F000.jpg']
    rgb_entry = captions['test/0050/rgb/D1/T1_F000.jpg']
    assert list(ir_entry) == ['ir'] and list(rgb_entry) == ['rgb']
    # the infrared caption is the NIR one: no colour words
    assert not set(ir_entry['ir']['text'].lower().replace(
        '.', '').split()) & set(COLOUR_WORDS)
    assert ir_entry['ir']['attributes']['upper_colour']['value'] == 'unknown'
    assert rgb_entry['rgb']['attributes']['upper_colour']['value'] in (
        COLOUR_WORDS)
