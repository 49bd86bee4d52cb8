# Copyright (c) mmreid_text contributors. All rights reserved.
"""Rendering of aligned RGB / NIR / TIR images of a synthetic person.

A frame is drawn once as a *material map* (one label per pixel: skin, hair,
upper clothing, ...).  The three modalities are then derived from it with
per-material look-up tables:

* RGB: material colour, fabric texture, body shading, camera background,
  illumination gain and colour cast, noise.
* NIR: grey; brightness follows each material's NIR reflectance (not its
  visible luminance), patterns stay visible, the person is lit by the
  camera's active IR lamp and the background is darker.
* TIR: grey; brightness follows temperature (skin hottest, clothing warm by
  thickness, bags and background cold), blurred, no patterns, no colours.
"""
from dataclasses import dataclass
from typing import Dict, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .identity import LOWER_WARMTH, UPPER_WARMTH, IdentityAttributes

# material labels of the material map
BG, SKIN, HAIR, UPPER, ACCENT, LOWER, SHOES, BAG, HAT, GLASSES, FACE = range(
    11)
NUM_MATERIALS = 11

VIEWS = ('front', 'back', 'side')

Point = Tuple[float, float]


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


@dataclass(frozen=True)
class Pose:
    """Placement and posture of the person in one frame (pixels).

    Attributes:
        view: ``'front'``, ``'back'`` or ``'side'``.
        facing: ``1`` walking to the right, ``-1`` to the left (side view).
        centre_x: Horizontal body centre.
        foot_y: Image row of the soles.
        height: Person height.
        stride: Gait phase in -1..1 (leg / arm swing).
        bg_offset: ``(row, column)`` of the background crop.
        gain: Per-frame illumination jitter.
        low_light: Visible light is poor in this frame (dark, noisy RGB;
            NIR with its own lamp and TIR are unaffected).
    """
    view: str
    facing: int
    centre_x: float
    foot_y: float
    height: float
    stride: float
    bg_offset: Tuple[int, int]
    gain: float
    low_light: bool = False


@dataclass(frozen=True)
class Track:
    """What stays the same for one identity under one camera."""
    view: str
    facing: int
    centre_x: float
    drift: float


# ---------------------------------------------------------------- background


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
    tir_img = Image.fromarray(np.clip(tir * 255, 0, 255).astype(np.uint8))
    tir_img = tir_img.filter(ImageFilter.GaussianBlur(max(1.0, h / 64)))
    tir = np.asarray(tir_img, dtype=np.float32) / 255
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


# ---------------------------------------------------------------------- pose


def sample_track(img_size: Tuple[int, int], rng: np.random.Generator) -> Track:
    """Walking direction and place of one identity under one camera."""
    _, w = img_size
    view = VIEWS[int(rng.choice(3, p=[0.4, 0.35, 0.25]))]
    return Track(
        view=view,
        facing=int(rng.choice([-1, 1])),
        centre_x=float(w / 2 + rng.uniform(-0.06, 0.06) * w),
        drift=float(rng.uniform(-0.004, 0.004) * w))


def sample_pose(identity: IdentityAttributes, scene: CameraScene, track: Track,
                frame: int, img_size: Tuple[int, int],
                rng: np.random.Generator) -> Pose:
    """Pose of frame ``frame`` (0..29) of a track; mostly the track's view.
    """
    h, w = img_size
    view = track.view
    if rng.random() < 0.2:
        view = VIEWS[int(rng.integers(3))]
    facing = track.facing if rng.random() < 0.9 else -track.facing
    height = (
        scene.person_height * identity.height_factor * h *
        rng.uniform(0.96, 1.04))
    height = min(height, 0.97 * h)
    foot_y = h * rng.uniform(0.955, 0.99)
    foot_y = max(foot_y, height + 2)
    centre_x = (
        track.centre_x + track.drift * (frame - 15) + rng.normal(0, 0.025 * w))
    centre_x = float(np.clip(centre_x, 0.32 * w, 0.68 * w))
    canvas_h, canvas_w = scene.nir_background.shape
    return Pose(
        view=view,
        facing=facing,
        centre_x=centre_x,
        foot_y=float(foot_y),
        height=float(height),
        stride=float(rng.uniform(-1, 1)),
        bg_offset=(int(rng.integers(0, canvas_h - h + 1)),
                   int(rng.integers(0, canvas_w - w + 1))),
        gain=float(rng.uniform(0.9, 1.1)),
        low_light=bool(rng.random() < 0.12))


