# Copyright (c) mmreid_text contributors. All rights reserved.
"""Caption file format, text rules, cache, backends config, sources."""
import base64
import email.utils
import io
import json
import time

import numpy as np
import pytest
from PIL import Image

from mmreid_text.captions import (CaptionFileError, ResultCache, RetryPolicy,
                                  build_caption_data, encode_image,
                                  items_from_data_infos, items_from_paths,
                                  load_caption_file, parse_backend_spec,
                                  save_caption_file, split_name_from_items)
from mmreid_text.captions.backends import (BackendConfig,
                                           BackendConfigurationError,
                                           ChatBackend, RequestCancelled,
                                           _retry_after, build_messages)
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


def test_cache_later_records_win_and_torn_line(tmp_path):
    path = str(tmp_path / 'c.jsonl')
    with ResultCache(path) as cache:
        cache.put('k1', {'status': 'failed'})
        cache.put('k1', {'status': 'ok', 'result': 1})
        cache.put('k2', {'status': 'ok', 'result': 2})
    with open(path, 'a') as f:
        f.write('{"key": "k3", "status": "o')  # killed mid-write
    with ResultCache(path) as cache:
        assert cache.torn_lines == 1 and len(cache) == 2
        assert cache.get('k1')['status'] == 'ok'
        assert cache.get('k3') is None
        cache.put('k3', {'status': 'ok'})
    with ResultCache(path) as cache:
        assert cache.get('k3')['status'] == 'ok' and len(cache) == 3


def test_backend_spec_and_retry_policy(monkeypatch):
    config = parse_backend_spec(
        'name=qwen,base_url=http://127.0.0.1:8000/v1,model=Qwen2.5-VL,'
        'timeout=30,json_mode=true,role=attributes')
    assert config.timeout == 30.0 and config.json_mode is True
    assert config.api_key() == 'EMPTY'
    with pytest.raises(ValueError, match='lacks model'):
        parse_backend_spec('name=a,base_url=http://x')
    with pytest.raises(ValueError, match='unknown key'):
        parse_backend_spec('name=a,base_url=http://x,model=m,colour=red')
    with pytest.raises(ValueError, match='role'):
        BackendConfig('a', 'http://x', 'm', role='judge')
    keyed = BackendConfig(
        'gpt', 'http://x', 'gpt-4o', api_key_env='MMREID_TEXT_TEST_KEY')
    monkeypatch.delenv('MMREID_TEXT_TEST_KEY', raising=False)
    with pytest.raises(
            BackendConfigurationError, match='MMREID_TEXT_TEST_KEY'):
        keyed.api_key()
    monkeypatch.setenv('MMREID_TEXT_TEST_KEY', 'sk-test')
    assert keyed.api_key() == 'sk-test'
    assert 'sk-test' not in json.dumps(keyed.identity())

    policy = RetryPolicy(initial_delay=1, max_delay=10, jitter=0.0)
    assert [policy.delay(k) for k in (1, 2, 3, 5)] == [1, 2, 4, 10]
    assert policy.delay(1, retry_after=7) == 7
    assert policy.delay(1, retry_after=100) == 10
    jittered = RetryPolicy(initial_delay=1, jitter=0.25)
    assert all(0.75 <= jittered.delay(1) <= 1.25 for _ in range(20))


def test_encode_image_tiles_and_messages(tmp_path):
    arr = np.zeros((4, 9, 3), dtype=np.uint8)
    arr[:, 3:6] = 255  # middle tile white
    path = str(tmp_path / 'x.jpg')
    Image.fromarray(arr).save(path, quality=100)
    url = encode_image(path, tile=(1, 3))
    assert url.startswith('data:image/png;base64,')
    tile = Image.open(io.BytesIO(base64.b64decode(url.split(',', 1)[1])))
    assert tile.size == (3, 4) and np.asarray(tile).mean() > 240
    raw = encode_image(path)
    assert raw.startswith('data:image/jpeg;base64,')
    with open(path, 'rb') as f:
        assert base64.b64decode(raw.split(',', 1)[1]) == f.read()
    with pytest.raises(FileNotFoundError):
        encode_image(str(tmp_path / 'missing.jpg'))
    message = build_messages('describe', url, detail='low')[0]
    assert message['content'][1]['image_url'] == {'url': url, 'detail': 'low'}
    assert build_messages('text only') == [{
        'role': 'user',
        'content': 'text only'
    }]


def test_items_from_infos_tiles_frames_and_paths(tmp_path):
    infos = [{
        'img_path': {
            m: '/d/rgbir/bounding_box_train/0001_c1_000.jpg'
            for m in ('rgb', 'nir', 'tir')
        },
        'rel_img_path': {
            m: 'rgbir/bounding_box_train/0001_c1_000.jpg'
            for m in ('rgb', 'nir', 'tir')
        },
        'modalities': ('rgb', 'nir', 'tir'),
    }, {
        'img_path': {
            'vis': ['/d/v/1.jpg', '/d/v/2.jpg']
        },
        'rel_img_path': {
            'vis': ['v/1.jpg', 'v/2.jpg']
        },
    }]
    items = items_from_data_infos(infos)
    assert [(i.modality, i.tile) for i in items[:3]] == [('rgb', (0, 3)),
                                                         ('nir', (1, 3)),
                                                         ('tir', (2, 3))]
    assert len({i.group_key for i in items[:3]}) == 1
    assert items[3].rel_path == 'v/1.jpg' and items[3].tile is None
    with pytest.raises(KeyError, match='rel_img_path'):
        items_from_data_infos([{'img_path': {}}], source='cfg.py')

    listing = tmp_path / 'list.txt'
    listing.write_text('# comment\ntrain/RGB/a.jpg\ntrain/NI/a.jpg\n'
                       'cam3/b.jpg ir\n')
    items = items_from_paths(str(listing), str(tmp_path))
    assert [(i.rel_path, i.modality)
            for i in items] == [('train/RGB/a.jpg', 'rgb'),
                                ('train/NI/a.jpg', 'nir'),
                                ('cam3/b.jpg', 'ir')]
    assert items[0].group == items[1].group == 'train/*/a.jpg'
    assert split_name_from_items(items, 'x') == 'x'
    assert split_name_from_items(items[:2], 'x') == 'train'
    listing.write_text('train/a.jpg\n')
    with pytest.raises(ValueError, match='modality'):
        items_from_paths(str(listing), str(tmp_path))
    with pytest.raises(FileNotFoundError, match='No file matches'):
        items_from_paths('nothing/*.jpg', str(tmp_path))


class _Headers(dict):

    def get(self, key, default=None):
        return super().get(key.lower(), default)


class _Err:

    def __init__(self, **headers):
        self.response = type('R', (), {'headers': _Headers(headers)})()


def test_retry_after_header_forms():
    assert _retry_after(_Err(**{'retry-after': '3'})) == 3.0
    assert _retry_after(_Err(**{'retry-after-ms': '250'})) == 0.25
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < _retry_after(_Err(**{'retry-after': date})) <= 31
    assert _retry_after(_Err()) is None


def test_backoff_wait_stops_when_asked():
    backend = ChatBackend(
        BackendConfig('a', 'http://127.0.0.1:9/v1', 'm'), client=object())
    calls = []
    backend._wait(0.05, lambda: False)
    with pytest.raises(RequestCancelled):
        backend._wait(10.0, lambda: calls.append(1) or len(calls) > 2)
    assert len(calls) == 3
