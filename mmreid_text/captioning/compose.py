# Copyright (c) mmreid_text contributors. All rights reserved.
"""Deterministic template composer (the offline default).

It turns a merged attribute set into a caption following the sentence plan
of ``prompts.SENTENCE_PLANS``.  Unknown attributes are left out (so the
caption never says 'unknown'); a sentence whose attributes are all unknown
is dropped.  The result depends only on the attribute values, so the same
attributes always give the same caption.
"""
from typing import Callable, Dict, List, Mapping, Optional

from mmreid_text.captions.modalities import MODALITY_SPECTRUM
from .parsing import AttributeSet, is_unknown


def _known(attrs: Mapping, name: str) -> Optional[str]:
    entry = attrs.get(name)
    if entry is None or is_unknown(entry.get('value')):
        return None
    return str(entry['value']).strip()


def _article(phrase: str) -> str:
    return 'an' if phrase[:1].lower() in 'aeiou' else 'a'


_PLURAL_ITEMS = ('jeans', 'trousers', 'shorts', 'pants', 'leggings',
                 'sneakers', 'shoes', 'boots', 'sandals', 'slippers',
                 'glasses', 'sunglasses')


def _with_article(phrase: str) -> str:
    """'black jacket' -> 'a black jacket'; plurals stay bare."""
    last = phrase.split()[-1].lower() if phrase.split() else ''
    has_article = phrase.lower().startswith(('a ', 'an ', 'the '))
    if last in _PLURAL_ITEMS or has_article:
        return phrase
    return f'{_article(phrase)} {phrase}'


def _join(parts: List[str]) -> str:
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return ''.join(parts)
    return ', '.join(parts[:-1]) + ' and ' + parts[-1]


def _presence(value: Optional[str], item: str) -> Optional[str]:
    """'yes' -> 'a backpack'; a description -> 'a black backpack'."""
    if value is None or value.lower() == 'no':
        return None
    if value.lower() == 'yes':
        return f'{_article(item)} {item}'
    if item.split()[-1] not in value.lower():
        value = f'{value} {item}'
    return f'{_article(value)} {value}' if not value.lower().startswith(
        ('a ', 'an ', 'the ')) else value


def _sentence(text: str) -> str:
    text = ' '.join(text.split())
    return text[:1].upper() + text[1:] + '.'


def _context_phrase(attrs: Mapping) -> str:
    parts = []
    view = _known(attrs, 'view')
    if view:
        parts.append(f'seen from the {view}')
    light = _known(attrs, 'illumination')
    time = _known(attrs, 'capture_time')
    if light or time:
        parts.append('in ' + ' '.join(p
                                      for p in (light, time) if p) + ' light')
    return ' '.join(parts)