# ------------------------------------------------------------- material map


class _Painter:
    """Draws body parts in body units (``u`` across, ``v`` down, both in
    person heights; ``v = 0`` at the top of the head)."""

    def __init__(self, img_size: Tuple[int, int], centre_x: float,
                 foot_y: float, height: float) -> None:
        h, w = img_size
        self.image = Image.new('L', (w, h), BG)
        self.draw = ImageDraw.Draw(self.image)
        self.cx = centre_x
        self.top = foot_y - height
        self.h = height

    def pt(self, u: float, v: float) -> Point:
        return (self.cx + u * self.h, self.top + v * self.h)

    def polygon(self, points, material: int) -> None:
        self.draw.polygon([self.pt(u, v) for u, v in points], fill=material)

    def ellipse(self, u: float, v: float, half_w: float, half_h: float,
                material: int) -> None:
        x0, y0 = self.pt(u - half_w, v - half_h)
        x1, y1 = self.pt(u + half_w, v + half_h)
        self.draw.ellipse(
            [x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)], fill=material)

    def rect(self,
             u0: float,
             v0: float,
             u1: float,
             v1: float,
             material: int,
             radius: float = 0.0) -> None:
        x0, y0 = self.pt(u0, v0)
        x1, y1 = self.pt(u1, v1)
        self.draw.rounded_rectangle(
            [x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)],
            radius=radius * self.h,
            fill=material)

    def limb(self, p0: Point, p1: Point, r0: float, r1: float,
             material: int) -> None:
        """A tapered segment with round ends from ``p0`` to ``p1``."""
        (u0, v0), (u1, v1) = p0, p1
        du, dv = u1 - u0, v1 - v0
        length = max((du * du + dv * dv)**0.5, 1e-6)
        nu, nv = -dv / length, du / length
        self.polygon([(u0 + nu * r0, v0 + nv * r0),
                      (u1 + nu * r1, v1 + nv * r1),
                      (u1 - nu * r1, v1 - nv * r1),
                      (u0 - nu * r0, v0 - nv * r0)], material)
        self.ellipse(u0, v0, r0, r0, material)
        self.ellipse(u1, v1, r1, r1, material)

    def line(self, points, width: float, material: int) -> None:
        self.draw.line([self.pt(u, v) for u, v in points],
                       fill=material,
                       width=max(1, int(round(width * self.h))),
                       joint='curve')


def _lerp(p0: Point, p1: Point, t: float) -> Point:
    return (p0[0] + (p1[0] - p0[0]) * t, p0[1] + (p1[1] - p0[1]) * t)


def _draw_leg(p: _Painter, ident: IdentityAttributes, hip: Point, knee: Point,
              ankle: Point, r: float) -> None:
    """Leg as skin, covered by trousers / shorts as the identity wears."""
    p.limb(hip, knee, r, r * 0.85, SKIN)
    p.limb(knee, ankle, r * 0.85, r * 0.65, SKIN)
    if ident.lower_type == 'trousers':
        p.limb(hip, knee, r * 1.1, r * 0.95, LOWER)
        p.limb(knee, ankle, r * 0.95, r * 0.8, LOWER)
    elif ident.lower_type == 'shorts':
        p.limb(hip, _lerp(hip, knee, 0.75), r * 1.15, r * 1.05, LOWER)


def _draw_arm(p: _Painter, ident: IdentityAttributes, shoulder: Point,
              elbow: Point, wrist: Point, r: float) -> None:
    """Arm as skin, sleeves in the upper garment, hand at the wrist."""
    p.limb(shoulder, elbow, r, r * 0.85, SKIN)
    p.limb(elbow, wrist, r * 0.85, r * 0.7, SKIN)
    hand = (wrist[0], wrist[1] + 0.035)
    p.ellipse(hand[0], hand[1], r * 0.75, 0.03, SKIN)
    if ident.upper_type == 't-shirt':
        p.limb(shoulder, _lerp(shoulder, elbow, 0.55), r * 1.15, r * 1.05,
               UPPER)
    else:
        thick = 1.25 if ident.upper_type in ('jacket', 'coat') else 1.1
        p.limb(shoulder, elbow, r * thick, r * 0.95 * thick, UPPER)
        p.limb(elbow, wrist, r * 0.95 * thick, r * 0.8 * thick, UPPER)


