# Copyright (c) mmreid_text contributors. All rights reserved.
"""Attribute schemas for confidence-aware attribute generation (NEXT IV-A).

A schema lists the attributes a vision model is asked for.  Each attribute
has a name (the JSON key), a short question for the instruction, an optional
list of suggested values and a kind: ``'text'`` (free value) or ``'bool'``
(presence; replies such as 'no' / 'not present' are normalised to ``'no'``,
'yes' / 'present' to ``'yes'``, anything else - e.g. 'black backpack' - is
kept as the description of a present item).  ``group`` is ``'appearance'``
or ``'context'`` (view, illumination, capture time, target clarity; NEXT
asks for these so models do not ignore the environment).
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple


@dataclass(frozen=True)
class AttributeSpec:
    """One attribute of a schema."""
    name: str
    question: str
    choices: Tuple[str, ...] = ()
    kind: str = 'text'
    group: str = 'appearance'

    def __post_init__(self):
        if self.kind not in ('text', 'bool'):
            raise ValueError(f'Attribute {self.name!r}: kind must be '
                             f"'text' or 'bool', got {self.kind!r}")


@dataclass(frozen=True)
class AttributeSchema:
    """An ordered set of attributes for one object type."""
    object_type: str
    attributes: Tuple[AttributeSpec, ...] = field(default_factory=tuple)

    @property
    def names(self) -> List[str]:
        return [a.name for a in self.attributes]

    def get(self, name: str) -> Optional[AttributeSpec]:
        for spec in self.attributes:
            if spec.name == name:
                return spec
        return None

    def to_dict(self) -> dict:
        """Plain description (used in prompt hashes and reports)."""
        return {
            'object_type':
            self.object_type,
            'attributes': [{
                'name': a.name,
                'question': a.question,
                'choices': list(a.choices),
                'kind': a.kind,
                'group': a.group
            } for a in self.attributes]
        }

    @classmethod
    def from_dict(cls, data: dict) -> 'AttributeSchema':
        """Build a schema from ``{'object_type', 'attributes': [...]}``."""
        try:
            specs = tuple(
                AttributeSpec(
                    name=a['name'],
                    question=a['question'],
                    choices=tuple(a.get('choices', ())),
                    kind=a.get('kind', 'text'),
                    group=a.get('group', 'appearance'))
                for a in data['attributes'])
            return cls(object_type=data['object_type'], attributes=specs)
        except (KeyError, TypeError) as err:
            raise ValueError(
                'An attribute schema needs "object_type" and "attributes" '
                '(a list of {"name", "question", optional "choices", "kind",'
                f' "group"}}): {err}') from err


_CONTEXT = (
    AttributeSpec(
        'view',
        'From which side is the target seen?',
        ('front', 'back', 'side', 'diagonal'),
        group='context'),
    AttributeSpec(
        'illumination',
        'How strong is the scene lighting?',
        ('bright', 'normal', 'dim', 'dark'),
        group='context'),
    AttributeSpec(
        'capture_time',
        'Was the image taken by day or at night?', ('daytime', 'nighttime'),
        group='context'),
    AttributeSpec(
        'target_clarity',
        'How clearly is the target visible?',
        ('clear', 'slightly blurry', 'blurry', 'occluded'),
        group='context'),
)

PERSON_SCHEMA = AttributeSchema('person', (
    AttributeSpec('gender', 'Gender of the person.', ('male', 'female')),
    AttributeSpec('age', 'Age group.',
                  ('child', 'teenager', 'young adult', 'adult', 'elderly')),
    AttributeSpec(
        'upper_clothing', 'Type of upper-body clothing.',
        ('t-shirt', 'shirt', 'jacket', 'coat', 'sweater', 'hoodie', 'dress')),
    AttributeSpec('upper_color', 'Main colour of the upper clothing.'),
    AttributeSpec('lower_clothing', 'Type of lower-body clothing.',
                  ('trousers', 'jeans', 'shorts', 'skirt')),
    AttributeSpec('lower_color', 'Main colour of the lower clothing.'),
    AttributeSpec('hairstyle', 'Hair length or style.',
                  ('short', 'long', 'ponytail', 'bald', 'covered')),
    AttributeSpec('hair_color', 'Hair colour.'),
    AttributeSpec('headwear', 'Hat, cap or hood worn?', kind='bool'),
    AttributeSpec('glasses', 'Glasses worn?', kind='bool'),
    AttributeSpec('footwear', 'Type of footwear.',
                  ('sneakers', 'shoes', 'boots', 'sandals')),
    AttributeSpec('footwear_color', 'Colour of the footwear.'),
    AttributeSpec('backpack', 'Backpack carried?', kind='bool'),
    AttributeSpec(
        'handbag', 'Handbag, shoulder bag or tote carried?', kind='bool'),
    AttributeSpec(
        'carrying', 'Anything else carried or held (umbrella, '
        'phone, box, ...)?',
        kind='bool'),
) + _CONTEXT)

VEHICLE_SCHEMA = AttributeSchema('vehicle', (
    AttributeSpec(
        'vehicle_type', 'Body type.',
        ('sedan', 'suv', 'hatchback', 'mpv', 'pickup', 'van', 'bus', 'truck')),
    AttributeSpec('color', 'Main body colour.'),
    AttributeSpec('brand', 'Make of the vehicle, if recognisable.'),
    AttributeSpec('wear', 'Condition of the body.', ('new', 'used', 'worn')),
    AttributeSpec('windows', 'Window appearance (tint, shape).'),
    AttributeSpec('headlights', 'Headlight shape and state (on/off).'),
    AttributeSpec('taillights', 'Taillight shape.'),
    AttributeSpec('grille', 'Grille shape.'),
    AttributeSpec('roof', 'Roof shape.'),
    AttributeSpec('tires', 'Tire and rim appearance.'),
    AttributeSpec('bumpers', 'Bumper condition.'),
    AttributeSpec('mirrors', 'Side mirror condition.'),
    AttributeSpec('license_plate', 'Is a license plate visible?', kind='bool'),
    AttributeSpec('spoiler', 'Rear spoiler present?', kind='bool'),
    AttributeSpec('roof_rack', 'Roof rack present?', kind='bool'),
    AttributeSpec('exhaust', 'Exhaust pipes (hidden, single, dual).'),
) + _CONTEXT)

SCHEMAS: Dict[str, AttributeSchema] = {
    'person': PERSON_SCHEMA,
    'vehicle': VEHICLE_SCHEMA,
}

#: Datasets whose objects are vehicles (others default to persons).
VEHICLE_DATASETS = ('RGBNT100', 'MSVR310', 'WMVEID863', 'RGBN300')


def get_schema(object_type: str) -> AttributeSchema:
    """The built-in schema for ``'person'`` or ``'vehicle'``."""
    if object_type not in SCHEMAS:
        raise KeyError(f'No attribute schema for {object_type!r}; choose '
                       f'one of {sorted(SCHEMAS)} or pass a schema file.')
    return SCHEMAS[object_type]


def object_type_for_dataset(name: str) -> str:
    """``'vehicle'`` for the vehicle benchmarks, ``'person'`` otherwise."""
    upper = name.upper()
    return 'vehicle' if any(v in upper for v in VEHICLE_DATASETS) else \
        'person'
