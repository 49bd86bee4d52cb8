# Copyright (c) mmreid_text contributors. All rights reserved.
"""Person rendering: what each modality shows."""
from collections import defaultdict

import numpy as np

import mmreid_text.synthetic.person.shape as shape
from mmreid_text.synthetic.person import (material_tables, render_person,
                                          sample_person, sample_pose,
                                          sample_track)
from mmreid_text.synthetic.scene import make_camera_scene


def _render_frames(num_frames):
    """Yield (identity, rendered frame) for varied ids, cams and poses."""
    img_size = (256, 128)
    scenes = {
        cam: make_camera_scene(cam, img_size, np.random.default_rng(cam))
        for cam in (1, 2)
    }
    for index in range(num_frames):
        rng = np.random.default_rng([7, index])
        identity = sample_person(index, rng)
        scene = scenes[index % 2 + 1]
        track = sample_track(img_size, rng)
        pose = sample_pose(identity, scene, track, index % 30, img_size, rng)
        yield identity, render_person(identity, scene, pose, img_size, rng)


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
        for material, name in ((shape.SKIN, 'skin'), (shape.UPPER, 'upper'),
                               (shape.BAG, 'bag'), (shape.BG, 'bg')):
            mask = interior == material
            if mask.sum() > 10:
                stats[name].append(tir[mask].mean())
        # stripes are a few pixels wide: compare whole stripe areas
        upper = labels == shape.UPPER
        accent = labels == shape.ACCENT
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
    _, nir_table, tir_table = material_tables(identity)
    assert tir_table[shape.UPPER] == tir_table[shape.ACCENT]
    assert abs(nir_table[shape.UPPER] - nir_table[shape.ACCENT]) >= 0.15
