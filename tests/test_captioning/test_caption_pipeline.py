# Copyright (c) mmreid_text contributors. All rights reserved.
"""End-to-end pipeline tests against a real local chat-completions server.
"""
import re

import pytest
from chat_server_utils import (Reply, ScriptedResponder, default_reply,
                               image_requests, write_multimodal_images)

from mmreid_text.captioning import (BackendConfig, BackendConfigurationError,
                                    CaptionPipeline, ChatBackend, ResultCache,
                                    RetryPolicy, items_from_paths)
from mmreid_text.captioning.prompts import DESCRIBE_TEMPLATE
from mmreid_text.captions import (build_caption_data, load_caption_file,
                                  save_caption_file)

FAST_RETRY = RetryPolicy(
    max_attempts=4, initial_delay=0.01, max_delay=0.05, jitter=0.0)


@pytest.fixture
def image_root(tmp_path):
    root = tmp_path / 'RGBNT201'
    names = write_multimodal_images(str(root), ['A', 'B'])
    return str(root), names


def make_backend(server, name, role='attributes', timeout=2.0):
    config = BackendConfig(
        name=name, base_url=server.url, model=name, role=role, timeout=timeout)
    return ChatBackend(config, FAST_RETRY)


def gpt_and_qwen(server, qwen_timeout=2.0):
    """The two attribute backends of most tests, ``gpt`` first."""
    return [
        make_backend(server, 'gpt'),
        make_backend(server, 'qwen', timeout=qwen_timeout)
    ]


def test_end_to_end_merge_complement_and_faults(chat_server, image_root,
                                                tmp_path):
    root, names = image_root
    responder = ScriptedResponder(names, default_reply)
    responder.script('gpt', 'A/nir', [
        Reply(content='{"gender": {"value": "male", "conf'),
        Reply(status=429, headers={'Retry-After': '0'}),
        Reply(status=500),
    ])
    responder.script('qwen', 'A/nir',
                     [Reply(delay=1.5, content='{"late": true}')])
    responder.script('gpt', 'B/rgb', [Reply(content='not json at all')] * 3)
    responder.script('gpt', 'B/tir', [Reply(status=500)] * 4)
    responder.script('qwen', 'B/tir', [Reply(status=503)] * 4)
    server = chat_server(responder)
    items = items_from_paths('train_171/*/*.png', root)
    assert len(items) == 6
    cache_path = str(tmp_path / 'cache.jsonl')

    def run(retry_failed=True):
        with ResultCache(cache_path) as cache:
            pipeline = CaptionPipeline(
                cache,
                attribute_backends=gpt_and_qwen(server, qwen_timeout=0.5),
                concurrency=3,
                retry_failed=retry_failed,
                progress=False)
            return pipeline.run(items)

    result = run()
    report = result.report
    assert (report['images'], report['done'], report['failed']) == (6, 5, 1)
    assert report['cached'] == 0
    assert report['partial_images'] == 1  # B/rgb: only qwen succeeded
    assert report['failures'][0]['rel_path'] == 'train_171/TI/B.png'
    assert len(report['failures'][0]['errors']) == 2
    gpt, qwen = report['backends']['gpt'], report['backends']['qwen']
    assert gpt['malformed'] == 4 and gpt['rate_limited'] == 1
    assert gpt['server_errors'] == 1 + 4 and qwen['server_errors'] == 4
    assert qwen['timeouts'] == 1
    assert gpt['failed'] == 1 and qwen['failed'] == 1

    caps = result.captions
    rgb = caps['train_171/RGB/A.png']['rgb']
    attrs = rgb['attributes']
    # merge: most confident model per attribute; a known value beats
    # unknown
    assert attrs['gender'] == {
        'value': 'female',
        'confidence': 0.9,
        'model': 'qwen'
    }
    assert attrs['upper_color']['value'] == 'red'
    assert attrs['upper_color']['model'] == 'gpt'
    # complement: low-confidence 'no' replaced by the thermal 'yes' (0.95)
    assert attrs['backpack']['value'] == 'yes'
    assert attrs['backpack']['from_modality'] == 'tir'
    assert attrs['backpack']['model'] == 'gpt'
    # modality-specific attribute is never complemented
    assert attrs['target_clarity']['value'] == 'unknown'
    nir = caps['train_171/NI/A.png']['nir']['attributes']
    assert nir['upper_color']['value'] == 'unknown'  # NIR carries no colour
    assert nir['upper_color'].get('not_carried')
    assert nir['gender']['from_modality'] == 'rgb'
    assert nir['backpack']['value'] == 'yes'  # retried reply was used
    tir = caps['train_171/TI/A.png']['tir']['attributes']
    assert tir['illumination']['value'] == 'dim'
    assert tir['illumination']['from_modality'] == 'rgb'
    assert 'upper_color' not in [
        k for k, v in tir.items() if v.get('from_modality')
    ]
    text = rgb['text']
    assert 'woman' in text and 'red jacket' in text
    assert 'carries a backpack' in text
    assert not re.search(r'\b(unknown|unclear|none)\b', text)
    # B/rgb merged from qwen only (gpt failed)
    b_rgb = caps['train_171/RGB/B.png']['rgb']['attributes']
    assert {a['model'] for a in b_rgb.values()} == {'qwen'}
    assert 'tir' not in caps.get('train_171/TI/B.png', {})

    # written file round-trips through the v1 validator
    out = tmp_path / 'train_171.json'
    save_caption_file(
        str(out), build_caption_data('RGBNT201', 'train_171', 'test', caps))
    assert load_caption_file(str(out))['captions'] == caps

    # rerun without retrying failures: nothing is requested again
    before = len(server.requests)
    second = run(retry_failed=False)
    assert len(server.requests) == before
    assert second.report['cached'] == 5
    assert second.captions == caps

    # rerun retrying failures: only the three failed jobs are requested
    third = run(retry_failed=True)
    assert len(server.requests) == before + 3
    assert third.report['done'] == 6 and third.report['failed'] == 0
    assert third.captions['train_171/RGB/A.png'] == caps['train_171/RGB/A.png']
    ok = image_requests(server)
    assert ok[('gpt', [s for s, n in names.items() if n == 'A/rgb'][0])] == 1


