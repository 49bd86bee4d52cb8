# Copyright (c) mmreid_text contributors. All rights reserved.
"""Multi-model merge and cross-modality complement (NEXT Sec. IV-B).

Step 1, merge (per image): for each attribute keep the value of the model
with the highest confidence.  A known value beats an ``unknown`` one
whatever the confidences (``prefer_known``); ties go to the model listed
first.  The chosen entry records its ``model``.

Step 2, complement (per sample, across the images of its modalities): an
attribute of modality ``m`` that is unknown or has confidence below
``low_confidence`` is replaced by the most confident known value of the
same attribute in another modality ``n`` when

* ``m`` can carry the attribute (``not_carried[m]`` lists what it cannot,
  e.g. colours in thermal images) and ``n`` can carry it too,
* the attribute is not in ``modality_specific`` (properties of the image
  itself, e.g. target clarity),
* the source confidence is at least ``min_source_confidence`` and higher
  than the confidence it replaces.

The replaced entry records ``from_modality``.  Attributes a modality cannot
carry are set to ``unknown`` there when ``blank_not_carried`` is true (a
colour read from a thermal image is a hallucination), so captions of that
modality never state them.
"""
from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional, Sequence, Tuple

from .parsing import UNKNOWN_VALUE, AttributeSet, is_unknown

_COLOURS_PERSON = ('upper_color', 'lower_color', 'hair_color',
                   'footwear_color')
_COLOURS_VEHICLE = ('color', )
_NO_COLOUR = _COLOURS_PERSON + _COLOURS_VEHICLE


@dataclass
class ComplementRules:
    """The rule table of the complement step (a config dict)."""
    not_carried: Dict[str, Tuple[str, ...]] = field(default_factory=lambda: {
        'nir': _NO_COLOUR,
        'tir': _NO_COLOUR,
        'ir': _NO_COLOUR,
    })
    modality_specific: Tuple[str, ...] = ('target_clarity', )
    low_confidence: float = 0.5
    min_source_confidence: float = 0.6
    blank_not_carried: bool = True
    prefer_known: bool = True

    @classmethod
    def from_dict(cls, cfg: Optional[Mapping]) -> 'ComplementRules':
        """Build from a config dict; unknown keys and values of the wrong
        type are an error naming the key."""
        if cfg is None:
            return cls()
        if not isinstance(cfg, Mapping):
            raise ValueError('The complement rule table must be a JSON '
                             f'object, got {type(cfg).__name__}')
        allowed = set(cls.__dataclass_fields__)
        unknown = set(cfg) - allowed
        if unknown:
            raise ValueError(f'Unknown complement rule keys {sorted(unknown)}'
                             f'; allowed: {sorted(allowed)}')
        kwargs = dict(cfg)

        def names(key: str, value) -> Tuple[str, ...]:
            if not isinstance(value, (list, tuple)) or not all(
                    isinstance(v, str) for v in value):
                raise ValueError(f'Complement rule {key!r} must be a list '
                                 f'of attribute names, got {value!r}')
            return tuple(value)

        if 'not_carried' in kwargs:
            table = kwargs['not_carried']
            if not isinstance(table, Mapping):
                raise ValueError('Complement rule "not_carried" must be an '
                                 '{modality: [attribute names]} object, got '
                                 f'{table!r}')
            kwargs['not_carried'] = {
                m: names(f'not_carried.{m}', v)
                for m, v in table.items()
            }
        if 'modality_specific' in kwargs:
            kwargs['modality_specific'] = names('modality_specific',
                                                kwargs['modality_specific'])
        for key in ('low_confidence', 'min_source_confidence'):
            if key in kwargs:
                value = kwargs[key]
                if isinstance(value, bool) or not isinstance(
                        value, (int, float)) or not 0 <= value <= 1:
                    raise ValueError(f'Complement rule {key!r} must be a '
                                     f'number in [0, 1], got {value!r}')
                kwargs[key] = float(value)
        for key in ('blank_not_carried', 'prefer_known'):
            if key in kwargs and not isinstance(kwargs[key], bool):
                raise ValueError(f'Complement rule {key!r} must be true or '
                                 f'false, got {kwargs[key]!r}')
        return cls(**kwargs)

    def to_dict(self) -> dict:
        return {
            'not_carried': {
                m: list(v)
                for m, v in self.not_carried.items()
            },
            'modality_specific': list(self.modality_specific),
            'low_confidence': self.low_confidence,
            'min_source_confidence': self.min_source_confidence,
            'blank_not_carried': self.blank_not_carried,
            'prefer_known': self.prefer_known,
        }

    def carries(self, modality: str, attribute: str) -> bool:
        return attribute not in self.not_carried.get(modality, ())


