# Copyright (c) mmreid_text contributors. All rights reserved.
"""Vehicle rendering: what each modality shows, and its captions."""
import dataclasses

import numpy as np

from mmreid_text.synthetic import COLOUR_WORDS
from mmreid_text.synthetic.scene import make_camera_scene
from mmreid_text.synthetic.vehicle import (render_vehicle, sample_vehicle,
                                           sample_vehicle_pose,
                                           vehicle_caption_entry)
from mmreid_text.synthetic.vehicle.shape import V_GRILLE, V_PLATE, V_WINDOW

SIZE = (64, 128)


def _front_frame(car, night=False, seed=0):
    scene = make_camera_scene(1, SIZE, np.random.default_rng(seed))
    rng = np.random.default_rng([seed, 1])
    pose = sample_vehicle_pose(scene, SIZE, rng, view='front', night=night)
    return pose, render_vehicle(car, scene, pose, SIZE, rng)


def _mean(image, labels, material):
    return image[..., 0][labels == material].astype(np.float32).mean()


def test_plate_bright_in_nir_engine_heat_in_tir_night_dark_in_rgb():
    car = sample_vehicle(1, np.random.default_rng(3))
    _, frame = _front_frame(car)
    labels = frame['labels']
    assert (labels == V_PLATE).sum() > 10
    # retro-reflective plate vs dark glass in NIR
    assert _mean(frame['nir'], labels,
                 V_PLATE) > _mean(frame['nir'], labels, V_WINDOW) + 80
    hot = _front_frame(dataclasses.replace(car, engine_heat=1.0))[1]
    cold = _front_frame(dataclasses.replace(car, engine_heat=0.0))[1]
    assert _mean(hot['tir'], labels,
                 V_GRILLE) > _mean(cold['tir'], labels, V_GRILLE) + 40
    night = _front_frame(car, night=True)[1]
    body = labels > 0
    # the scene above the vehicle is dark in visible light (lamps flare)
    assert night['rgb'][:4].mean() < 0.5 * frame['rgb'][:4].mean()
    # NIR has its own lamp: hardly affected by the night
    assert abs(night['nir'][body].mean() - frame['nir'][body].mean()) < 10


def test_captions_hide_colours_outside_rgb():
    car = sample_vehicle(2, np.random.default_rng(5))
    pose, _ = _front_frame(car)
    entries = {
        m: vehicle_caption_entry(car, pose, m)
        for m in ('rgb', 'nir', 'tir')
    }
    assert car.paint.name in entries['rgb']['text']
    assert entries['rgb']['attributes']['colour']['value'] == car.paint.name
    for mod in ('nir', 'tir'):
        words = set(entries[mod]['text'].lower().replace('.', '').split())
        assert not words & set(COLOUR_WORDS)
        assert entries[mod]['attributes']['colour']['value'] == 'unknown'
    engine = entries['tir']['attributes']['engine']['value']
    assert engine == ('warm' if car.engine_heat >= 0.5 else 'cold')