def _draw_head(p: _Painter, ident: IdentityAttributes, view: str) -> None:
    """Neck, head, hair, face details, glasses and cap."""
    side = view == 'side'
    p.rect(-0.022, 0.1, 0.022, 0.17, SKIN)
    head_u = 0.008 if side else 0.0
    p.ellipse(head_u, 0.068, 0.046, 0.064, SKIN)
    long_hair = ident.hair_length == 'long'
    if view == 'front':
        p.ellipse(0, 0.06, 0.051, 0.062, HAIR)
        p.ellipse(0, 0.082, 0.042, 0.052, SKIN)
        if long_hair:
            for sign in (-1, 1):
                p.polygon([(sign * 0.036, 0.05), (sign * 0.054, 0.05),
                           (sign * 0.062, 0.23), (sign * 0.04, 0.23)], HAIR)
        p.ellipse(-0.017, 0.074, 0.007, 0.005, FACE)
        p.ellipse(0.017, 0.074, 0.007, 0.005, FACE)
        p.rect(-0.012, 0.103, 0.012, 0.108, FACE)
        if ident.glasses:
            p.rect(-0.031, 0.066, -0.005, 0.083, GLASSES, 0.004)
            p.rect(0.005, 0.066, 0.031, 0.083, GLASSES, 0.004)
            p.rect(-0.006, 0.07, 0.006, 0.074, GLASSES)
    elif view == 'back':
        p.ellipse(0, 0.058, 0.05, 0.062 if not long_hair else 0.07, HAIR)
        if long_hair:
            p.polygon([(-0.05, 0.06), (0.05, 0.06), (0.058, 0.24),
                       (-0.058, 0.24)], HAIR)
    else:  # side, facing +u
        p.ellipse(0.052, 0.08, 0.01, 0.012, SKIN)  # nose
        p.ellipse(-0.006, 0.058, 0.048, 0.06, HAIR)
        p.ellipse(0.024, 0.084, 0.03, 0.048, SKIN)
        if long_hair:
            p.polygon([(-0.05, 0.06), (-0.012, 0.06), (-0.02, 0.24),
                       (-0.058, 0.24)], HAIR)
        p.ellipse(0.034, 0.073, 0.006, 0.005, FACE)
        if ident.glasses:
            p.rect(0.024, 0.065, 0.048, 0.082, GLASSES, 0.004)
            p.line([(0.025, 0.071), (-0.01, 0.071)], 0.006, GLASSES)
    if ident.hat:
        p.ellipse(head_u, 0.032, 0.052, 0.036, HAT)
        p.rect(-0.052 + head_u, 0.032, 0.052 + head_u, 0.05, HAT)
        if view == 'front':
            p.rect(-0.05, 0.044, 0.05, 0.056, HAT, 0.006)
        elif view == 'side':
            p.rect(0.02, 0.042, 0.09, 0.054, HAT, 0.006)


