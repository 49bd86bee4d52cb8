# Copyright (c) mmreid_text contributors. All rights reserved.
"""Named colours with their near-infrared reflectance, shared by persons
and vehicles.

Every colour carries its visible RGB value and a NIR reflectance: dyes and
paints that look alike in visible light can differ strongly in NIR and vice
versa, which is what makes the NIR modality carry its own information.
"""
from dataclasses import dataclass
from typing import Dict, Sequence, Tuple

import numpy as np

RGB = Tuple[float, float, float]


@dataclass(frozen=True)
class NamedColour:
    """A colour as named in captions, with its NIR reflectance (0..1)."""
    name: str
    rgb: Tuple[int, int, int]
    nir: float


@dataclass(frozen=True)
class ItemColour:
    """The colour of one identity's item: a named colour jittered a bit.

    ``rgb`` is in 0..255 (float), ``nir`` a reflectance in 0..1.
    """
    name: str
    rgb: RGB
    nir: float


Palette = Dict[str, NamedColour]
Weights = Dict[str, float]


def _colours(*items: Tuple[str, Tuple[int, int, int], float]) -> Palette:
    return {name: NamedColour(name, rgb, nir) for name, rgb, nir in items}


#: Clothing / bag / shoe / paint colours. NIR reflectances are deliberately
#: not the visible luminance (red and green dyes are bright, navy dark).
CLOTH_COLOURS: Palette = _colours(
    ('black', (28, 28, 32), 0.14),
    ('white', (232, 232, 226), 0.86),
    ('grey', (128, 128, 130), 0.48),
    ('red', (188, 32, 38), 0.74),
    ('blue', (42, 78, 172), 0.32),
    ('navy', (28, 38, 84), 0.22),
    ('green', (44, 128, 62), 0.64),
    ('yellow', (228, 198, 44), 0.80),
    ('orange', (232, 120, 32), 0.76),
    ('pink', (232, 150, 180), 0.82),
    ('purple', (108, 52, 140), 0.52),
    ('brown', (112, 72, 42), 0.44),
    ('beige', (208, 188, 150), 0.70),
)

HAIR_COLOURS: Palette = _colours(
    ('black', (24, 20, 20), 0.28),
    ('brown', (92, 60, 36), 0.46),
    ('blonde', (200, 168, 108), 0.70),
    ('grey', (162, 160, 158), 0.62),
)

#: Every colour word that may appear in a caption (NIR/TIR never use them).
COLOUR_WORDS: Tuple[str, ...] = tuple(
    sorted(set(CLOTH_COLOURS) | set(HAIR_COLOURS)))


def choice(rng: np.random.Generator, options: Sequence[str],
           weights: Sequence[float]) -> str:
    """One of ``options`` drawn with the (unnormalised) ``weights``."""
    probs = np.asarray(weights, dtype=np.float64)
    return options[int(rng.choice(len(options), p=probs / probs.sum()))]


def pick_colour(rng: np.random.Generator,
                palette: Palette,
                weights: Weights,
                exclude: Sequence[str] = ()) -> NamedColour:
    """A colour of ``palette`` drawn by ``weights``, never one in
    ``exclude``."""
    names = [n for n in weights if n not in exclude]
    return palette[choice(rng, names, [weights[n] for n in names])]


def jitter(rng: np.random.Generator,
           colour: NamedColour,
           rgb_sigma: float = 9.0,
           nir_sigma: float = 0.04) -> ItemColour:
    """``colour`` with Gaussian noise on RGB (0..255) and NIR (0.05..0.95).
    """
    rgb = np.clip(np.asarray(colour.rgb) + rng.normal(0, rgb_sigma, 3), 0, 255)
    nir = float(np.clip(colour.nir + rng.normal(0, nir_sigma), 0.05, 0.95))
    return ItemColour(colour.name, tuple(float(v) for v in rgb), nir)


def luminance(rgb: Sequence[float]) -> float:
    """Visible luminance (ITU-R BT.601 weights) of an RGB triple."""
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
