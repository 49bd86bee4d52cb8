# Copyright (c) mmreid_text contributors. All rights reserved.
"""Instruction templates of the caption pipeline.

Three templates, each a ``str.format`` string that can be replaced from the
command line / config:

* ``ATTRIBUTE_TEMPLATE`` (NEXT IV-A): asks a vision model for a JSON object
  of attributes, each with a value and a confidence in [0, 1].  Fields:
  ``{object}``, ``{modality_description}``, ``{modality_note}``,
  ``{attribute_lines}``, ``{example}`` (literal braces doubled).
* ``COMPOSE_TEMPLATE`` (NEXT IV-B, caption generation): asks a language
  model to turn the merged attribute set into one caption.  Fields:
  ``{object}``, ``{modality_description}``, ``{attributes_json}``,
  ``{sentence_plan}``.
* ``DESCRIBE_TEMPLATE`` (EEES ESE): the free-text request, by default the
  paper's "Please describe the characteristics of the pedestrian image".
  Fields: ``{object}``, ``{modality_description}`` (unused by the default).

Every template contributes to the cache key through ``prompt_hash``, so
changing a template re-queries the models instead of reusing old replies.
"""
import hashlib
import json
from typing import Any, Dict

from .schemas import AttributeSchema

MODALITY_DESCRIPTIONS: Dict[str, str] = {
    'rgb': 'a visible-light (RGB) image',
    'vis': 'a visible-light (RGB) image',
    'nir': 'a near-infrared (NIR) image',
    'tir': 'a thermal-infrared (TIR) image',
    'ir': 'an infrared image',
}

#: What a modality cannot show (added to the attribute instruction).
MODALITY_NOTES: Dict[str, str] = {
    'nir':
    'Near-infrared images are grey-scale: colours are not '
    'observable, so give colour attributes the value "unknown".',
    'tir':
    'Thermal images show heat, not colour or print: give colour '
    'attributes the value "unknown".',
    'ir':
    'Infrared images are grey-scale: colours are not observable, so '
    'give colour attributes the value "unknown".',
}

ATTRIBUTE_TEMPLATE = (
    'You are given {modality_description} of a {object} cropped from a '
    'surveillance camera. {modality_note}Identify the attributes listed '
    'below. For every '
    'attribute give your best value and a confidence between 0 and 1 that '
    'says how sure you are from what is visible in this image. Use the '
    'value "unknown" with a low confidence when the image does not show '
    'the attribute; do not guess.\n'
    'Attributes (suggested values in brackets):\n{attribute_lines}\n'
    'Reply with one JSON object and nothing else, with exactly these keys, '
    'each mapping to {{"value": string, "confidence": number}}, e.g.\n'
    '{example}')

COMPOSE_TEMPLATE = (
    'Write one English paragraph describing the {object} in '
    '{modality_description}, strictly following this sentence plan and '
    'using ONLY the attributes given below (the most confident ones from '
    'several models and modalities). Leave out every attribute whose value '
    'is "unknown"; never write the words unknown, unclear or none. Do not '
    'mention confidences.\nSentence plan: {sentence_plan}\n'
    'Attributes (JSON): {attributes_json}\n'
    'Reply with the paragraph only.')

DESCRIBE_TEMPLATE = 'Please describe the characteristics of the pedestrian ' \
    'image.'

SENTENCE_PLANS: Dict[str, str] = {
    'person':
    '1) gender/age with view, capture time and lighting; '
    '2) upper and lower clothing with colours and footwear; 3) hairstyle, '
    'headwear and glasses; 4) carried items (backpack, handbag, others); '
    '5) image clarity.',
    'vehicle':
    '1) colour, brand and type with view and lighting; '
    '2) body wear and windows; 3) head- and taillights and grille; '
    '4) roof, tires, bumpers and mirrors; 5) license plate, spoiler, roof '
    'rack and exhaust; 6) image clarity.',
}


def modality_description(modality: str) -> str:
    return MODALITY_DESCRIPTIONS.get(modality, f'a {modality} image')


def attribute_prompt(schema: AttributeSchema,
                     modality: str,
                     template: str = ATTRIBUTE_TEMPLATE) -> str:
    """The attribute instruction for one modality."""
    lines = []
    for spec in schema.attributes:
        hint = f' [{", ".join(spec.choices)}]' if spec.choices else ''
        if spec.kind == 'bool':
            hint = ' [yes, no, or a short description if present]'
        lines.append(f'- {spec.name}: {spec.question}{hint}')
    example_keys = schema.names[:2]
    example = json.dumps(
        {name: {
            'value': '...',
            'confidence': 0.9
        }
         for name in example_keys})[:-1] + ', ...}'
    return template.format(
        object=schema.object_type,
        modality_description=modality_description(modality),
        modality_note=(MODALITY_NOTES[modality] +
                       ' ') if modality in MODALITY_NOTES else '',
        attribute_lines='\n'.join(lines),
        example=example)


def compose_prompt(object_type: str,
                   modality: str,
                   attributes: Dict[str, Any],
                   template: str = COMPOSE_TEMPLATE) -> str:
    """The caption-composition instruction for one modality image."""
    plain = {name: entry['value'] for name, entry in attributes.items()}
    return template.format(
        object=object_type,
        modality_description=modality_description(modality),
        attributes_json=json.dumps(plain, ensure_ascii=False),
        sentence_plan=SENTENCE_PLANS.get(object_type, ''))


def describe_prompt(object_type: str,
                    modality: str,
                    template: str = DESCRIBE_TEMPLATE) -> str:
    """The free-text description instruction (EEES ESE)."""
    return template.format(
        object=object_type,
        modality_description=modality_description(modality))


def prompt_hash(*parts: Any) -> str:
    """Short stable hash of JSON-serialisable prompt ingredients."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode('utf-8')).hexdigest()[:16]
