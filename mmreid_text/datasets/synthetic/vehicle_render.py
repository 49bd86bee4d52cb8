# Copyright (c) mmreid_text contributors. All rights reserved.
"""A small renderer of aligned RGB / NIR / TIR vehicle crops.

A vehicle is a fixed set of attributes (type, paint, accent stripe, roof
rack, how warm its engine runs). A frame draws a *material map* (body,
windows, tyres, lamps, grille, plate, ...) for a front, rear or side view
on top of a camera background from :func:`render.make_camera_scene`, then
derives the modalities with per-material tables, like the person renderer:

* RGB: paint colour, shading, illumination, noise; at night the visible
  image is dark and lit headlamps flare.
* NIR: grey; paint follows its NIR reflectance (not its luminance), the
  licence plate and lamps are retro-reflective and bright.
* TIR: grey; temperature: a running engine heats grille and bonnet, tyres
  are warm, windows reflect the cold sky; blurred, no paint colours.
"""
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .identity import CLOTH_COLOURS, ItemColour
from .render import CameraScene

# material labels
(V_BG, V_BODY, V_WINDOW, V_TYRE, V_RIM, V_LAMP, V_TAIL, V_GRILLE, V_TRIM,
 V_STRIPE, V_PLATE, V_RACK) = range(12)
NUM_VEHICLE_MATERIALS = 12

VEHICLE_TYPES = ('sedan', 'suv', 'van', 'pickup', 'hatchback')
VEHICLE_VIEWS = ('front', 'rear', 'side')

#: Paint colours (names from the shared palette) and their frequency.
PAINT_WEIGHTS = dict(
    white=3.0,
    black=2.5,
    grey=2.5,
    blue=1.0,
    red=1.0,
    navy=0.6,
    green=0.4,
    yellow=0.3,
    brown=0.4,
    beige=0.5)
ACCENT_WEIGHTS = dict(black=2.0, white=2.0, red=1.0, yellow=0.6, blue=0.6)

#: ``(cabin front, cabin back, roof height, body top)`` of the side view in
#: vehicle units (0..1 along the length, 0 = top, 1 = ground).
_SIDE_SHAPES = {
    'sedan': (0.26, 0.78, 0.16, 0.48),
    'hatchback': (0.28, 0.9, 0.14, 0.48),
    'suv': (0.22, 0.92, 0.06, 0.44),
    'van': (0.1, 0.97, 0.02, 0.42),
    'pickup': (0.3, 0.62, 0.08, 0.46),
}


@dataclass(frozen=True)
class VehicleAttributes:
    """What stays the same for one vehicle identity.

    Attributes:
        pid: Identity.
        vehicle_type: One of :data:`VEHICLE_TYPES`.
        paint: Body colour (visible RGB 0..255 and NIR reflectance 0..1).
        accent: Colour of a side stripe, None when there is none.
        roof_rack: Has a roof rack.
        engine_heat: 0..1, how hot grille and bonnet run in TIR.
        length_factor: Relative length of the vehicle in its crop.
    """
    pid: int
    vehicle_type: str
    paint: ItemColour
    accent: Optional[ItemColour]
    roof_rack: bool
    engine_heat: float
    length_factor: float


def _jitter_colour(name: str, rng: np.random.Generator) -> ItemColour:
    colour = CLOTH_COLOURS[name]
    rgb = np.clip(np.asarray(colour.rgb) + rng.normal(0, 8.0, 3), 0, 255)
    nir = float(np.clip(colour.nir + rng.normal(0, 0.04), 0.05, 0.95))
    return ItemColour(name, tuple(float(v) for v in rgb), nir)


def _weighted(rng: np.random.Generator,
              weights: Dict[str, float],
              exclude: str = '') -> str:
    names = [n for n in weights if n != exclude]
    probs = np.asarray([weights[n] for n in names], np.float64)
    return names[int(rng.choice(len(names), p=probs / probs.sum()))]


