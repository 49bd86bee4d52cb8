# Copyright (c) mmreid_text contributors. All rights reserved.
"""Result cache, backend settings, retries, request messages, sources."""
import base64
import email.utils
import io
import json
import time

import numpy as np
import pytest
from PIL import Image

from mmreid_text.captioning import (BackendConfig, BackendConfigurationError,
                                    ChatBackend, RequestCancelled, ResultCache,
                                    RetryPolicy, build_messages, encode_image,
                                    items_from_data_infos, items_from_paths,
                                    parse_backend_spec, retry_after_seconds,
                                    split_name_from_items)
from mmreid_text.captioning.messages import ImageCheckError


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
    # Retry-After is honoured beyond max_delay, up to max_retry_after
    assert policy.delay(1, retry_after=100) == 100
    assert policy.delay(1, retry_after=10**6) == policy.max_retry_after
    assert policy.exceeds_ceiling(601) and not policy.exceeds_ceiling(600)
    jittered = RetryPolicy(initial_delay=1, jitter=0.25)
    assert all(0.75 <= jittered.delay(1) <= 1.25 for _ in range(20))


def test_encode_image_tiles_and_messages(tmp_path):
    arr = np.zeros((4, 9, 3), dtype=np.uint8)
    arr[:, 3:6] = 255  # middle tile white
    path = str(tmp_path / 'x.jpg')
    Image.fromarray(arr).save(path, quality=100)
    url = encode_image(path, tile=(1, 3), min_side=1)
    assert url.startswith('data:image/png;base64,')
    tile = Image.open(io.BytesIO(base64.b64decode(url.split(',', 1)[1])))
    assert tile.size == (3, 4) and np.asarray(tile).mean() > 240
    raw = encode_image(path, min_side=1)
    assert raw.startswith('data:image/jpeg;base64,')
    with open(path, 'rb') as f:
        assert base64.b64decode(raw.split(',', 1)[1]) == f.read()
    with pytest.raises(ImageCheckError, match='does not exist'):
        encode_image(str(tmp_path / 'missing.jpg'))
    with pytest.raises(ImageCheckError, match='smaller than 8 px'):
        encode_image(path, tile=(1, 3))
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
    assert retry_after_seconds(_Err(**{'retry-after': '3'})) == 3.0
    assert retry_after_seconds(_Err(**{'retry-after-ms': '250'})) == 0.25
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < retry_after_seconds(_Err(**{'retry-after': date})) <= 31
    assert retry_after_seconds(_Err()) is None
    # unreadable values fall back to the normal back-off, never raise
    for value in ('soon', 'nan', 'inf', '-5x', 'Mon, 99 Foo 2024 99:99:99',
                  ' '):
        assert retry_after_seconds(_Err(**{'retry-after': value})) is None
    assert retry_after_seconds(_Err(**{'retry-after': '-3'})) == 0.0
    assert retry_after_seconds(
        _Err(**{
            'retry-after-ms': 'x',
            'retry-after': '2'
        })) == 2.0


def test_backoff_wait_stops_when_asked():
    backend = ChatBackend(
        BackendConfig('a', 'http://127.0.0.1:9/v1', 'm'), client=object())
    calls = []
    backend._wait(0.05, lambda: False)
    with pytest.raises(RequestCancelled):
        backend._wait(10.0, lambda: calls.append(1) or len(calls) > 2)
    assert len(calls) == 3