def _draw_frontal(p: _Painter, ident: IdentityAttributes, pose: Pose) -> None:
    """Front or back view."""
    back = pose.view == 'back'
    wf = ident.width_factor
    man = ident.gender == 'man'
    shoulder = (0.118 if man else 0.102) * wf
    waist = (0.09 if man else 0.078) * wf
    hip = (0.088 if man else 0.1) * wf
    leg_r = 0.036 * wf
    stride = pose.stride
    # legs
    for sign in (-1, 1):
        lift = 0.018 * max(0.0, sign * stride)
        hip_pt = (sign * (hip - leg_r), 0.52)
        ankle = (sign * (hip - leg_r + 0.012), 0.93 - lift)
        knee = _lerp(hip_pt, ankle, 0.5)
        _draw_leg(p, ident, hip_pt, knee, ankle, leg_r)
        p.ellipse(ankle[0], ankle[1] + 0.035, leg_r * 1.1, 0.028, SHOES)
    if ident.lower_type in ('trousers', 'shorts'):
        p.polygon([(-waist, 0.46), (waist, 0.46), (hip, 0.56), (-hip, 0.56)],
                  LOWER)
    else:  # skirt
        p.polygon([(-waist, 0.46), (waist, 0.46), (hip * 1.45, 0.72),
                   (-hip * 1.45, 0.72)], LOWER)
    # torso
    coat = ident.upper_type == 'coat'
    bottom = 0.7 if coat else 0.5
    flare = 1.3 if coat else 1.0
    p.polygon([(-shoulder, 0.165), (shoulder, 0.165), (waist, 0.36),
               (hip * flare, bottom), (-hip * flare, bottom), (-waist, 0.36)],
              UPPER)
    p.ellipse(-shoulder + 0.02, 0.18, 0.03, 0.022, UPPER)
    p.ellipse(shoulder - 0.02, 0.18, 0.03, 0.022, UPPER)
    if ident.upper_pattern == 'logo':
        p.ellipse(0, 0.27, 0.032 * wf, 0.028, ACCENT)
    # arms
    arm_r = 0.026 * wf
    for sign in (-1, 1):
        swing = 0.01 * sign * stride
        sh = (sign * (shoulder - 0.016), 0.185)
        el = (sign * (shoulder + 0.006), 0.33 + swing)
        wr = (sign * (shoulder + 0.0), 0.46 + swing)
        _draw_arm(p, ident, sh, el, wr, arm_r)
    if back and ident.carried_item == 'backpack':
        p.rect(-0.078 * wf, 0.19, 0.078 * wf, 0.43, BAG, 0.02)
        p.rect(-0.06 * wf, 0.33, 0.06 * wf, 0.41, BAG, 0.012)
    _draw_head(p, ident, pose.view)
    if ident.carried_item == 'backpack' and not back:
        for sign in (-1, 1):
            p.line([(sign * (shoulder - 0.035), 0.165),
                    (sign * (shoulder - 0.045), 0.4)], 0.016, BAG)
    elif ident.carried_item == 'shoulder bag':
        # strap across the chest, bag on the hip opposite the strap's shoulder
        sign = -1 if back else 1
        p.line([(-sign * (shoulder - 0.03), 0.17), (sign * (hip + 0.03), 0.5)],
               0.012, BAG)
        inner, outer = sign * (hip - 0.02), sign * (hip + 0.075)
        p.rect(min(inner, outer), 0.47, max(inner, outer), 0.58, BAG, 0.012)
    elif ident.carried_item == 'handbag':
        # held in the same hand as seen from the front or from behind
        u = -shoulder if back else shoulder
        p.rect(u - 0.035, 0.5, u + 0.04, 0.59, BAG, 0.01)
        p.line([(u - 0.02, 0.5), (u, 0.47), (u + 0.025, 0.5)], 0.008, BAG)


def _draw_side(p: _Painter, ident: IdentityAttributes, pose: Pose) -> None:
    """Side view, walking towards ``+u``."""
    wf = ident.width_factor
    man = ident.gender == 'man'
    depth = (0.068 if man else 0.064) * wf
    leg_r = 0.036 * wf
    stride = pose.stride
    if ident.carried_item == 'backpack':
        p.rect(-depth - 0.075, 0.18, -depth + 0.03, 0.43, BAG, 0.02)
    # far leg first, then near leg
    for sign in (-1, 1):
        hip_pt = (0.0, 0.52)
        foot_u = sign * 0.1 * stride
        ankle = (foot_u, 0.93 - 0.012 * abs(stride))
        knee = (foot_u * 0.5 + 0.025 * abs(stride), 0.73)
        _draw_leg(p, ident, hip_pt, knee, ankle, leg_r)
        p.ellipse(ankle[0] + 0.018, ankle[1] + 0.037, 0.05, 0.024, SHOES)
    if ident.lower_type in ('trousers', 'shorts'):
        p.polygon([(-0.06 * wf, 0.46), (0.058 * wf, 0.46), (0.062 * wf, 0.57),
                   (-0.062 * wf, 0.57)], LOWER)
    else:
        p.polygon([(-0.06 * wf, 0.46), (0.058 * wf, 0.46), (0.11, 0.72),
                   (-0.1, 0.72)], LOWER)
    coat = ident.upper_type == 'coat'
    bottom = 0.7 if coat else 0.5
    chest = depth * (1.08 if not man else 1.0)
    p.polygon([(-depth + 0.008, 0.165), (depth - 0.012, 0.165), (chest, 0.26),
               (depth - 0.008, 0.4),
               (0.064 * wf * (1.3 if coat else 1.0), bottom),
               (-0.064 * wf * (1.3 if coat else 1.0), bottom),
               (-depth + 0.004, 0.35)], UPPER)
    if ident.upper_pattern == 'logo':
        p.ellipse(depth * 0.55, 0.27, 0.02, 0.026, ACCENT)
    arm_r = 0.026 * wf
    swing = -stride
    sh = (0.0, 0.19)
    el = (0.05 * swing, 0.33)
    wr = (0.1 * swing, 0.46)
    _draw_arm(p, ident, sh, el, wr, arm_r)
    _draw_head(p, ident, 'side')
    if ident.carried_item == 'backpack':
        p.line([(-depth + 0.01, 0.2), (-0.005, 0.165), (0.02, 0.2),
                (0.025, 0.38)], 0.014, BAG)
    elif ident.carried_item == 'shoulder bag':
        p.line([(-0.015, 0.17), (0.02, 0.48)], 0.012, BAG)
        p.rect(-0.045, 0.47, 0.06, 0.58, BAG, 0.012)
    elif ident.carried_item == 'handbag':
        u = wr[0]
        p.rect(u - 0.04, 0.5, u + 0.04, 0.59, BAG, 0.01)
        p.line([(u - 0.025, 0.5), (u, 0.47), (u + 0.025, 0.5)], 0.008, BAG)


