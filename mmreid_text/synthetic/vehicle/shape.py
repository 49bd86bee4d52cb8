# Copyright (c) mmreid_text contributors. All rights reserved.
"""The material map of a vehicle (body, windows, tyres, rims, lamps, grille,
trim, stripe, plate, roof rack) in a front, rear or side view."""
from typing import Tuple

import numpy as np

from ..drawing import MaterialPainter
from .attributes import VehicleAttributes
from .pose import VehiclePose

# material labels
(V_BG, V_BODY, V_WINDOW, V_TYRE, V_RIM, V_LAMP, V_TAIL, V_GRILLE, V_TRIM,
 V_STRIPE, V_PLATE, V_RACK) = range(12)
NUM_VEHICLE_MATERIALS = 12

#: ``(cabin front, cabin back, roof height, body top)`` of the side view in
#: vehicle units (0..1 along the length, 0 = top, 1 = ground).
_SIDE_SHAPES = {
    'sedan': (0.26, 0.78, 0.16, 0.48),
    'hatchback': (0.28, 0.9, 0.14, 0.48),
    'suv': (0.22, 0.92, 0.06, 0.44),
    'van': (0.1, 0.97, 0.02, 0.42),
    'pickup': (0.3, 0.62, 0.08, 0.46),
}


class _VehiclePainter(MaterialPainter):
    """Draws in vehicle units: ``u`` 0..1 across, ``v`` 0..1 down."""

    def rect(self, u0: float, v0: float, u1: float, v1: float,
             material: int) -> None:
        radius = 0.04 * min(self.scale_u, self.scale_v) / self.scale_v
        super().rect(u0, v0, u1, v1, material, radius)

    def wheel(self, u: float, v: float, radius_v: float) -> None:
        radius = radius_v * self.scale_v
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
    return painter.labels(mirrored)