def sample_vehicle(pid: int, rng: np.random.Generator) -> VehicleAttributes:
    """Attributes of vehicle ``pid``; depends only on ``rng``'s seed."""
    vehicle_type = VEHICLE_TYPES[int(rng.integers(len(VEHICLE_TYPES)))]
    paint_name = _weighted(rng, PAINT_WEIGHTS)
    paint = _jitter_colour(paint_name, rng)
    accent = None
    if rng.random() < 0.3:
        accent = _jitter_colour(
            _weighted(rng, ACCENT_WEIGHTS, exclude=paint_name), rng)
    return VehicleAttributes(
        pid=int(pid),
        vehicle_type=vehicle_type,
        paint=paint,
        accent=accent,
        roof_rack=bool(rng.random() < 0.25),
        engine_heat=float(rng.uniform(0.0, 1.0)),
        length_factor=float(rng.uniform(0.86, 0.98)))


@dataclass(frozen=True)
class VehiclePose:
    """Placement of the vehicle in one frame.

    Attributes:
        view: ``'front'``, ``'rear'`` or ``'side'``.
        facing: ``1`` pointing right, ``-1`` left (side view).
        centre_x: Horizontal centre (pixels).
        scale: Size relative to the crop (0.8..1).
        bg_offset: ``(row, column)`` of the background crop.
        gain: Illumination jitter of this frame.
        night: Poor visible light; lit headlamps flare in RGB.
    """
    view: str
    facing: int
    centre_x: float
    scale: float
    bg_offset: Tuple[int, int]
    gain: float
    night: bool = False


def sample_vehicle_pose(scene: CameraScene,
                        img_size: Tuple[int, int],
                        rng: np.random.Generator,
                        view: Optional[str] = None,
                        night: Optional[bool] = None) -> VehiclePose:
    """Random pose; ``view`` / ``night`` fixed by the caller if given."""
    h, w = img_size
    if view is None:
        view = VEHICLE_VIEWS[int(rng.integers(len(VEHICLE_VIEWS)))]
    if night is None:
        night = bool(rng.random() < 0.15)
    canvas_h, canvas_w = scene.nir_background.shape
    return VehiclePose(
        view=view,
        facing=int(rng.choice([-1, 1])),
        centre_x=float(w / 2 + rng.normal(0, 0.02 * w)),
        scale=float(rng.uniform(0.86, 0.97)),
        bg_offset=(int(rng.integers(0, canvas_h - h + 1)),
                   int(rng.integers(0, canvas_w - w + 1))),
        gain=float(rng.uniform(0.9, 1.1)),
        night=bool(night))


class _VehiclePainter:
    """Draws in vehicle units: ``u`` 0..1 across, ``v`` 0..1 down."""

    def __init__(self, img_size: Tuple[int, int], left: float, top: float,
                 width: float, height: float) -> None:
        h, w = img_size
        self.image = Image.new('L', (w, h), V_BG)
        self.draw = ImageDraw.Draw(self.image)
        self.left, self.top = left, top
        self.width, self.height = width, height

    def pt(self, u: float, v: float) -> Tuple[float, float]:
        return (self.left + u * self.width, self.top + v * self.height)

    def polygon(self, points, material: int) -> None:
        self.draw.polygon([self.pt(u, v) for u, v in points], fill=material)

    def rect(self, u0: float, v0: float, u1: float, v1: float,
             material: int) -> None:
        x0, y0 = self.pt(u0, v0)
        x1, y1 = self.pt(u1, v1)
        radius = 0.04 * min(self.width, self.height)
        self.draw.rounded_rectangle(
            [x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)],
            radius=radius,
            fill=material)

    def wheel(self, u: float, v: float, radius_v: float) -> None:
        radius = radius_v * self.height
        x, y = self.pt(u, v)
        for r, material in ((radius, V_TYRE), (0.55 * radius, V_RIM)):
            self.draw.ellipse([x - r, y - r, x + r, y + r], fill=material)


