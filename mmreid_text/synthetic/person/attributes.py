# Copyright (c) mmreid_text contributors. All rights reserved.
"""Attributes of synthetic people and how they are sampled.

A person is a fixed set of visual attributes (gender, body, hair, clothing,
carried item, accessories); colours come from :mod:`..colours` with their
NIR reflectance. Attributes depend only on the identity's random stream, so
a person looks the same no matter how many others are generated.
"""
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np

from ..colours import (CLOTH_COLOURS, HAIR_COLOURS, ItemColour, NamedColour,
                       choice, jitter, luminance, pick_colour)

#: Skin tones are rendered but never written into captions.
SKIN_TONES: Tuple[NamedColour, ...] = (
    NamedColour('skin', (236, 200, 170), 0.66),
    NamedColour('skin', (200, 150, 112), 0.62),
    NamedColour('skin', (150, 104, 72), 0.58),
    NamedColour('skin', (98, 66, 48), 0.54),
)

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
class PersonAttributes:
    """All appearance attributes of one synthetic person.

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
        if abs(luminance(CLOTH_COLOURS[name].rgb) -
               luminance(base.rgb)) > 45 or name in ('red', 'green', 'blue',
                                                     'yellow')
    }
    accent = jitter(rng, pick_colour(rng, CLOTH_COLOURS, weights,
                                     (base.name, )))
    if abs(accent.nir - base.nir) < 0.18:
        # keep the pattern visible in NIR: push the accent reflectance away
        shift = 0.2 if base.nir < 0.5 else -0.2
        accent = ItemColour(accent.name, accent.rgb,
                            float(np.clip(base.nir + shift, 0.05, 0.95)))
    return accent


def sample_person(pid: int, rng: np.random.Generator) -> PersonAttributes:
    """Draw the attributes of identity ``pid`` from realistic priors.

    Args:
        pid: The raw person id (stored, not used for sampling).
        rng: Generator dedicated to this identity.
    """
    gender = choice(rng, GENDERS, [0.5, 0.5])
    woman = gender == 'woman'
    height = choice(rng, HEIGHTS, [0.25, 0.5, 0.25])
    build = choice(rng, BUILDS, [0.3, 0.5, 0.2])
    skin_tone = SKIN_TONES[int(rng.integers(len(SKIN_TONES)))]
    skin = jitter(rng, skin_tone, 6.0, 0.02)
    hair_length = choice(rng, HAIR_LENGTHS,
                         [0.25, 0.75] if woman else [0.9, 0.1])
    hair_colour = jitter(rng,
                         pick_colour(rng, HAIR_COLOURS, HAIR_COLOUR_WEIGHTS),
                         6.0)
    upper_type = choice(rng, UPPER_TYPES, [0.35, 0.25, 0.25, 0.15])
    upper_weights = dict(UPPER_COLOUR_WEIGHTS)
    if woman:
        upper_weights.update(pink=2.0, purple=1.0)
    upper_colour = jitter(rng, pick_colour(rng, CLOTH_COLOURS, upper_weights))
    upper_pattern = choice(rng, UPPER_PATTERNS, [0.5, 0.2, 0.15, 0.15])
    upper_accent_colour = (None if upper_pattern == 'plain' else
                           _accent_colour(rng, upper_colour))
    lower_type = choice(rng, LOWER_TYPES,
                        [0.55, 0.15, 0.3] if woman else [0.8, 0.2, 0.0])
    lower_colour = jitter(
        rng,
        pick_colour(rng, CLOTH_COLOURS, LOWER_COLOUR_WEIGHTS,
                    (upper_colour.name, ) if upper_type == 'coat' else ()))
    shoes_colour = jitter(
        rng, pick_colour(rng, CLOTH_COLOURS, SHOES_COLOUR_WEIGHTS))
    carried_item = choice(
        rng, CARRIED_ITEMS,
        [0.35, 0.3, 0.2, 0.15] if woman else [0.4, 0.35, 0.05, 0.2])
    carried_item_colour = (None if carried_item == 'none' else jitter(
        rng, pick_colour(rng, CLOTH_COLOURS, BAG_COLOUR_WEIGHTS)))
    hat = bool(rng.random() < 0.15)
    hat_colour = (
        jitter(rng, pick_colour(rng, CLOTH_COLOURS, HAT_COLOUR_WEIGHTS))
        if hat else None)
    glasses = bool(rng.random() < 0.2)
    body_heat = float(rng.normal(0.0, 0.03))
    return PersonAttributes(
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
