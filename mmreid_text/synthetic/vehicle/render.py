# Copyright (c) mmreid_text contributors. All rights reserved.
"""Rendering of aligned RGB / NIR / TIR vehicle crops.

A frame draws the vehicle's material map (:mod:`.shape`) on top of a camera
background (:mod:`..scene`), then derives the modalities with per-material
tables, like the person renderer:

* RGB: paint colour, shading, illumination, noise; at night the visible
  image is dark and lit headlamps flare.
* NIR: grey; paint follows its NIR reflectance (not its luminance), the
  licence plate and lamps are retro-reflective and bright.
* TIR: grey; temperature: a running engine heats grille and bonnet, tyres
  are warm, windows reflect the cold sky; blurred, no paint colours.
"""
from typing import Dict, Tuple

import numpy as np

from ..imaging import gaussian_blur, grey3, to_uint8
from ..scene import CameraScene, window
from .attributes import VehicleAttributes
from .pose import VehiclePose
from .shape import (NUM_VEHICLE_MATERIALS, V_BODY, V_GRILLE, V_LAMP, V_PLATE,
                    V_RACK, V_RIM, V_STRIPE, V_TAIL, V_TRIM, V_TYRE, V_WINDOW,
                    draw_vehicle_material_map)


def vehicle_material_tables(
        car: VehicleAttributes,
        view: str) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-material RGB ``[K, 3]`` (0..255), NIR ``[K]``, TIR ``[K]``."""
    rgb = np.zeros((NUM_VEHICLE_MATERIALS, 3), np.float32)
    nir = np.zeros(NUM_VEHICLE_MATERIALS, np.float32)
    tir = np.zeros(NUM_VEHICLE_MATERIALS, np.float32)
    heat = car.engine_heat
    table = {
        V_BODY: (car.paint.rgb, car.paint.nir, 0.46 + 0.08 * heat),
        V_WINDOW: ((38, 46, 58), 0.1, 0.22),
        V_TYRE: ((24, 24, 26), 0.06, 0.55 + 0.2 * heat),
        V_RIM: ((160, 160, 166), 0.6, 0.5),
        V_LAMP: ((236, 236, 222), 0.95, 0.5 + 0.15 * heat),
        V_TAIL: ((186, 24, 30), 0.72, 0.48),
        V_GRILLE: ((34, 34, 38), 0.16, 0.55 + 0.4 * heat),
        V_TRIM: ((44, 44, 48), 0.2, 0.45),
        V_PLATE: ((224, 224, 212), 0.97, 0.4),
        V_RACK: ((70, 70, 76), 0.3, 0.3),
    }
    accent = car.accent or car.paint
    table[V_STRIPE] = (accent.rgb, accent.nir, table[V_BODY][2])
    if view == 'front':  # the warm bonnet faces the camera
        table[V_BODY] = (car.paint.rgb, car.paint.nir, 0.5 + 0.2 * heat)
    for material, (colour, reflectance, temperature) in table.items():
        rgb[material] = colour
        nir[material] = reflectance
        tir[material] = temperature
    return rgb, nir, np.clip(tir, 0, 1)


def render_vehicle(car: VehicleAttributes, scene: CameraScene,
                   pose: VehiclePose, img_size: Tuple[int, int],
                   rng: np.random.Generator) -> Dict[str, np.ndarray]:
    """Render one aligned frame of a vehicle in the three modalities.

    Args:
        car: Which vehicle.
        scene: The camera (background and illumination), from
            :func:`make_camera_scene` with the same ``img_size``.
        pose: View and placement.
        img_size: ``(H, W)``.
        rng: Generator for the noise of this frame.

    Returns:
        dict: ``{'rgb', 'nir', 'tir'}`` -> ``[H, W, 3]`` uint8 (NIR and TIR
        with three equal channels) and ``'labels'`` -> ``[H, W]`` uint8.
    """
    h, w = img_size
    labels = draw_vehicle_material_map(car, pose, img_size)
    body = labels > 0
    mat_rgb, mat_nir, mat_tir = vehicle_material_tables(car, pose.view)
    crop = window(pose.bg_offset, img_size)
    ys = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    xs = np.linspace(-1, 1, w, dtype=np.float32)[None]
    # sky light from above, key light from one side
    shade = (1.08 - 0.25 * ys) * (1 + scene.key_light * xs)

    rgb = np.where(body[..., None], mat_rgb[labels] * shade[..., None],
                   scene.rgb_background[crop])
    gain = scene.rgb_gain * pose.gain * (0.3 if pose.night else 1.0)
    rgb = rgb * gain * np.asarray(scene.colour_cast, np.float32)
    if pose.night:  # lit lamps flare in the visible image
        lamps = np.isin(labels, (V_LAMP, V_TAIL)).astype(np.float32) * 255
        glow = gaussian_blur(lamps, max(2.0, h / 12))
        glow = np.maximum(glow, gaussian_blur(lamps, max(1.0, h / 40)))
        tint = np.asarray([1.0, 0.95, 0.85], np.float32)
        rgb = rgb + 2.5 * glow[..., None] * tint
    rgb = np.stack([gaussian_blur(rgb[..., c], 0.6) for c in range(3)],
                   axis=-1)
    rgb = rgb + rng.normal(0, 6.0 if pose.night else 3.0, rgb.shape)

    nir = np.where(body, mat_nir[labels] * shade * scene.nir_gain,
                   scene.nir_background[crop]) * pose.gain * 255
    nir = gaussian_blur(nir, 0.6) + rng.normal(0, 4.0, (h, w))

    temp = np.where(body, mat_tir[labels], scene.tir_background[crop])
    temp = scene.tir_offset + scene.tir_contrast * temp
    tir = gaussian_blur(temp * 255, max(1.0, h / 96)) + rng.normal(
        0, 2.0, (h, w))

    return {
        'rgb': to_uint8(rgb),
        'nir': grey3(nir),
        'tir': grey3(tir),
        'labels': labels,
    }