def compose_person(attrs: Mapping, modality: str) -> str:
    """Caption of a person from one modality's attribute set."""
    sentences = []
    gender = (_known(attrs, 'gender') or '').lower()
    noun = {
        'male': 'man',
        'female': 'woman',
        'man': 'man',
        'woman': 'woman'
    }.get(gender, 'person')
    age = _known(attrs, 'age')
    subject = f'{age} {noun}' if age else noun
    context = _context_phrase(attrs)
    sentences.append(f'{_article(subject)} {subject} {context}'.strip())
    pronoun = {'man': 'he', 'woman': 'she'}.get(noun, 'the person')

    clothes = []
    for kind, colour in (('upper_clothing', 'upper_color'), ('lower_clothing',
                                                             'lower_color')):
        item = _known(attrs, kind)
        tone = _known(attrs, colour)
        if item:
            clothes.append(_with_article(f'{tone} {item}' if tone else item))
        elif tone:
            part = 'top' if kind.startswith('upper') else 'bottoms'
            clothes.append(f'{tone} {part}')
    shoes = _known(attrs, 'footwear')
    shoe_tone = _known(attrs, 'footwear_color')
    if shoes:
        clothes.append(f'{shoe_tone} {shoes}' if shoe_tone else shoes)
    if clothes:
        sentences.append(f'{pronoun} wears {_join(clothes)}')

    hair_parts = []
    hair = _known(attrs, 'hairstyle')
    hair_tone = _known(attrs, 'hair_color')
    if hair or hair_tone:
        hair_parts.append('has ' + ' '.join(p
                                            for p in (hair, hair_tone) if p) +
                          ' hair')
    for name, item in (('headwear', 'hat'), ('glasses', 'glasses')):
        value = _known(attrs, name)
        if value is None:
            continue
        if value.lower() == 'no':
            hair_parts.append(f'wears no {item}')
        elif value.lower() == 'yes':
            hair_parts.append(f'wears {item}' if item ==
                              'glasses' else f'wears a {item}')
        else:
            hair_parts.append(f'wears {value}')
    if hair_parts:
        sentences.append(f'{pronoun} {_join(hair_parts)}')

    carried, not_carried = [], []
    for name, item in (('backpack', 'backpack'), ('handbag', 'handbag'),
                       ('carrying', 'item')):
        value = _known(attrs, name)
        if value is None:
            continue
        if value.lower() == 'no':
            not_carried.append(item)
        elif name == 'carrying' and value.lower() == 'yes':
            carried.append('an item in hand')
        else:
            carried.append(_presence(value, item))
    if carried:
        sentences.append(f'{pronoun} carries {_join(carried)}')
    elif not_carried == ['item']:
        sentences.append(f'{pronoun} carries nothing in hand')
    elif not_carried:
        bags = [f'a {i}' for i in not_carried if i != 'item']
        sentences.append(f'{pronoun} carries ' +
                         (f'neither {" nor ".join(bags)}' if len(bags) >
                          1 else f'no {bags[0][2:]}'))

    clarity = _known(attrs, 'target_clarity')
    spectrum = MODALITY_SPECTRUM.get(modality, f'{modality} image')
    if clarity:
        sentences.append(f'the {spectrum} image appears {clarity}')
    return ' '.join(_sentence(s) for s in sentences)


def compose_vehicle(attrs: Mapping, modality: str) -> str:
    """Caption of a vehicle from one modality's attribute set."""
    sentences = []
    head = ' '.join(
        p for p in (_known(attrs, 'color'), _known(attrs, 'brand'),
                    _known(attrs, 'vehicle_type') or 'vehicle') if p)
    context = _context_phrase(attrs)
    sentences.append(f'{_article(head)} {head} {context}'.strip())
    body = []
    wear = _known(attrs, 'wear')
    if wear:
        body.append(f'shows {wear} wear')
    windows = _known(attrs, 'windows')
    if windows:
        body.append(f'has {windows} windows' if 'window' not in
                    windows.lower() else f'has {windows}')
    if body:
        sentences.append(f'the vehicle {_join(body)}')
    parts = []
    for name, noun in (('headlights', 'headlights'),
                       ('taillights', 'taillights'), ('grille', 'grille'),
                       ('roof', 'roof'), ('tires', 'tires'), ('bumpers',
                                                              'bumpers'),
                       ('mirrors', 'side mirrors'), ('exhaust', 'exhaust')):
        value = _known(attrs, name)
        if value:
            parts.append(value if noun.split()[-1] in
                         value.lower() else f'{value} {noun}')
    if parts:
        sentences.append(f'it features {_join(parts)}')
    for name, item in (('license_plate', 'license plate'),
                       ('spoiler', 'spoiler'), ('roof_rack', 'roof rack')):
        value = _known(attrs, name)
        if value is None:
            continue
        verb = 'visible' if name == 'license_plate' else 'present'
        state = verb if value.lower() != 'no' else f'not {verb}'
        sentences.append(f'{item} is {state}')
    clarity = _known(attrs, 'target_clarity')
    spectrum = MODALITY_SPECTRUM.get(modality, f'{modality} image')
    if clarity:
        sentences.append(f'the {spectrum} image appears {clarity}')
    return ' '.join(_sentence(s) for s in sentences)


COMPOSERS: Dict[str, Callable[[Mapping, str], str]] = {
    'person': compose_person,
    'vehicle': compose_vehicle,
}


class TemplateComposer:
    """Deterministic caption composer for one object type."""

    def __init__(self, object_type: str = 'person'):
        if object_type not in COMPOSERS:
            raise KeyError(f'No template composer for {object_type!r}; '
                           f'choose one of {sorted(COMPOSERS)}.')
        self.object_type = object_type
        self._compose = COMPOSERS[object_type]

    def __call__(self, attributes: AttributeSet, modality: str) -> str:
        return self._compose(attributes, modality)
