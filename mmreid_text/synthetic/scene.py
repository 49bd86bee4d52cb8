# Copyright (c) mmreid_text contributors. All rights reserved.
"""Camera scenes: what stays the same for one camera.

A scene holds wide RGB / NIR / TIR background canvases (a wall and a floor
with textures such as bricks, windows, foliage, tiles or asphalt, plus
poles, bins, benches and boxes) and the camera's optics and illumination.
Every frame crops an ``[H, W]`` window of the canvases; persons and
vehicles are drawn on top (:mod:`.person`, :mod:`.vehicle`).
"""
from dataclasses import dataclass
from typing import Dict, Tuple

import numpy as np
from PIL import Image, ImageDraw

from .imaging import gaussian_blur, grey3, to_uint8


@dataclass(frozen=True)
class CameraScene:
    """Everything that is fixed for one camera.

    Background canvases are larger than a frame (``[Hc, Wc]`` with
    ``Hc = 4H/3``, ``Wc = 4W``); every frame crops an ``[H, W]`` window at
    ``Pose.bg_offset``, so backgrounds of one camera vary like crops taken
    at different places of a wide view.

    Attributes:
        cam: Camera number (1-based, as in file names).
        rgb_background: ``[Hc, Wc, 3]`` float32, 0..255.
        nir_background: ``[Hc, Wc]`` float32, 0..1 (already attenuated: the
            active IR lamp lights the distant background weakly).
        tir_background: ``[Hc, Wc]`` float32, 0..1 (cold).
        person_height: Nominal person height as a fraction of the image
            height (camera distance / detector crop margin).
        rgb_gain: Illumination gain.
        colour_cast: Per-channel multiplier ``(r, g, b)``.
        nir_gain: Active IR lamp strength on the person.
        tir_contrast: Gain of the thermal camera's automatic contrast.
        tir_offset: Offset of the thermal camera's automatic contrast.
        key_light: Left/right shading slope of the person (-0.15..0.15).
    """
    cam: int
    rgb_background: np.ndarray
    nir_background: np.ndarray
    tir_background: np.ndarray
    person_height: float
    rgb_gain: float
    colour_cast: Tuple[float, float, float]
    nir_gain: float
    tir_contrast: float
    tir_offset: float
    key_light: float


