# Copyright (c) mmreid_text contributors. All rights reserved.
"""Identity attributes of synthetic people and how they are sampled.

An identity is a fixed set of visual attributes (gender, body, hair,
clothing, carried item, accessories).  Every colour carries both its visible
RGB value and a near-infrared (NIR) reflectance: textile dyes that look alike
in visible light can differ strongly in NIR and vice versa, which is what
makes the NIR modality carry its own information.

Attributes depend only on ``(seed, pid)``, so an identity looks the same no
matter how many other identities are generated.
"""
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

RGB = Tuple[float, float, float]


@dataclass(frozen=True)
class NamedColour:
    """A colour as named in captions, with its NIR reflectance (0..1)."""
    name: str
    rgb: Tuple[int, int, int]
    nir: float


Palette = Dict[str, NamedColour]
Weights = Dict[str, float]


def _colours(
        *items: Tuple[str, Tuple[int, int, int],
                      float]) -> Dict[str, NamedColour]:
    return {name: NamedColour(name, rgb, nir) for name, rgb, nir in items}


#: Clothing / bag / shoe colours.  NIR reflectances are deliberately not the
#: visible luminance (e.g. red and green dyes are bright in NIR, navy dark).
CLOTH_COLOURS: Dict[str, NamedColour] = _colours(
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

HAIR_COLOURS: Dict[str, NamedColour] = _colours(
    ('black', (24, 20, 20), 0.28),
    ('brown', (92, 60, 36), 0.46),
    ('blonde', (200, 168, 108), 0.70),
    ('grey', (162, 160, 158), 0.62),
)

#: Skin tones are rendered but never written into captions.
SKIN_TONES: Tuple[NamedColour, ...] = (
    NamedColour('skin', (236, 200, 170), 0.66),
    NamedColour('skin', (200, 150, 112), 0.62),
    NamedColour('skin', (150, 104, 72), 0.58),
    NamedColour('skin', (98, 66, 48), 0.54),
)

#: Every colour word that may appear in a caption (NIR/TIR never use them).
COLOUR_WORDS: Tuple[str, ...] = tuple(
    sorted(set(CLOTH_COLOURS) | set(HAIR_COLOURS)))

GENDERS = ('man', 'woman')
HEIGHTS = ('short', 'average', 'tall')
BUILDS = ('slim', 'average', 'heavy')
HAIR_LENGTHS = ('short', 'long')
UPPER_TYPES = ('t-shirt', 'shirt', 'jacket', 'coat')
UPPER_PATTERNS = ('plain', 'stripes', 'checks', 'logo')
LOWER_TYPES = ('trousers', 'shorts', 'skirt')
CARRIED_ITEMS = ('none', 'backpack', 'handbag', 'shoulder bag')

#: Relative heat of each upper garment in TIR (thin garments are warmer).
UPPER_WARMTH = {'t-shirt': 0.78, 'shirt': 0.72, 'jacket': 0.58, 'coat': 0.5}
LOWER_WARMTH = {'trousers': 0.64, 'shorts': 0.7, 'skirt': 0.66}


@dataclass(frozen=True)
class ItemColour:
    """The colour of one identity's item: a named colour jittered a bit.

    ``rgb`` is in 0..255 (float), ``nir`` a reflectance in 0..1.
    """
    name: str
    rgb: RGB
    nir: float


@dataclass(frozen=True)
class IdentityAttributes:
    """All appearance attributes of one synthetic identity.

    Colours of absent items (no bag, no hat, plain top) are ``None``.
    """
    pid: int
    gender: str
    height: str
    build: str
    skin: ItemColour
    hair_length: str
    hair_colour: ItemColour
    upper_type: str
    upper_colour: ItemColour
    upper_pattern: str
    upper_accent_colour: Optional[ItemColour]
    lower_type: str
    lower_colour: ItemColour
    shoes_colour: ItemColour
    carried_item: str
    carried_item_colour: Optional[ItemColour]
    hat: bool
    hat_colour: Optional[ItemColour]
    glasses: bool
    body_heat: float

    @property
    def width_factor(self) -> float:
        """Horizontal body scale from build and gender."""
        factor = {'slim': 0.88, 'average': 1.0, 'heavy': 1.18}[self.build]
        # a tall person looks slimmer in a crop scaled to the same height
        factor *= {'short': 1.05, 'average': 1.0, 'tall': 0.95}[self.height]
        return factor

    @property
    def height_factor(self) -> float:
        """Person height relative to the camera's nominal person height."""
        return {'short': 0.93, 'average': 1.0, 'tall': 1.06}[self.height]

    def summary(self) -> Dict[str, str]:
        """Attribute name -> value (colour names, ``'none'`` if absent)."""

        def name(colour: Optional[ItemColour]) -> str:
            return 'none' if colour is None else colour.name

        return {
            'gender': self.gender,
            'height': self.height,
            'build': self.build,
            'hair_length': self.hair_length,
            'hair_colour': name(self.hair_colour),
            'upper_type': self.upper_type,
            'upper_pattern': self.upper_pattern,
            'upper_colour': name(self.upper_colour),
            'upper_accent_colour': name(self.upper_accent_colour),
            'lower_type': self.lower_type,
            'lower_colour': name(self.lower_colour),
            'shoes_colour': name(self.shoes_colour),
            'carried_item': self.carried_item,
            'carried_item_colour': name(self.carried_item_colour),
            'hat': 'cap' if self.hat else 'none',
            'hat_colour': name(self.hat_colour),
            'glasses': 'yes' if self.glasses else 'no',
        }


def _choice(rng: np.random.Generator, options: Sequence[str],
            weights: Sequence[float]) -> str:
    probs = np.asarray(weights, dtype=np.float64)
    return options[int(rng.choice(len(options), p=probs / probs.sum()))]


def _pick_colour(rng: np.random.Generator,
                 palette: Palette,
                 weights: Weights,
                 exclude: Sequence[str] = ()) -> NamedColour:
    """A colour of ``palette`` drawn by ``weights``, never one in
    ``exclude``."""
    names = [n for n in weights if n not in exclude]
    return palette[_choice(rng, names, [weights[n] for n in names])]


def _jitter(rng: np.random.Generator,
            colour: NamedColour,
            rgb_sigma: float = 9.0,
            nir_sigma: float = 0.04) -> ItemColour:
    rgb = np.clip(np.asarray(colour.rgb) + rng.normal(0, rgb_sigma, 3), 0, 255)
    nir = float(np.clip(colour.nir + rng.normal(0, nir_sigma), 0.05, 0.95))
    return ItemColour(colour.name, tuple(float(v) for v in rgb), nir)


def _luminance(rgb: Sequence[float]) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


UPPER_COLOUR_WEIGHTS = dict(
    black=3.0,
    white=3.0,
    grey=2.0,
    red=1.2,
    blue=1.5,
    navy=1.2,
    green=1.0,
    yellow=0.7,
    orange=0.5,
    pink=0.8,
    purple=0.5,
    brown=0.7,
    beige=0.8)
LOWER_COLOUR_WEIGHTS = dict(
    black=3.0,
    blue=3.0,
    navy=1.5,
    grey=2.0,
    beige=1.0,
    brown=0.8,
    white=0.4,
    green=0.4,
    red=0.2)
SHOES_COLOUR_WEIGHTS = dict(
    black=3.0, white=2.5, grey=1.0, brown=1.0, blue=0.4, red=0.3)
BAG_COLOUR_WEIGHTS = dict(
    black=3.0,
    grey=1.0,
    brown=1.2,
    blue=0.8,
    navy=0.6,
    red=0.5,
    beige=0.6,
    green=0.4,
    pink=0.3)
HAT_COLOUR_WEIGHTS = dict(black=2.0, white=1.0, red=1.0, blue=1.0, grey=1.0)
HAIR_COLOUR_WEIGHTS = dict(black=0.55, brown=0.25, blonde=0.12, grey=0.08)


def _accent_colour(rng: np.random.Generator, base: ItemColour) -> ItemColour:
    """A second colour for stripes/checks/logo, visible in RGB and NIR."""
    weights = {
        name: w
        for name, w in UPPER_COLOUR_WEIGHTS.items()
        if abs(_luminance(CLOTH_COLOURS[name].rgb) -
               _luminance(base.rgb)) > 45 or name in ('red', 'green', 'blue',
                                                      'yellow')
    }
    accent = _jitter(rng,
                     _pick_colour(rng, CLOTH_COLOURS, weights, (base.name, )))
    if abs(accent.nir - base.nir) < 0.18:
        # keep the pattern visible in NIR: push the accent reflectance away
        shift = 0.2 if base.nir < 0.5 else -0.2
        accent = ItemColour(accent.name, accent.rgb,
                            float(np.clip(base.nir + shift, 0.05, 0.95)))
    return accent


def sample_identity(pid: int, rng: np.random.Generator) -> IdentityAttributes:
    """Draw the attributes of identity ``pid`` from realistic priors.

    Args:
        pid: The raw person id (stored, not used for sampling).
        rng: Generator dedicated to this identity.
    """
    gender = _choice(rng, GENDERS, [0.5, 0.5])
    woman = gender == 'woman'
    height = _choice(rng, HEIGHTS, [0.25, 0.5, 0.25])
    build = _choice(rng, BUILDS, [0.3, 0.5, 0.2])
    skin_tone = SKIN_TONES[int(rng.integers(len(SKIN_TONES)))]
    skin = _jitter(rng, skin_tone, 6.0, 0.02)
    hair_length = _choice(rng, HAIR_LENGTHS,
                          [0.25, 0.75] if woman else [0.9, 0.1])
    hair_colour = _jitter(rng,
                          _pick_colour(rng, HAIR_COLOURS, HAIR_COLOUR_WEIGHTS),
                          6.0)
    upper_type = _choice(rng, UPPER_TYPES, [0.35, 0.25, 0.25, 0.15])
    upper_weights = dict(UPPER_COLOUR_WEIGHTS)
    if woman:
        upper_weights.update(pink=2.0, purple=1.0)
    upper_colour = _jitter(rng, _pick_colour(rng, CLOTH_COLOURS,
                                             upper_weights))
    upper_pattern = _choice(rng, UPPER_PATTERNS, [0.5, 0.2, 0.15, 0.15])
    upper_accent_colour = (None if upper_pattern == 'plain' else
                           _accent_colour(rng, upper_colour))
    lower_type = _choice(rng, LOWER_TYPES,
                         [0.55, 0.15, 0.3] if woman else [0.8, 0.2, 0.0])
    lower_colour = _jitter(
        rng,
        _pick_colour(rng, CLOTH_COLOURS, LOWER_COLOUR_WEIGHTS,
                     (upper_colour.name, ) if upper_type == 'coat' else ()))
    shoes_colour = _jitter(
        rng, _pick_colour(rng, CLOTH_COLOURS, SHOES_COLOUR_WEIGHTS))
    carried_item = _choice(
        rng, CARRIED_ITEMS,
        [0.35, 0.3, 0.2, 0.15] if woman else [0.4, 0.35, 0.05, 0.2])
    carried_item_colour = (None if carried_item == 'none' else _jitter(
        rng, _pick_colour(rng, CLOTH_COLOURS, BAG_COLOUR_WEIGHTS)))
    hat = bool(rng.random() < 0.15)
    hat_colour = (
        _jitter(rng, _pick_colour(rng, CLOTH_COLOURS, HAT_COLOUR_WEIGHTS))
        if hat else None)
    glasses = bool(rng.random() < 0.2)
    body_heat = float(rng.normal(0.0, 0.03))
    return IdentityAttributes(
        pid=int(pid),
        gender=gender,
        height=height,
        build=build,
        skin=skin,
        hair_length=hair_length,
        hair_colour=hair_colour,
        upper_type=upper_type,
        upper_colour=upper_colour,
        upper_pattern=upper_pattern,
        upper_accent_colour=upper_accent_colour,
        lower_type=lower_type,
        lower_colour=lower_colour,
        shoes_colour=shoes_colour,
        carried_item=carried_item,
        carried_item_colour=carried_item_colour,
        hat=hat,
        hat_colour=hat_colour,
        glasses=glasses,
        body_heat=body_heat,
    )
