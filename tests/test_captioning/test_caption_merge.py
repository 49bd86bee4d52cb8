# Copyright (c) mmreid_text contributors. All rights reserved.
"""Merge / complement rules on hand-written attribute sets."""
import pytest

from mmreid_text.captioning import (ComplementRules, complement_modalities,
                                    merge_models)


def a(value, confidence):
    return {'value': value, 'confidence': confidence}


def test_merge_picks_most_confident_model():
    merged = merge_models({
        'gpt': {
            'age': a('adult', 0.6),
            'gender': a('male', 0.9)
        },
        'qwen': {
            'age': a('young adult', 0.8),
            'gender': a('female', 0.4)
        },
    })
    assert merged['age'] == {
        'value': 'young adult',
        'confidence': 0.8,
        'model': 'qwen'
    }
    assert merged['gender']['model'] == 'gpt'


def test_merge_known_value_beats_confident_unknown():
    per_model = {
        'gpt': {
            'backpack': a('unknown', 0.95)
        },
        'qwen': {
            'backpack': a('yes', 0.3)
        },
    }
    assert merge_models(per_model)['backpack']['value'] == 'yes'
    plain = merge_models(per_model, prefer_known=False)
    assert plain['backpack']['value'] == 'unknown'


def test_merge_ties_follow_model_order_and_missing_models():
    per_model = {
        'gpt': {
            'view': a('front', 0.7)
        },
        'qwen': {
            'view': a('back', 0.7)
        }
    }
    assert merge_models(per_model, ['gpt', 'qwen'])['view']['model'] == 'gpt'
    assert merge_models(per_model, ['qwen', 'gpt'])['view']['model'] == \
        'qwen'
    # a failed model is absent; the other one is used alone
    only = merge_models({'qwen': {'view': a('side', 0.2)}}, ['gpt', 'qwen'])
    assert only['view']['model'] == 'qwen'


def test_complement_fills_from_most_confident_other_modality():
    sets = {
        'rgb': {
            'backpack': a('unknown', 0.0),
            'gender': a('male', 0.9)
        },
        'nir': {
            'backpack': a('yes', 0.7),
            'gender': a('male', 0.3)
        },
        'tir': {
            'backpack': a('yes', 0.9),
            'gender': a('unknown', 0.1)
        },
    }
    out = complement_modalities(sets)
    assert out['rgb']['backpack'] == {
        'value': 'yes',
        'confidence': 0.9,
        'from_modality': 'tir'
    }
    # low confidence (0.3 < 0.5) is rechecked, known or not
    assert out['nir']['gender']['from_modality'] == 'rgb'
    assert out['tir']['gender']['value'] == 'male'
    # confident attributes are kept
    assert out['tir']['backpack'] == a('yes', 0.9)
    # inputs untouched
    assert sets['rgb']['backpack'] == a('unknown', 0.0)


def test_complement_respects_not_carried_and_modality_specific():
    sets = {
        'rgb': {
            'upper_color': a('red', 0.9),
            'target_clarity': a('unknown', 0.0)
        },
        'tir': {
            'upper_color': a('white', 0.8),
            'target_clarity': a('blurry', 0.9)
        },
    }
    out = complement_modalities(sets)
    # thermal cannot carry colour: not filled, its own value blanked
    assert out['tir']['upper_color']['value'] == 'unknown'
    assert out['tir']['upper_color']['not_carried'] is True
    # and a thermal colour is never a source for RGB
    rgb_only = complement_modalities({
        'rgb': {
            'upper_color': a('unknown', 0.0)
        },
        'tir': {
            'upper_color': a('white', 0.99)
        }
    })
    assert rgb_only['rgb']['upper_color']['value'] == 'unknown'
    # image-specific attributes are never copied
    assert out['rgb']['target_clarity']['value'] == 'unknown'
    keep = complement_modalities(
        sets, ComplementRules(not_carried={}, blank_not_carried=False))
    assert keep['tir']['upper_color']['value'] == 'white'


def test_complement_thresholds():
    sets = {
        'rgb': {
            'handbag': a('no', 0.45)
        },
        'nir': {
            'handbag': a('yes', 0.55)
        },
        'tir': {
            'handbag': a('unknown', 0.0)
        },
    }
    out = complement_modalities(sets)
    # 0.55 < min_source_confidence 0.6: nothing to take
    assert out['rgb']['handbag'] == a('no', 0.45)
    assert out['tir']['handbag']['value'] == 'unknown'
    rules = ComplementRules(min_source_confidence=0.5)
    out = complement_modalities(sets, rules)
    assert out['rgb']['handbag']['value'] == 'yes'
    assert out['tir']['handbag']['from_modality'] == 'nir'
    # a source no more confident than the weak value does not replace it
    out = complement_modalities(
        {
            'rgb': {
                'age': a('adult', 0.4)
            },
            'nir': {
                'age': a('child', 0.4)
            }
        }, ComplementRules(min_source_confidence=0.1))
    assert out['rgb']['age']['value'] == 'adult'


def test_rules_from_dict():
    rules = ComplementRules.from_dict({
        'not_carried': {
            'tir': ['color']
        },
        'modality_specific': [],
        'low_confidence': 0.3
    })
    assert rules.carries('nir', 'color') and not rules.carries('tir', 'color')
    assert rules.to_dict()['not_carried'] == {'tir': ['color']}
    with pytest.raises(ValueError, match='Unknown complement rule keys'):
        ComplementRules.from_dict({'low_conf': 0.3})