def draw_material_map(identity: IdentityAttributes, pose: Pose,
                      img_size: Tuple[int, int]) -> np.ndarray:
    """Material labels ``[H, W]`` uint8 of one frame (0 = background)."""
    h, w = img_size
    mirrored = pose.view == 'side' and pose.facing < 0
    centre_x = (w - 1 - pose.centre_x) if mirrored else pose.centre_x
    painter = _Painter(img_size, centre_x, pose.foot_y, pose.height)
    if pose.view == 'side':
        _draw_side(painter, identity, pose)
    else:
        _draw_frontal(painter, identity, pose)
    labels = np.asarray(painter.image, dtype=np.uint8)
    if mirrored:
        labels = labels[:, ::-1]
    labels = labels.copy()
    if identity.upper_pattern in ('stripes', 'checks'):
        period = max(4, int(round(0.034 * pose.height)))
        half = period // 2
        ys, xs = np.mgrid[0:h, 0:w]
        top = int(pose.foot_y - pose.height)
        bands = ((ys - top) // half) % 2
        if identity.upper_pattern == 'checks':
            cols = ((xs - int(pose.centre_x) + 10 * period) // half) % 2
            bands = bands ^ cols
        labels[(labels == UPPER) & (bands == 1)] = ACCENT
    return labels


# ------------------------------------------------------------ modalities


def _smooth(img: np.ndarray) -> np.ndarray:
    """[1, 2, 1] / 4 separable smoothing over the first two axes."""
    pad = [(1, 1), (1, 1)] + [(0, 0)] * (img.ndim - 2)
    p = np.pad(img, pad, mode='edge')
    img = (p[:-2] + 2 * p[1:-1] + p[2:]) / 4
    return (img[:, :-2] + 2 * img[:, 1:-1] + img[:, 2:]) / 4


def _to_uint8(img: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _grey3(img: np.ndarray) -> np.ndarray:
    """``[H, W]`` uint8 -> ``[H, W, 3]`` with three equal channels."""
    return np.repeat(img[..., None], 3, axis=2)


def material_tables(
        identity: IdentityAttributes
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


def render_triplet(identity: IdentityAttributes, scene: CameraScene,
                   pose: Pose, img_size: Tuple[int, int],
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
    row, col = pose.bg_offset
    window = (slice(row, row + h), slice(col, col + w))

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
    rgb = scene.rgb_background[window] * shadow[..., None]
    rgb = np.where(person[..., None], mat_rgb[labels] * surface[..., None],
                   rgb)
    cast = np.asarray(scene.colour_cast, np.float32)
    rgb_gain = scene.rgb_gain * pose.gain * (0.4 if pose.low_light else 1.0)
    rgb = _smooth(rgb * rgb_gain * cast)
    rgb = rgb + rng.normal(0, 6.0 if pose.low_light else 3.0, rgb.shape)

    # NIR: active IR lamp lights the person, background is dim
    nir = np.where(person, mat_nir[labels] * surface * scene.nir_gain,
                   scene.nir_background[window])
    nir = _smooth(nir * pose.gain * 255) + rng.normal(0, 4.0, (h, w))

    # TIR: temperature, blurred by the thermal optics, no texture
    temp = np.where(person, mat_tir[labels] * (0.94 + 0.06 * shade),
                    scene.tir_background[window])
    temp = scene.tir_offset + scene.tir_contrast * temp
    tir_img = Image.fromarray(_to_uint8(temp * 255))
    tir_img = tir_img.filter(ImageFilter.GaussianBlur(max(1.0, h / 96)))
    tir = np.asarray(tir_img, np.float32) + rng.normal(0, 2.0, (h, w))

    return {
        'rgb': _to_uint8(rgb),
        'nir': _grey3(_to_uint8(nir)),
        'tir': _grey3(_to_uint8(tir)),
        'labels': labels,
    }
