# Copyright (c) mmreid_text contributors. All rights reserved.
"""Rendering of aligned RGB / NIR / TIR images of a synthetic person.

A frame is drawn once as a material map (:mod:`.shape`); the three
modalities are derived from it with per-material look-up tables:

* RGB: material colour, fabric texture, body shading, camera background,
  illumination gain and colour cast, noise.
* NIR: grey; brightness follows each material's NIR reflectance (not its
  visible luminance), patterns stay visible, the person is lit by the
  camera's active IR lamp and the background is darker.
* TIR: grey; brightness follows temperature (skin hottest, clothing warm by
  thickness, bags and background cold), blurred, no patterns, no colours.
"""
from typing import Dict, Tuple

import numpy as np

from ..imaging import gaussian_blur, grey3, smooth121, to_uint8
from ..scene import CameraScene, window
from .attributes import LOWER_WARMTH, UPPER_WARMTH, PersonAttributes
from .pose import Pose
from .shape import (ACCENT, BAG, FACE, GLASSES, HAIR, HAT, LOWER,
                    NUM_MATERIALS, SHOES, SKIN, UPPER, draw_material_map)


def material_tables(
        identity: PersonAttributes
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-material RGB ``[K, 3]`` (0..255), NIR ``[K]`` and TIR ``[K]``."""
    rgb = np.zeros((NUM_MATERIALS, 3), np.float32)
    nir = np.zeros(NUM_MATERIALS, np.float32)
    heat = identity.body_heat
    tir = np.zeros(NUM_MATERIALS, np.float32)

    def put(material, colour, temperature):
        if colour is not None:
            rgb[material] = colour.rgb
            nir[material] = colour.nir
        tir[material] = temperature

    put(SKIN, identity.skin, 0.93 + heat)
    put(HAIR, identity.hair_colour, 0.64 + heat)
    upper_temp = UPPER_WARMTH[identity.upper_type] + heat
    put(UPPER, identity.upper_colour, upper_temp)
    put(ACCENT, identity.upper_accent_colour or identity.upper_colour,
        upper_temp)
    put(LOWER, identity.lower_colour, LOWER_WARMTH[identity.lower_type] + heat)
    put(SHOES, identity.shoes_colour, 0.44)
    put(BAG, identity.carried_item_colour, 0.22)
    put(HAT, identity.hat_colour, 0.52)
    rgb[GLASSES], nir[GLASSES], tir[GLASSES] = (30, 30, 34), 0.12, 0.3
    rgb[FACE], nir[FACE], tir[FACE] = (60, 40, 38), 0.3, 0.96
    return rgb, nir, np.clip(tir, 0, 1)


def render_person(identity: PersonAttributes, scene: CameraScene, pose: Pose,
                  img_size: Tuple[int, int],
                  rng: np.random.Generator) -> Dict[str, np.ndarray]:
    """Render one aligned frame in the three modalities.

    Args:
        identity: Who is shown.
        scene: The camera (background, illumination).
        pose: Placement, view and gait of the person.
        img_size: ``(H, W)``.
        rng: Generator for texture and sensor noise of this frame.

    Returns:
        dict: ``{'rgb', 'nir', 'tir'}`` -> ``[H, W, 3]`` uint8 arrays (NIR and
        TIR have three equal channels) and ``'labels'`` -> ``[H, W]`` uint8.
    """
    h, w = img_size
    labels = draw_material_map(identity, pose, img_size)
    person = labels > 0
    mat_rgb, mat_nir, mat_tir = material_tables(identity)
    crop = window(pose.bg_offset, img_size)

    xs = np.arange(w, dtype=np.float32)
    across = (xs - pose.centre_x) / (0.13 * pose.height)
    shade_row = (1 - 0.3 * np.clip(np.abs(across), 0, 1.4)**2 +
                 scene.key_light * np.clip(across, -1, 1))
    shade = np.broadcast_to(shade_row[None], (h, w))
    fabric = 1 + rng.normal(0, 0.045, (h, w)).astype(np.float32)
    fabric[labels == SKIN] = 1.0
    surface = np.where(person, shade * fabric, 1.0).astype(np.float32)

    # ground shadow below the feet (visible light only)
    ys = np.arange(h, dtype=np.float32)[:, None]
    shadow = np.exp(-(((xs[None] - pose.centre_x) / (0.11 * pose.height))**2 +
                      ((ys - pose.foot_y) / (0.02 * pose.height))**2))
    shadow = 1 - 0.45 * shadow

    # RGB
    rgb = scene.rgb_background[crop] * shadow[..., None]
    rgb = np.where(person[..., None], mat_rgb[labels] * surface[..., None],
                   rgb)
    cast = np.asarray(scene.colour_cast, np.float32)
    rgb_gain = scene.rgb_gain * pose.gain * (0.4 if pose.low_light else 1.0)
    rgb = smooth121(rgb * rgb_gain * cast)
    rgb = rgb + rng.normal(0, 6.0 if pose.low_light else 3.0, rgb.shape)

    # NIR: active IR lamp lights the person, background is dim
    nir = np.where(person, mat_nir[labels] * surface * scene.nir_gain,
                   scene.nir_background[crop])
    nir = smooth121(nir * pose.gain * 255) + rng.normal(0, 4.0, (h, w))

    # TIR: temperature, blurred by the thermal optics, no texture
    temp = np.where(person, mat_tir[labels] * (0.94 + 0.06 * shade),
                    scene.tir_background[crop])
    temp = scene.tir_offset + scene.tir_contrast * temp
    tir = gaussian_blur(temp * 255, max(1.0, h / 96))
    tir = tir + rng.normal(0, 2.0, (h, w))

    return {
        'rgb': to_uint8(rgb),
        'nir': grey3(nir),
        'tir': grey3(tir),
        'labels': labels,
    }