class Interrupt(Exception):
    pass


def test_resume_after_interruption_sends_no_duplicates(chat_server, tmp_path):
    root = str(tmp_path / 'RGBNT201')
    names = write_multimodal_images(root, ['P1', 'P2', 'P3', 'P4'])
    server = chat_server(ScriptedResponder(names, default_reply))
    items = items_from_paths('train_171/*/*.png', root)
    cache_path = str(tmp_path / 'cache.jsonl')
    seen = []

    def stop_after_five(record):
        seen.append(record)
        if len(seen) == 5:
            raise Interrupt

    with ResultCache(cache_path) as cache:
        pipeline = CaptionPipeline(
            cache,
            attribute_backends=gpt_and_qwen(server),
            concurrency=2,
            progress=False,
            on_result=stop_after_five)
        with pytest.raises(Interrupt):
            pipeline.run(items)
    first = len(server.requests)
    assert 5 <= first < 24  # interrupted before the 24 jobs finished
    with open(cache_path) as f:
        assert len(f.readlines()) == first  # every finished job is cached

    with ResultCache(cache_path) as cache:
        pipeline = CaptionPipeline(
            cache,
            attribute_backends=gpt_and_qwen(server),
            concurrency=2,
            progress=False)
        result = pipeline.run(items)
    assert result.report['done'] == 12
    assert len(server.requests) == 24
    counts = image_requests(server)
    assert len(counts) == 24 and set(counts.values()) == {1}