def _draw_side(p: _VehiclePainter, car: VehicleAttributes) -> None:
    cab_front, cab_back, roof, body_top = _SIDE_SHAPES[car.vehicle_type]
    # the vehicle points right: the bonnet is at u = 1
    p.polygon([(1 - cab_back, body_top), (1 - cab_back + 0.04, roof),
               (1 - cab_front - 0.08, roof), (1 - cab_front, body_top)],
              V_BODY)
    p.polygon([(1 - cab_back + 0.03, body_top - 0.02),
               (1 - cab_back + 0.06, roof + 0.05),
               (1 - cab_front - 0.09, roof + 0.05),
               (1 - cab_front - 0.03, body_top - 0.02)], V_WINDOW)
    pillar = 1 - (cab_front + cab_back) / 2
    p.rect(pillar - 0.012, roof + 0.04, pillar + 0.012, body_top, V_BODY)
    p.rect(0.0, body_top, 1.0, 0.86, V_BODY)
    if car.accent is not None:
        p.rect(0.02, 0.6, 0.98, 0.66, V_STRIPE)
    p.rect(0.0, 0.8, 1.0, 0.87, V_TRIM)
    p.rect(0.965, body_top + 0.06, 1.0, body_top + 0.16, V_LAMP)
    p.rect(0.0, body_top + 0.06, 0.03, body_top + 0.16, V_TAIL)
    if car.roof_rack:
        p.rect(1 - cab_back + 0.06, roof - 0.05, 1 - cab_front - 0.1, roof,
               V_RACK)
    for u in (0.2, 0.8):
        p.wheel(u, 0.84, 0.15)


def _draw_end(p: _VehiclePainter, car: VehicleAttributes, view: str) -> None:
    _, _, roof, body_top = _SIDE_SHAPES[car.vehicle_type]
    for u in (0.1, 0.78):
        p.rect(u, 0.8, u + 0.12, 1.0, V_TYRE)
    p.polygon([(0.12, body_top), (0.2, roof), (0.8, roof), (0.88, body_top)],
              V_BODY)
    p.polygon([(0.17, body_top - 0.03), (0.23, roof + 0.05),
               (0.77, roof + 0.05), (0.83, body_top - 0.03)], V_WINDOW)
    p.rect(0.04, body_top, 0.96, 0.88, V_BODY)
    p.rect(0.04, 0.8, 0.96, 0.88, V_TRIM)
    lamp = V_LAMP if view == 'front' else V_TAIL
    p.rect(0.07, body_top + 0.07, 0.26, body_top + 0.17, lamp)
    p.rect(0.74, body_top + 0.07, 0.93, body_top + 0.17, lamp)
    if view == 'front':
        p.rect(0.33, body_top + 0.08, 0.67, body_top + 0.22, V_GRILLE)
    p.rect(0.41, 0.7, 0.59, 0.78, V_PLATE)
    if car.roof_rack:
        p.rect(0.22, roof - 0.05, 0.78, roof, V_RACK)


def draw_vehicle_material_map(car: VehicleAttributes, pose: VehiclePose,
                              img_size: Tuple[int, int]) -> np.ndarray:
    """Material labels ``[H, W]`` uint8 of one frame (0 = background)."""
    h, w = img_size
    length = (car.length_factor if pose.view == 'side' else 0.62) * w
    width, height = pose.scale * length, pose.scale * 0.92 * h
    centre_x = pose.centre_x
    mirrored = pose.view == 'side' and pose.facing < 0
    if mirrored:
        centre_x = w - 1 - centre_x
    painter = _VehiclePainter(img_size, centre_x - width / 2,
                              h * 0.985 - height, width, height)
    if pose.view == 'side':
        _draw_side(painter, car)
    else:
        _draw_end(painter, car, pose.view)
    labels = np.asarray(painter.image, dtype=np.uint8)
    return (labels[:, ::-1] if mirrored else labels).copy()


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