def _smooth_noise(rng: np.random.Generator, shape: Tuple[int, int],
                  cell: int) -> np.ndarray:
    """Band-limited noise in -1..1 of ``shape`` with blobs of ``cell`` px."""
    h, w = shape
    small = rng.uniform(-1, 1, (max(2, h // cell + 2), max(2, w // cell + 2)))
    img = Image.fromarray(((small + 1) * 127.5).astype(np.uint8))
    img = img.resize((w, h), Image.BICUBIC)
    return np.asarray(img, dtype=np.float32) / 127.5 - 1.0


def _grid_lines(shape: Tuple[int, int],
                step_y: int,
                step_x: int,
                stagger: bool = False) -> np.ndarray:
    """1 on grid lines (mortar / tile joints), 0 elsewhere."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w]
    row = ys // step_y
    shift = (row % 2) * (step_x // 2) if stagger else 0
    lines = (ys % step_y == 0) | ((xs + shift) % step_x == 0)
    return lines.astype(np.float32)


# kind: (base rgb, nir reflectance, temperature)
_WALL_KINDS = {
    'bricks': ((150, 82, 62), 0.56, 0.32),
    'concrete': ((150, 150, 144), 0.46, 0.30),
    'windows': ((72, 86, 102), 0.22, 0.18),
    'foliage': ((62, 112, 52), 0.86, 0.20),
    'shopfront': ((170, 150, 120), 0.50, 0.30),
}
_FLOOR_KINDS = {
    'asphalt': ((72, 72, 76), 0.30, 0.40),
    'paving': ((172, 162, 142), 0.60, 0.36),
    'grass': ((72, 122, 52), 0.80, 0.26),
    'tiles': ((200, 198, 192), 0.70, 0.30),
}


def _surface(kind: str, table: dict, rng: np.random.Generator,
             shape: Tuple[int, int]):
    """RGB [h,w,3], NIR [h,w] and TIR [h,w] of one textured surface."""
    h, w = shape
    base_rgb, nir, temp = table[kind]
    base = np.clip(np.asarray(base_rgb) + rng.normal(0, 14, 3), 10, 245)
    rgb = np.broadcast_to(base, (h, w, 3)).astype(np.float32).copy()
    nir_map = np.full((h, w), nir + rng.normal(0, 0.05), np.float32)
    tir_map = np.full((h, w), temp + rng.normal(0, 0.03), np.float32)
    blobs = _smooth_noise(rng, shape, max(4, w // 12))
    if kind in ('bricks', 'paving', 'tiles'):
        step_y = max(3, int(h * rng.uniform(0.03, 0.06)))
        step_x = max(4, int(step_y * rng.uniform(1.5, 2.5)))
        if kind == 'tiles':
            step_x = step_y = max(step_x, 6)
        joints = _grid_lines(shape, step_y, step_x, stagger=kind != 'tiles')
        rgb *= (1 - 0.25 * joints)[..., None]
        nir_map *= 1 - 0.15 * joints
        rgb *= (1 + 0.08 * blobs)[..., None]
    elif kind == 'windows':
        step_y = max(6, int(h * rng.uniform(0.12, 0.2)))
        step_x = max(6, int(w * rng.uniform(0.15, 0.25)))
        frames = _grid_lines(shape, step_y, step_x)
        frames = np.maximum(frames, np.roll(frames, 1, axis=0))
        frames = np.maximum(frames, np.roll(frames, 1, axis=1))
        rgb = rgb * (1 - frames[..., None]) + frames[..., None] * 190
        nir_map = nir_map * (1 - frames) + frames * 0.5
        rgb *= (1 + 0.25 * blobs)[..., None]
    elif kind == 'foliage':
        fine = _smooth_noise(rng, shape, 3)
        rgb *= (1 + 0.35 * blobs + 0.2 * fine)[..., None]
        nir_map *= 1 + 0.15 * fine
        tir_map += 0.03 * blobs
    elif kind == 'shopfront':
        panel = max(6, int(w * rng.uniform(0.12, 0.2)))
        num_panels = w // panel + 1
        panel_rgb = rng.uniform(40, 230, (num_panels, 3))
        panel_nir = rng.uniform(0.2, 0.8, num_panels)
        index = np.arange(w) // panel
        rgb[:] = panel_rgb[index][None]
        nir_map[:] = panel_nir[index][None]
        rgb *= (1 + 0.1 * blobs)[..., None]
    else:  # concrete, asphalt, grass
        fine = _smooth_noise(rng, shape, 2)
        rgb *= (1 + 0.12 * blobs + 0.08 * fine)[..., None]
        nir_map *= 1 + 0.08 * blobs
    return rgb, nir_map, tir_map


# clutter kind: (probability, width range, height range), sizes relative to
# the background canvas
_CLUTTER_KINDS = {
    'pole': (0.4, (0.01, 0.03), (0.4, 0.7)),
    'bin': (0.25, (0.03, 0.06), (0.08, 0.15)),
    'bench': (0.2, (0.1, 0.2), (0.06, 0.1)),
    'box': (0.15, (0.04, 0.1), (0.05, 0.2)),
}


def _add_clutter(rgb: np.ndarray, nir: np.ndarray, tir: np.ndarray,
                 horizon: int, rng: np.random.Generator) -> None:
    """Static objects standing on the floor (poles, bins, benches, boxes),
    drawn in place into the three background canvases."""
    hc, wc = nir.shape
    ids = Image.new('L', (wc, hc), 0)
    draw = ImageDraw.Draw(ids)
    num_objects = int(rng.integers(4, 9))
    kinds = sorted(_CLUTTER_KINDS)
    probs = [_CLUTTER_KINDS[k][0] for k in kinds]
    values = [(None, None, None)]
    for index in range(1, num_objects + 1):
        kind = kinds[int(rng.choice(len(kinds), p=probs))]
        _, width_range, height_range = _CLUTTER_KINDS[kind]
        x = rng.uniform(0, wc)
        base = horizon + rng.uniform(0.02, 0.25) * hc
        width = rng.uniform(*width_range) * wc
        height = rng.uniform(*height_range) * hc
        draw.rectangle([x, base - height, x + width, base], fill=index)
        colour = rng.uniform(30, 220, 3)
        reflectance = rng.uniform(0.15, 0.8)
        temperature = rng.uniform(0.15, 0.5)
        values.append((colour, reflectance, temperature))
    labels = np.asarray(ids)
    # objects are lit from above: darker towards their base
    for index in range(1, num_objects + 1):
        mask = labels == index
        if not mask.any():
            continue
        ys = np.nonzero(mask.any(axis=1))[0]
        top, bottom = ys[0], ys[-1] + 1
        shade = np.linspace(1.1, 0.7, bottom - top, dtype=np.float32)
        shade_map = np.zeros(hc, np.float32)
        shade_map[top:bottom] = shade
        colour, reflectance, temperature = values[index]
        shade_rows = np.broadcast_to(shade_map[:, None], (hc, wc))
        rgb[mask] = (
            np.asarray(colour, np.float32)[None] * shade_rows[mask][:, None])
        nir[mask] = reflectance
        tir[mask] = temperature


def make_camera_scene(cam: int, img_size: Tuple[int, int],
                      rng: np.random.Generator) -> CameraScene:
    """Draw the background, optics and illumination of camera ``cam``.

    Args:
        cam: Camera number.
        img_size: ``(H, W)`` of the frames.
        rng: Generator dedicated to this camera.
    """
    h, w = img_size
    canvas_h, canvas_w = h + h // 3, 4 * w
    horizon = int(canvas_h * rng.uniform(0.42, 0.62))
    wall_kind = str(rng.choice(sorted(_WALL_KINDS)))
    floor_kind = str(rng.choice(sorted(_FLOOR_KINDS)))
    wall = _surface(wall_kind, _WALL_KINDS, rng, (horizon, canvas_w))
    floor = _surface(floor_kind, _FLOOR_KINDS, rng,
                     (canvas_h - horizon, canvas_w))
    rgb = np.concatenate([wall[0], floor[0]], axis=0)
    nir = np.concatenate([wall[1], floor[1]], axis=0)
    tir = np.concatenate([wall[2], floor[2]], axis=0)
    _add_clutter(rgb, nir, tir, horizon, rng)
    # urban scenes are muted: pull colours towards grey
    luminance = rgb @ np.asarray([0.299, 0.587, 0.114], np.float32)
    saturation = rng.uniform(0.3, 0.55)
    rgb = luminance[..., None] + saturation * (rgb - luminance[..., None])
    # light falls off with distance: upper (farther) rows darker
    ramp = np.linspace(0.8, 1.05, canvas_h, dtype=np.float32)[:, None]
    rgb = np.clip(rgb * ramp[..., None], 0, 255)
    nir_attenuation = rng.uniform(0.35, 0.6)
    nir = np.clip(
        nir * nir_attenuation * np.linspace(0.6, 1.0, canvas_h)[:, None], 0, 1)
    # cooler than skin and clothes; ground a bit warmer than far walls
    tir = 0.8 * tir + 0.04 * np.linspace(-1, 1, canvas_h)[:, None]
    tir = gaussian_blur(tir * 255, max(1.0, h / 64)) / 255
    return CameraScene(
        cam=int(cam),
        rgb_background=rgb.astype(np.float32),
        nir_background=nir.astype(np.float32),
        tir_background=tir.astype(np.float32),
        person_height=float(rng.uniform(0.8, 0.92)),
        rgb_gain=float(rng.uniform(0.75, 1.15)),
        colour_cast=tuple(
            float(v) for v in np.clip(1 + rng.normal(0, 0.06, 3), 0.85, 1.15)),
        nir_gain=float(rng.uniform(0.85, 1.1)),
        tir_contrast=float(rng.uniform(0.85, 1.1)),
        tir_offset=float(rng.uniform(-0.05, 0.05)),
        key_light=float(rng.uniform(-0.15, 0.15)),
    )


def random_offset(scene: CameraScene, img_size: Tuple[int, int],
                  rng: np.random.Generator) -> Tuple[int, int]:
    """``(row, column)`` of a random ``img_size`` window of the canvases."""
    h, w = img_size
    canvas_h, canvas_w = scene.nir_background.shape
    return (int(rng.integers(0, canvas_h - h + 1)),
            int(rng.integers(0, canvas_w - w + 1)))


def window(offset: Tuple[int, int],
           img_size: Tuple[int, int]) -> Tuple[slice, slice]:
    """Slices of the ``img_size`` window at ``offset`` of the canvases."""
    (row, col), (h, w) = offset, img_size
    return slice(row, row + h), slice(col, col + w)


def render_background(scene: CameraScene, img_size: Tuple[int, int],
                      rng: np.random.Generator) -> Dict[str, np.ndarray]:
    """A crop of the empty scene (junk images): ``{'rgb', 'nir', 'tir'}`` ->
    ``[H, W, 3]`` uint8, NIR and TIR with three equal channels."""
    crop = window(random_offset(scene, img_size, rng), img_size)
    return {
        'rgb': to_uint8(scene.rgb_background[crop]),
        'nir': grey3(scene.nir_background[crop] * 255),
        'tir': grey3(scene.tir_background[crop] * 255),
    }