def _rank(attr: Mapping, prefer_known: bool) -> Tuple[int, float]:
    known = 0 if (prefer_known and is_unknown(attr['value'])) else 1
    return known, float(attr['confidence'])


def merge_models(per_model: Mapping[str, AttributeSet],
                 order: Optional[Sequence[str]] = None,
                 prefer_known: bool = True) -> AttributeSet:
    """Per attribute, keep the most confident model's value.

    Args:
        per_model: ``{model_name: {attr: {'value', 'confidence'}}}`` for one
            image; models that failed are simply absent.
        order: Model priority for ties (default: insertion order).
        prefer_known: A known value beats an unknown one.

    Returns:
        ``{attr: {'value', 'confidence', 'model'}}``.
    """
    order = list(order or per_model.keys())
    names = [m for m in order if m in per_model]
    merged: AttributeSet = {}
    attributes = []
    for model in names:
        for attr in per_model[model]:
            if attr not in attributes:
                attributes.append(attr)
    for attr in attributes:
        best, best_rank = None, None
        for model in names:
            entry = per_model[model].get(attr)
            if entry is None:
                continue
            rank = _rank(entry, prefer_known)
            if best_rank is None or rank > best_rank:
                best, best_rank = (model, entry), rank
        model, entry = best
        merged[attr] = {
            'value': entry['value'],
            'confidence': float(entry['confidence']),
            'model': model
        }
    return merged


def complement_modalities(
        per_modality: Mapping[str, AttributeSet],
        rules: Optional[ComplementRules] = None) -> Dict[str, AttributeSet]:
    """Fill unknown / low-confidence attributes from other modalities.

    Args:
        per_modality: ``{modality: merged attribute set}`` of one sample
            (modalities whose images failed are absent).
        rules: The rule table.

    Returns:
        A new ``{modality: attribute set}``; the inputs are not modified.
    """
    rules = rules or ComplementRules()
    result = {
        m: {
            a: dict(v)
            for a, v in attrs.items()
        }
        for m, attrs in per_modality.items()
    }
    for target, attrs in result.items():
        for name, entry in attrs.items():
            if not rules.carries(target, name):
                if rules.blank_not_carried and not is_unknown(entry['value']):
                    attrs[name] = {
                        'value': UNKNOWN_VALUE,
                        'confidence': 0.0,
                        'not_carried': True
                    }
                continue
            if name in rules.modality_specific:
                continue
            weak = is_unknown(entry['value']) or \
                entry['confidence'] < rules.low_confidence
            if not weak:
                continue
            own = 0.0 if is_unknown(entry['value']) else entry['confidence']
            best = None
            for source, source_attrs in per_modality.items():
                if source == target or not rules.carries(source, name):
                    continue
                candidate = source_attrs.get(name)
                if candidate is None or is_unknown(candidate['value']):
                    continue
                conf = float(candidate['confidence'])
                if conf < rules.min_source_confidence or conf <= own:
                    continue
                if best is None or conf > best[1]['confidence']:
                    best = (source, candidate)
            if best is not None:
                source, candidate = best
                filled = dict(candidate)
                filled['from_modality'] = source
                attrs[name] = filled
    return result
