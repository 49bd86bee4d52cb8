# Copyright (c) mmreid_text contributors. All rights reserved.
"""Attributes of synthetic vehicles and how they are sampled.

A vehicle is a fixed set of attributes: type, paint (a named colour with
its NIR reflectance), accent stripe, roof rack and how warm its engine runs.
"""
from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np

from ..colours import CLOTH_COLOURS, ItemColour, jitter, pick_colour

VEHICLE_TYPES = ('sedan', 'suv', 'van', 'pickup', 'hatchback')

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


def _paint(rng: np.random.Generator,
           weights: Dict[str, float],
           exclude: str = '') -> ItemColour:
    names = (exclude, ) if exclude else ()
    return jitter(rng, pick_colour(rng, CLOTH_COLOURS, weights, names), 8.0)


def sample_vehicle(pid: int, rng: np.random.Generator) -> VehicleAttributes:
    """Attributes of vehicle ``pid``; depends only on ``rng``'s seed."""
    vehicle_type = VEHICLE_TYPES[int(rng.integers(len(VEHICLE_TYPES)))]
    paint = _paint(rng, PAINT_WEIGHTS)
    accent = None
    if rng.random() < 0.3:
        accent = _paint(rng, ACCENT_WEIGHTS, exclude=paint.name)
    return VehicleAttributes(
        pid=int(pid),
        vehicle_type=vehicle_type,
        paint=paint,
        accent=accent,
        roof_rack=bool(rng.random() < 0.25),
        engine_heat=float(rng.uniform(0.0, 1.0)),
        length_factor=float(rng.uniform(0.86, 0.98)))
