# Copyright (c) mmreid_text contributors. All rights reserved.
"""Ground-truth captions of synthetic persons, per modality.

Captions are built from the person's attributes and the frame's view.
What a modality cannot show is marked ``'unknown'`` in the attribute list
and left out of the sentence:

* RGB shows everything (glasses are not visible from the back).
* NIR shows no colours; patterns, shapes and items are visible.
* TIR shows no colours and no patterns (a logo or stripes have the same
  temperature as the garment); shapes and items are visible.
"""
from typing import Dict, List, Optional

from ..caption_writer import UNKNOWN, check_rendered_modality, make_entry
from ..colours import ItemColour
from .attributes import PersonAttributes

#: Attributes that hold a colour name.
COLOUR_ATTRIBUTES = ('hair_colour', 'upper_colour', 'upper_accent_colour',
                     'lower_colour', 'shoes_colour', 'carried_item_colour',
                     'hat_colour')
#: Attributes that need surface texture to be seen.
PATTERN_ATTRIBUTES = ('upper_pattern', )

_PATTERN_ADJECTIVE = {'stripes': 'striped', 'checks': 'checked'}
# size adjectives go before colour words ("a long red coat")
_UPPER_SIZE = {'shirt': 'long-sleeved ', 'coat': 'long '}


def visible_attributes(identity: PersonAttributes, view: str,
                       modality: str) -> Dict[str, str]:
    """Attribute values as the modality shows them (``'unknown'`` if not).

    Attributes that do not apply (colour of an absent bag) stay ``'none'``
    in every modality: their absence is visible.
    """
    check_rendered_modality(modality)
    values = {'view': view}
    values.update(identity.summary())
    hidden: List[str] = []
    if modality in ('nir', 'tir'):
        hidden += COLOUR_ATTRIBUTES
    if view == 'back':
        hidden.append('glasses')
    for name in hidden:
        if values[name] != 'none':
            values[name] = UNKNOWN
    if modality == 'tir':
        # no pattern at all in TIR, so not even whether there is an accent
        for name in PATTERN_ATTRIBUTES + ('upper_accent_colour', ):
            values[name] = UNKNOWN
    return values


def _colour(colour: Optional[ItemColour], show: bool) -> str:
    return f'{colour.name} ' if (show and colour is not None) else ''


def _article(phrase: str) -> str:
    return ('an ' if phrase[:1] in 'aeiou' else 'a ') + phrase


def _join(parts: List[str]) -> str:
    if len(parts) <= 1:
        return ''.join(parts)
    return ', '.join(parts[:-1]) + ' and ' + parts[-1]


def caption_text(identity: PersonAttributes,
                 view: str,
                 modality: str,
                 variant: int = 0) -> str:
    """One or two plain English sentences describing the frame.

    Args:
        identity: Who is shown.
        view: ``'front'``, ``'back'`` or ``'side'``.
        modality: ``'rgb'``, ``'nir'`` or ``'tir'``.
        variant: Picks one of two phrasings (any int).
    """
    check_rendered_modality(modality)
    colours = modality == 'rgb'
    patterns = modality != 'tir'
    ident = identity
    adjectives = [a for a in (ident.height, ident.build) if a != 'average']
    subject = ' '.join(filter(None, [', '.join(adjectives), ident.gender]))
    hair = f'{ident.hair_length} {_colour(ident.hair_colour, colours)}hair'
    extras = []
    if ident.glasses and view != 'back':
        extras.append('glasses')
    if ident.hat:
        extras.append(_article(f'{_colour(ident.hat_colour, colours)}cap'))
    head = f'with {hair}'
    if len(extras) == 1:
        head += ' and ' + extras[0]
    elif extras:
        head += ', ' + _join(extras)

    noun = ident.upper_type
    size = _UPPER_SIZE.get(ident.upper_type, '')
    base = size + _colour(ident.upper_colour, colours)
    accent = _colour(ident.upper_accent_colour, colours)
    if patterns and ident.upper_pattern in _PATTERN_ADJECTIVE:
        adjective = _PATTERN_ADJECTIVE[ident.upper_pattern]
        if colours:
            upper = _article(f'{base.strip()} and {accent}{adjective} {noun}')
        else:
            upper = _article(f'{size}{adjective} {noun}')
    elif patterns and ident.upper_pattern == 'logo':
        upper = _article(f'{base}{noun}') + ' with ' + _article(
            f'{accent}logo')
    else:
        upper = _article(f'{base}{noun}')
    lower = _colour(ident.lower_colour, colours) + ident.lower_type
    if ident.lower_type == 'skirt':
        lower = _article(lower)
    clothes = [upper, lower]
    if colours:
        clothes.append(f'{_colour(ident.shoes_colour, True)}shoes')
    pronoun = 'He' if ident.gender == 'man' else 'She'

    if variant % 2 == 0:
        text = f'{_article(subject).capitalize()} {head} wears ' + _join(
            clothes) + '.'
    else:
        text = (f'This {subject} {head} is dressed in ' + _join(clothes) + '.')
    item = ident.carried_item
    view_phrase = {
        'front': 'from the front',
        'back': 'from behind',
        'side': 'from the side'
    }[view]
    if item == 'none':
        text += f' {pronoun} carries nothing and is seen {view_phrase}.'
    else:
        bag = _article(f'{_colour(ident.carried_item_colour, colours)}{item}')
        text += f' {pronoun} carries {bag} and is seen {view_phrase}.'
    return text


def person_caption_entry(identity: PersonAttributes,
                         view: str,
                         modality: str,
                         variant: int = 0) -> Dict[str, object]:
    """A caption-file entry ``{'text', 'attributes'}`` (confidence 1.0)."""
    return make_entry(
        caption_text(identity, view, modality, variant),
        visible_attributes(identity, view, modality))