def _uint8(img: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _blur(img: np.ndarray, radius: float) -> np.ndarray:
    """Gaussian blur of a float ``[H, W]`` image in 0..255."""
    blurred = Image.fromarray(_uint8(img)).filter(
        ImageFilter.GaussianBlur(radius))
    return np.asarray(blurred, np.float32)


def render_vehicle_triplet(car: VehicleAttributes, scene: CameraScene,
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
    row, col = pose.bg_offset
    window = (slice(row, row + h), slice(col, col + w))
    ys = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    xs = np.linspace(-1, 1, w, dtype=np.float32)[None]
    # sky light from above, key light from one side
    shade = (1.08 - 0.25 * ys) * (1 + scene.key_light * xs)

    rgb = np.where(body[..., None], mat_rgb[labels] * shade[..., None],
                   scene.rgb_background[window])
    gain = scene.rgb_gain * pose.gain * (0.3 if pose.night else 1.0)
    rgb = rgb * gain * np.asarray(scene.colour_cast, np.float32)
    if pose.night:  # lit lamps flare in the visible image
        lamps = np.isin(labels, (V_LAMP, V_TAIL)).astype(np.float32) * 255
        glow = _blur(lamps, max(2.0, h / 12))
        glow = np.maximum(glow, _blur(lamps, max(1.0, h / 40)))
        tint = np.asarray([1.0, 0.95, 0.85], np.float32)
        rgb = rgb + 2.5 * glow[..., None] * tint
    rgb = np.stack([_blur(rgb[..., c], 0.6) for c in range(3)], axis=-1)
    rgb = rgb + rng.normal(0, 6.0 if pose.night else 3.0, rgb.shape)

    nir = np.where(body, mat_nir[labels] * shade * scene.nir_gain,
                   scene.nir_background[window]) * pose.gain * 255
    nir = _blur(nir, 0.6) + rng.normal(0, 4.0, (h, w))

    temp = np.where(body, mat_tir[labels], scene.tir_background[window])
    temp = scene.tir_offset + scene.tir_contrast * temp
    tir = _blur(temp * 255, max(1.0, h / 96)) + rng.normal(0, 2.0, (h, w))

    def grey3(img):
        return np.repeat(_uint8(img)[..., None], 3, axis=2)

    return {
        'rgb': _uint8(rgb),
        'nir': grey3(nir),
        'tir': grey3(tir),
        'labels': labels,
    }


def vehicle_caption_entry(car: VehicleAttributes, pose: VehiclePose,
                          modality: str) -> Dict[str, object]:
    """Ground-truth caption entry ``{'text', 'attributes'}`` of a frame.

    RGB names the paint and stripe colours; NIR and TIR show no colours
    (``'unknown'``); TIR tells whether the engine is warm.
    """
    if modality not in ('rgb', 'nir', 'tir'):
        raise ValueError(f'Unknown modality {modality!r}; expected rgb, '
                         'nir or tir.')
    colours = modality == 'rgb'
    warm = car.engine_heat >= 0.5
    attributes = {
        'vehicle_type':
        car.vehicle_type,
        'colour':
        car.paint.name if colours else 'unknown',
        'stripe': ((car.accent.name if colours else 'yes')
                   if car.accent is not None else 'no'),
        'roof_rack':
        'yes' if car.roof_rack else 'no',
        'view':
        pose.view,
        'engine':
        ('warm' if warm else 'cold') if modality == 'tir' else 'unknown',
    }
    noun = f'{car.paint.name} {car.vehicle_type}' if colours else (
        car.vehicle_type)
    article = 'An' if noun[0] in 'aeiou' else 'A'
    text = f'{article} {noun}'
    extras = []
    if car.accent is not None:
        extras.append(
            f'a {car.accent.name} side stripe' if colours else 'a side stripe')
    if car.roof_rack:
        extras.append('a roof rack')
    if extras:
        text += ' with ' + ' and '.join(extras)
    text += f' seen from the {pose.view}.'
    if modality == 'tir':
        text += (' Its engine is warm.' if warm else ' It looks cold.')
    elif modality == 'nir':
        text += (' Its lamps are bright.' if pose.view == 'side' else
                 ' Its lamps and licence plate are bright.')
    return {
        'text': text,
        'attributes': {
            name: {
                'value': value,
                'confidence': 1.0
            }
            for name, value in attributes.items()
        }
    }
