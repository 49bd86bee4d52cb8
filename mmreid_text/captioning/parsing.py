# Copyright (c) mmreid_text contributors. All rights reserved.
"""Validation of model replies.

An attribute reply must be one JSON object ``{name: {"value": ...,
"confidence": number in [0, 1]}}`` (optionally wrapped as
``{"attributes": {...}}`` and/or inside a Markdown code fence).  Anything
else raises ``MalformedReplyError``; the pipeline re-asks the model and
finally records a failure for the image.  Nothing is guessed: an attribute
the reply leaves out is stored as ``unknown`` with confidence 0 (flagged
``missing``), and a reply that covers less than ``min_present_fraction`` of
the schema is malformed.
"""
import json
import re
from typing import Any, Dict

from .schemas import AttributeSchema

Attribute = Dict[str, Any]
AttributeSet = Dict[str, Attribute]

UNKNOWN_VALUE = 'unknown'
_UNKNOWN_VALUES = {
    '', 'unknown', 'unclear', 'none', 'n/a', 'na', 'null', 'not visible',
    'not sure', 'uncertain', 'unsure', 'cannot determine', 'undetermined',
    'indeterminate', 'not applicable', 'not discernible', 'unidentifiable',
    'not identifiable', 'unrecognizable'
}
_NEGATIVE = {
    'no', 'false', 'none', 'absent', 'not present', 'not carrying',
    'not wearing', 'not visible', 'nothing', 'without'
}
_POSITIVE = {'yes', 'true', 'present', 'visible', 'carrying', 'wearing'}
_FENCE = re.compile(r'```(?:json|JSON)?\s*(.*?)```', re.DOTALL)


class MalformedReplyError(ValueError):
    """A model reply is not the requested JSON structure."""


def is_unknown(value: Any) -> bool:
    """Whether an attribute value carries no information."""
    if value is None:
        return True
    text = str(value).strip().lower().rstrip('.')
    return text in _UNKNOWN_VALUES


def _normalise_value(value: Any, kind: str) -> str:
    if value is None:
        return UNKNOWN_VALUE
    if isinstance(value, bool):
        value = 'yes' if value else 'no'
    elif isinstance(value, (list, tuple)):
        value = ', '.join(str(v) for v in value)
    text = ' '.join(str(value).split()).strip()
    lowered = text.lower().rstrip('.')
    if kind == 'bool':
        if lowered in _NEGATIVE:
            return 'no'
        if lowered in _POSITIVE:
            return 'yes'
    if is_unknown(lowered):
        return UNKNOWN_VALUE
    return text


def extract_json_object(text: str) -> Any:
    """Decode the JSON object of a reply (code fences and prose around the
    outermost braces are tolerated)."""
    if not isinstance(text, str) or not text.strip():
        raise MalformedReplyError('empty reply')
    candidates = [text.strip()]
    candidates += [m.strip() for m in _FENCE.findall(text)]
    start, end = text.find('{'), text.rfind('}')
    if 0 <= start < end:
        candidates.append(text[start:end + 1])
    last_error = None
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except (json.JSONDecodeError, RecursionError) as err:
            last_error = err
    raise MalformedReplyError(f'reply is not JSON ({last_error}): '
                              f'{text[:120]!r}')


def _confidence(name: str, raw: Any) -> float:
    if isinstance(raw, bool):
        raise MalformedReplyError(f'attribute {name!r}: confidence is a '
                                  'boolean')
    try:
        conf = float(raw)
    except (TypeError, ValueError):
        raise MalformedReplyError(
            f'attribute {name!r}: confidence {raw!r} is not a number')
    if not 0.0 <= conf <= 1.0:
        raise MalformedReplyError(
            f'attribute {name!r}: confidence {conf} is outside [0, 1]')
    return conf


def parse_attribute_reply(text: str,
                          schema: AttributeSchema,
                          min_present_fraction: float = 0.5) -> AttributeSet:
    """Validate an attribute reply and normalise it to the schema.

    Args:
        text: Raw reply content.
        schema: The schema the instruction asked for.
        min_present_fraction: Fewest schema attributes (as a fraction) the
            reply must contain.

    Returns:
        ``{name: {'value': str, 'confidence': float}}`` for every schema
        attribute, in schema order (missing ones flagged ``missing``).

    Raises:
        MalformedReplyError: with the reason.
    """
    data = extract_json_object(text)
    if isinstance(data, dict) and isinstance(data.get('attributes'), dict):
        data = data['attributes']
    if not isinstance(data, dict):
        raise MalformedReplyError(
            f'reply JSON is a {type(data).__name__}, expected an object of '
            'attributes')
    lowered = {
        str(k).strip().lower().replace(' ', '_'): v
        for k, v in data.items()
    }
    result: AttributeSet = {}
    present = 0
    for spec in schema.attributes:
        entry = lowered.get(spec.name)
        if entry is None:
            result[spec.name] = {
                'value': UNKNOWN_VALUE,
                'confidence': 0.0,
                'missing': True
            }
            continue
        if not isinstance(entry, dict) or 'value' not in entry or \
                'confidence' not in entry:
            raise MalformedReplyError(
                f'attribute {spec.name!r} must be {{"value": ..., '
                f'"confidence": ...}}, got {entry!r}'[:200])
        present += 1
        result[spec.name] = {
            'value': _normalise_value(entry['value'], spec.kind),
            'confidence': _confidence(spec.name, entry['confidence'])
        }
    needed = min_present_fraction * len(schema.attributes)
    if present == 0 or present < needed:
        raise MalformedReplyError(
            f'reply has {present} of the {len(schema.attributes)} requested '
            f'attributes (keys: {sorted(lowered)[:8]})')
    return result


def clean_text_reply(text: Any, max_words: int = 400) -> str:
    """Validate a free-text reply (caption or description).

    Strips code fences, surrounding quotes and white space; raises
    ``MalformedReplyError`` when nothing is left or the reply is longer than
    ``max_words`` words (a run-away generation).
    """
    if not isinstance(text, str):
        raise MalformedReplyError('reply has no text content')
    fenced = _FENCE.findall(text)
    if fenced:
        text = fenced[0]
    text = ' '.join(text.split()).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in '"\'':
        text = text[1:-1].strip()
    if not text:
        raise MalformedReplyError('empty reply')
    if len(text.split()) > max_words:
        raise MalformedReplyError(
            f'reply has {len(text.split())} words, more than {max_words}')
    return text
