# Copyright (c) mmreid_text contributors. All rights reserved.
import numpy as np
import pytest

from mmreid_text.captions import (build_caption_data, clip_token_counter,
                                  save_caption_file, split_sentences)
from mmreid_text.datasets.transforms.captions import LoadCaptions
from mmreid_text.registry import TRANSFORMS

LONG = ' '.join(f'Sentence number {i} describes the striped backpack of the '
                'pedestrian walking left.' for i in range(8))


@pytest.fixture
def caption_file(tmp_path):
    captions = {
        'train_171/RGB/a.jpg': {
            'rgb': 'A man in red.'
        },
        'train_171/NI/a.jpg': {
            'nir': 'A man. He carries a bag.'
        },
        'train_171/TI/a.jpg': {
            'tir': LONG
        },
        'video/vis/0001/f2.jpg': {
            'vis': 'A walking woman.'
        },
    }
    path = str(tmp_path / 'captions' / 'train_171.json')
    save_caption_file(
        path, build_caption_data('RGBNT201', 'train_171', 'test', captions))
    return path


def sample(**overrides):
    results = {
        'rel_img_path': {
            'rgb': 'train_171/RGB/a.jpg',
            'nir': 'train_171/NI/a.jpg',
            'tir': 'train_171/TI/a.jpg'
        },
        'modalities': ('rgb', 'nir', 'tir'),
    }
    results.update(overrides)
    return results


def test_registered_and_attaches_captions(caption_file):
    step = TRANSFORMS.build(
        dict(type='LoadCaptions', caption_file=caption_file))
    assert isinstance(step, LoadCaptions)
    out = step(sample())
    assert out['captions']['rgb'] == 'A man in red.'
    assert out['captions']['nir'] == 'A man. He carries a bag.'
    count = clip_token_counter()
    assert count(LONG) > 77
    tir = out['captions']['tir']
    assert count(tir) <= 77
    assert split_sentences(tir) == split_sentences(
        LONG)[:len(split_sentences(tir))]
    only = LoadCaptions(caption_file, modalities=('nir', ))(sample())
    assert set(only['captions']) == {'nir'}
    assert 'LoadCaptions(' in repr(step)


def test_overflow_rules(caption_file):
    truncated = LoadCaptions(caption_file, overflow='truncate')(sample())
    assert LONG.startswith(truncated['captions']['tir'])
    raw = LoadCaptions(caption_file, overflow='none')(sample())
    assert raw['captions']['tir'] == LONG
    with pytest.raises(ValueError, match='overflow'):
        LoadCaptions(caption_file, overflow='error')(sample())
    with pytest.raises(ValueError, match='overflow must be'):
        LoadCaptions(caption_file, overflow='drop')


def test_missing_caption_policies(caption_file):
    results = sample(
        rel_img_path={'rgb': 'train_171/RGB/b.jpg'}, modalities=('rgb', ))
    with pytest.raises(KeyError) as err:
        LoadCaptions(caption_file)(dict(results))
    message = str(err.value)
    assert 'train_171/RGB/b.jpg' in message and caption_file in message
    assert 'generate.py' in message and 'on_missing' in message
    empty = LoadCaptions(caption_file, on_missing='empty')(dict(results))
    assert empty['captions'] == {'rgb': ''}
    fallback = LoadCaptions(
        caption_file, on_missing='fallback_template')(
            dict(results))
    assert fallback['captions'] == {
        'rgb': 'An image of a person in the visible spectrum.'
    }
    with pytest.raises(ValueError, match='on_missing'):
        LoadCaptions(caption_file, on_missing='skip')


def test_bad_inputs(caption_file, tmp_path):
    with pytest.raises(KeyError, match='rel_img_path'):
        LoadCaptions(caption_file)({'img_path': {'rgb': 'x.jpg'}})
    with pytest.raises(KeyError, match="modality 'tir'"):
        LoadCaptions(
            caption_file, modalities=('tir', ))({
                'rel_img_path': {
                    'rgb': 'train_171/RGB/a.jpg'
                }
            })
    missing = LoadCaptions(str(tmp_path / 'none.json'))  # lazy: no error
    with pytest.raises(ValueError, match='does not exist'):
        missing(sample())


def test_tracklet_frames_and_sentences(caption_file):
    step = LoadCaptions(caption_file, attach_sentences=True)
    out = step({
        'rel_img_path': {
            'vis': ['video/vis/0001/f1.jpg', 'video/vis/0001/f2.jpg']
        }
    })
    assert out['captions'] == {'vis': 'A walking woman.'}
    assert out['caption_sentences'] == {'vis': ['A walking woman.']}


def test_sentence_sampling(caption_file):
    np.random.seed(0)
    step = LoadCaptions(
        caption_file, sentence_keep_prob=0.5, attach_sentences=True)
    sentences = split_sentences(LONG)
    seen = set()
    for _ in range(20):
        out = step(sample())
        tir = split_sentences(out['captions']['tir'])
        assert tir and all(s in sentences for s in tir)
        assert [sentences.index(s) for s in tir
                ] == sorted(sentences.index(s) for s in tir)  # order kept
        seen.add(out['captions']['tir'])
        assert out['caption_sentences']['tir'] == sentences
        assert out['captions']['rgb'] == 'A man in red.'  # one sentence
    assert len(seen) > 1
    with pytest.raises(ValueError, match='sentence_keep_prob'):
        LoadCaptions(caption_file, sentence_keep_prob=0.0)


def test_with_caption_steps_wires_load_captions_and_meta_keys():
    from mmreid_text.datasets.transforms.captions import with_caption_steps
    pipeline = [
        dict(type='LoadMultiModalImages'),
        dict(type='Resize', scale=(128, 256)),
        dict(type='PackReIDInputs', meta_keys=('pid', ), video=False),
    ]
    out = with_caption_steps(
        pipeline,
        'caps.json', ('pid', 'caption_sentences'),
        on_missing='empty',
        attach_sentences=True)
    assert out == [
        dict(type='LoadMultiModalImages'),
        dict(
            type='LoadCaptions',
            caption_file='caps.json',
            on_missing='empty',
            attach_sentences=True),
        dict(type='Resize', scale=(128, 256)),
        dict(
            type='PackReIDInputs',
            meta_keys=('pid', 'caption_sentences'),
            video=False),
    ]
    assert pipeline[-1]['meta_keys'] == ('pid', )  # input left alone
    with pytest.raises(ValueError, match='must start with an image loader'):
        with_caption_steps(pipeline[1:], 'caps.json', ())
    with pytest.raises(ValueError, match='already has a LoadCaptions'):
        with_caption_steps(out, 'caps.json', ())
