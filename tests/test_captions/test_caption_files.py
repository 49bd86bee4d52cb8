# Copyright (c) mmreid_text contributors. All rights reserved.
"""Caption file format and the text rules (the 77-token rule)."""
import pytest

from mmreid_text.captions import (CaptionFileError, build_caption_data,
                                  load_caption_file, save_caption_file)
from mmreid_text.captions.text import (CaptionTooLongError, clip_token_counter,
                                       count_words, fit_to_context,
                                       has_unknown_words, split_sentences)


def test_caption_file_round_trip(tmp_path):
    data = build_caption_data(
        'RGBNT201', 'train_171', 'unit test', {
            'train_171/RGB/x.jpg': {
                'rgb': 'A man.'
            },
            'train_171/NI/x.jpg': {
                'nir': {
                    'text': 'A man.',
                    'attributes': {
                        'gender': {
                            'value': 'male',
                            'confidence': 1
                        }
                    }
                }
            },
        })
    path = str(tmp_path / 'sub' / 'train_171.json')
    save_caption_file(path, data)
    loaded = load_caption_file(path)
    assert loaded == data
    assert loaded['captions']['train_171/RGB/x.jpg'] == {
        'rgb': {
            'text': 'A man.'
        }
    }
    assert list(tmp_path.joinpath('sub').iterdir())[0].name == \
        'train_171.json'  # no temp file left


@pytest.mark.parametrize('content, message', [
    ('[{"item": "a.jpg", "description": "x"}]', 'JSON list'),
    ('{"format": "other"}', '"format"'),
    ('{"format": "mmreid_text.captions.v1", "dataset": "D", "split": "s",'
     ' "source": "x", "captions": {"a.jpg": {"rgb": {"txt": "x"}}}}',
     r"captions\['a.jpg'\]\['rgb'\]"),
    ('{"format": "mmreid_text.captions.v1", "dataset": "D", "split": "s",'
     ' "source": "x", "captions": {"/abs/a.jpg": {"rgb": {"text": "x"}}}}',
     'relative POSIX path'),
    ('{"format": "mmreid_text.captions.v1", "dataset": "D", "split": "s",'
     ' "source": "x", "captions": {"a.jpg": {"rgb": {"text": "x", '
     '"attributes": {"age": {"value": "a"}}}}}}', 'confidence'),
    ('{not json', 'not valid JSON'),
])
def test_caption_file_errors_name_the_problem(tmp_path, content, message):
    path = tmp_path / 'bad.json'
    path.write_text(content)
    with pytest.raises(CaptionFileError, match=message) as err:
        load_caption_file(str(path))
    assert 'bad.json' in str(err.value)


def test_missing_caption_file_says_how_to_fix(tmp_path):
    with pytest.raises(CaptionFileError, match='generate.py'):
        load_caption_file(str(tmp_path / 'nope.json'))


def test_text_utilities():
    text = 'A man in red.  He carries a bag! Is it blue? yes'
    assert split_sentences(text) == [
        'A man in red.', 'He carries a bag!', 'Is it blue?', 'yes'
    ]
    assert count_words("A t-shirt, the man's bag.") == 5
    assert has_unknown_words('He is carrying none.')
    assert has_unknown_words('Hair: Unknown')
    assert not has_unknown_words('nonetheless, an unknowable thing')


LONG = ('A Volkswagen sedan viewed from the diagonal in dim nighttime light '
        '(image appears clear). The vehicle shows used wear with tinted '
        'flat windows. It features off rectangular headlights and angular '
        'taillights, complemented by a horizontal grille with rounded '
        'edges. The clean sloped roof sits above new medium regular tires '
        'with intact bumpers. Side mirrors are intact. License plate is '
        'visible. Spoiler is not present. Roof rack is not present. '
        'Exhaust system features hidden pipes.')


def test_fit_to_context_rules():
    count = clip_token_counter('ViT-B-16')
    assert count('') == 2 and count('a photo') == 4
    assert count(LONG) > 77
    fitted = fit_to_context(LONG, count)
    assert count(fitted) <= 77
    sentences = split_sentences(LONG)
    kept = split_sentences(fitted)
    assert kept == sentences[:len(kept)]  # whole sentences, in order
    assert count(' '.join(sentences[:len(kept) + 1])) > 77
    truncated = fit_to_context(LONG, count, rule='truncate')
    assert count(truncated) <= 77 and LONG.startswith(truncated)
    assert len(truncated) >= len(fitted)
    assert fit_to_context(LONG, count, rule='none') == LONG
    short = 'A man in red.'
    assert fit_to_context(short, count, rule='error') == short
    with pytest.raises(CaptionTooLongError, match='overflow'):
        fit_to_context(LONG, count, rule='error', where='x.jpg [rgb]')
    # a first sentence longer than the context is cut at a word
    one = ' '.join(['red'] * 100) + '.'
    cut = fit_to_context(one, count, context_length=20)
    assert count(cut) <= 20 and cut == ' '.join(['red'] * 18)
    with pytest.raises(ValueError, match='Unknown overflow'):
        fit_to_context(LONG, count, rule='cut')
