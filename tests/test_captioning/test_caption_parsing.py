# Copyright (c) mmreid_text contributors. All rights reserved.
import json

import pytest

from mmreid_text.captioning import (PERSON_SCHEMA, VEHICLE_SCHEMA,
                                    AttributeSchema, MalformedReplyError,
                                    TemplateComposer, clean_text_reply,
                                    is_unknown, parse_attribute_reply)
from mmreid_text.captioning.prompts import (attribute_prompt, compose_prompt,
                                            describe_prompt, prompt_hash)


def full_reply(**overrides):
    data = {
        n: {
            'value': 'unknown',
            'confidence': 0.1
        }
        for n in PERSON_SCHEMA.names
    }
    for name, (value, conf) in overrides.items():
        data[name] = {'value': value, 'confidence': conf}
    return data


def test_parse_valid_fenced_and_wrapped():
    reply = full_reply(gender=('Male', 0.9), backpack=('Not carrying', 0.8))
    for text in (json.dumps(reply), '```json\n' + json.dumps(reply) + '```',
                 'Sure! ' + json.dumps({'attributes': reply}) + ' Done.'):
        attrs = parse_attribute_reply(text, PERSON_SCHEMA)
        assert list(attrs) == PERSON_SCHEMA.names
        assert attrs['gender'] == {'value': 'Male', 'confidence': 0.9}
        assert attrs['backpack']['value'] == 'no'  # bool normalised


@pytest.mark.parametrize('text, message', [
    ('', 'empty'),
    ('{"gender": {"value": "male", "conf', 'not JSON'),
    ('[1, 2]', 'expected an object'),
    (json.dumps(full_reply(age=('adult', 1.5))), 'outside'),
    (json.dumps(full_reply(age=('adult', 'high'))), 'not a number'),
    (json.dumps(full_reply(age=('adult', True))), 'boolean'),
    (json.dumps({'gender': 'male'}), 'must be'),
    (json.dumps({'gender': {
        'value': 'male',
        'confidence': 0.9
    }}), '1 of the 19'),
])
def test_parse_malformed(text, message):
    with pytest.raises(MalformedReplyError, match=message):
        parse_attribute_reply(text, PERSON_SCHEMA)


def test_missing_attributes_are_unknown_not_guessed():
    reply = full_reply(gender=('female', 0.8))
    del reply['handbag'], reply['glasses']
    attrs = parse_attribute_reply(json.dumps(reply), PERSON_SCHEMA)
    assert attrs['handbag'] == {
        'value': 'unknown',
        'confidence': 0.0,
        'missing': True
    }
    with pytest.raises(MalformedReplyError):
        parse_attribute_reply(json.dumps(reply), PERSON_SCHEMA, 1.0)


def test_unknown_values_and_text_replies():
    assert is_unknown('Unclear.') and is_unknown(None) and is_unknown('N/A')
    assert not is_unknown('black')
    assert clean_text_reply('```\n"A man in red."\n```') == 'A man in red.'
    with pytest.raises(MalformedReplyError):
        clean_text_reply('   ')
    with pytest.raises(MalformedReplyError):
        clean_text_reply(None)
    with pytest.raises(MalformedReplyError, match='more than'):
        clean_text_reply('word ' * 500)


def test_prompts_cover_schema_and_modality():
    prompt = attribute_prompt(PERSON_SCHEMA, 'tir')
    for name in PERSON_SCHEMA.names:
        assert f'- {name}:' in prompt
    assert 'thermal' in prompt and 'colour' in prompt
    assert 'thermal' not in attribute_prompt(PERSON_SCHEMA, 'rgb')
    assert '"confidence"' in prompt
    vehicle = attribute_prompt(VEHICLE_SCHEMA, 'rgb')
    assert '- license_plate:' in vehicle and 'vehicle' in vehicle
    composed = compose_prompt('person', 'nir',
                              {'gender': {
                                  'value': 'male',
                                  'confidence': 0.9
                              }})
    assert '{"gender": "male"}' in composed
    assert describe_prompt('person', 'rgb') == \
        'Please describe the characteristics of the pedestrian image.'
    assert prompt_hash('a') != prompt_hash('b')


def test_schema_round_trip():
    data = PERSON_SCHEMA.to_dict()
    assert AttributeSchema.from_dict(data) == PERSON_SCHEMA
    with pytest.raises(ValueError, match='object_type'):
        AttributeSchema.from_dict({'attributes': []})


def a(value, conf=0.9):
    return {'value': value, 'confidence': conf}


def test_template_composer_person():
    composer = TemplateComposer('person')
    attrs = {
        'gender': a('female'),
        'age': a('young adult'),
        'upper_clothing': a('jacket'),
        'upper_color': a('black'),
        'lower_clothing': a('jeans'),
        'lower_color': a('blue'),
        'hairstyle': a('long'),
        'glasses': a('no'),
        'backpack': a('yes'),
        'handbag': a('no'),
        'view': a('back'),
        'capture_time': a('nighttime'),
        'illumination': a('dim'),
        'target_clarity': a('blurry'),
        'footwear': a('unknown', 0.1),
    }
    text = composer(attrs, 'tir')
    assert text == (
        'A young adult woman seen from the back in dim nighttime light. '
        'She wears a black jacket and blue jeans. She has long hair and '
        'wears no glasses. She carries a backpack. The thermal-infrared '
        'spectrum image appears blurry.')
    assert composer(attrs, 'tir') == text  # deterministic
    assert composer({}, 'rgb') == 'A person.'
    neither = composer({'backpack': a('no'), 'handbag': a('no')}, 'rgb')
    assert 'carries neither a backpack nor a handbag' in neither
    described = composer({'handbag': a('red leather')}, 'rgb')
    assert 'carries a red leather handbag' in described


def test_template_composer_vehicle_and_errors():
    text = TemplateComposer('vehicle')({
        'color': a('white'),
        'brand': a('Audi'),
        'vehicle_type': a('SUV'),
        'headlights': a('round'),
        'grille': a('hexagonal'),
        'license_plate': a('yes'),
        'spoiler': a('no'),
        'exhaust': a('unknown', 0.0),
    }, 'rgb')
    assert text.startswith('A white Audi SUV.')
    assert 'round headlights and hexagonal grille' in text
    assert 'License plate is visible. Spoiler is not present.' in text
    assert 'unknown' not in text
    with pytest.raises(KeyError, match='composer'):
        TemplateComposer('bicycle')