def test_llm_composer_and_cache(chat_server, image_root, tmp_path):
    root, names = image_root
    server = chat_server(ScriptedResponder(names, default_reply))
    items = [
        i for i in items_from_paths('train_171/*/*.png', root)
        if '/A.png' in i.rel_path
    ]

    def run():
        with ResultCache(str(tmp_path / 'c.jsonl')) as cache:
            return CaptionPipeline(
                cache,
                attribute_backends=gpt_and_qwen(server),
                compose_backend=make_backend(server, 'ds', role='compose'),
                progress=False).run(items)

    result = run()
    compose_requests = [r for r in server.requests if r.model == 'ds']
    assert len(compose_requests) == 3
    assert all(r.image_sha is None for r in compose_requests)
    rgb = result.captions['train_171/RGB/A.png']['rgb']
    assert rgb['text'].startswith('Composed caption: ')
    assert 'backpack=yes' in rgb['text']  # the complemented value
    assert 'gender=female' in rgb['text']
    assert rgb['attributes']['backpack']['from_modality'] == 'tir'
    total = len(server.requests)
    again = run()
    assert len(server.requests) == total
    assert again.captions == result.captions
    assert again.report['cached'] == 3


def test_descriptions_mode(chat_server, image_root, tmp_path):
    root, names = image_root
    server = chat_server(ScriptedResponder(names, default_reply))
    items = items_from_paths('train_171/*/*.png', root)
    with ResultCache(str(tmp_path / 'd.jsonl')) as cache:
        result = CaptionPipeline(
            cache,
            mode='descriptions',
            describe_backend=make_backend(server, 'llava', role='describe'),
            progress=False).run(items)
    assert len(server.requests) == 6
    assert {r.prompt for r in server.requests} == {DESCRIBE_TEMPLATE}
    entry = result.captions['train_171/TI/B.png']['tir']
    assert entry == {'text': 'A pedestrian in image B/tir.'}
    stats = result.report['caption_stats']
    assert stats['all']['captions'] == 6
    assert stats['all']['unknown_rate'] == 0.0


def test_bad_credentials_stop_the_run(chat_server, image_root, tmp_path):
    root, names = image_root
    server = chat_server(lambda request: Reply(status=401))
    items = items_from_paths('train_171/*/*.png', root)
    cache_path = str(tmp_path / 'e.jsonl')
    with ResultCache(cache_path) as cache:
        pipeline = CaptionPipeline(
            cache,
            attribute_backends=[make_backend(server, 'gpt')],
            concurrency=1,
            progress=False)
        with pytest.raises(BackendConfigurationError, match='401'):
            pipeline.run(items)
    assert len(server.requests) == 1  # no retries of a 401
    with open(cache_path) as f:
        assert f.read() == ''  # not recorded as a per-image failure


def test_client_error_fails_image_without_retry(chat_server, image_root,
                                                tmp_path):
    root, names = image_root
    server = chat_server(
        lambda request: Reply(status=400, content='image too large'))
    items = items_from_paths('train_171/RGB/*.png', root)
    with ResultCache(str(tmp_path / 'f.jsonl')) as cache:
        result = CaptionPipeline(
            cache,
            attribute_backends=[make_backend(server, 'gpt')],
            progress=False).run(items)
    assert result.report['failed'] == 2 and result.captions == {}
    assert len(server.requests) == 2
    assert 'HTTP 400' in result.report['failures'][0]['errors'][0]
    assert result.report['backends']['gpt']['client_errors'] == 2


def test_unreadable_image_is_a_failure(chat_server, tmp_path):
    root = tmp_path / 'RGBNT201' / 'train_171' / 'RGB'
    root.mkdir(parents=True)
    (root / 'broken.jpg').write_bytes(b'not an image')
    server = chat_server(lambda request: Reply(content='{}'))
    items = items_from_paths('train_171/*/*.jpg', str(tmp_path / 'RGBNT201'))
    items = [
        type(i)(i.rel_path, i.modality, i.abs_path, i.group, tile=(0, 1))
        for i in items
    ]
    with ResultCache(str(tmp_path / 'g.jsonl')) as cache:
        result = CaptionPipeline(
            cache,
            attribute_backends=[make_backend(server, 'gpt')],
            progress=False).run(items)
    assert result.report['failed'] == 1
    assert 'cannot read image' in result.report['failures'][0]['errors'][0]
    assert server.requests == []
