# Copyright (c) mmreid_text contributors. All rights reserved.
"""The caption pipeline under faults injected by the real local server:
malformed HTTP 200 replies, unreadable headers, a server that is down,
corrupt images, outputs that must not be replaced.

Every test here failed before the fix it covers (docs/captions.md,
*Operations* and *Exit status*).
"""
import json
import os
import os.path as osp
import socket
import stat
import time

import pytest
from chat_server_utils import (Reply, ScriptedResponder, default_reply,
                               write_multimodal_images)

from mmreid_text.captioning import (BackendConfig, CaptionPipeline,
                                    ChatBackend, ResultCache, RetryPolicy,
                                    items_from_paths)
from mmreid_text.captions import (build_caption_data, load_caption_file,
                                  save_caption_file)

FAST_RETRY = RetryPolicy(
    max_attempts=4, initial_delay=0.01, max_delay=0.05, jitter=0.0)
FAST = ['--no-progress', '--initial-delay', '0.01', '--max-delay', '0.05']

#: HTTP 200 replies that are not a chat completion, and what the recorded
#: reason must say about them.
BAD_BODIES = {
    'not_json': (Reply(body=b'{"choices": [{"mess'), 'JSONDecodeError'),
    'empty_body': (Reply(body=b''), 'JSONDecodeError'),
    'html': (Reply(
        body=b'<!DOCTYPE html><html><title>502 Bad Gateway</title></html>',
        content_type='text/html'), 'HTML page'),
    'text': (Reply(body=b'upstream overloaded',
                   content_type='text/plain'), 'non-JSON body'),
    'no_message': (Reply(payload={'choices': [{
        'index': 0
    }]}), 'has no "message"'),
    'no_choices': (Reply(payload={'id': 'x'}), 'without "choices"'),
    'list': (Reply(payload=[1, 2]), 'not a chat completion object'),
    'deep_json': (Reply(body=b'[' * 100000), 'RecursionError'),
    'content_int': (Reply(payload={'choices': [{
        'message': {
            'content': 5
        }
    }]}), 'not text'),
}


@pytest.fixture
def image_root(tmp_path):
    root = tmp_path / 'RGBNT201'
    names = write_multimodal_images(str(root), ['A', 'B'])
    return str(root), names


def make_backend(server, name='gpt', retry=FAST_RETRY, **kwargs):
    config = BackendConfig(
        name=name, base_url=server.url, model=name, timeout=2.0)
    return ChatBackend(config, retry, **kwargs)


def run_pipeline(server, items, cache_path, **kwargs):
    with ResultCache(cache_path) as cache:
        return CaptionPipeline(
            cache,
            attribute_backends=[make_backend(server)],
            concurrency=2,
            progress=False,
            **kwargs).run(items)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- point 1
def test_every_bad_200_reply_is_retried_not_fatal(chat_server, image_root,
                                                  tmp_path):
    """Issue 9.1: a malformed but complete HTTP 200 reply (or an unreadable
    Retry-After) is one retry of that request, never the end of the run."""
    root, names = image_root
    responder = ScriptedResponder(names, default_reply)
    # A/rgb: every kind of bad body once (4 attempts per request, 3 reply
    # attempts per job), then the good reply
    bad = [reply for reply, _ in BAD_BODIES.values()]
    bad.insert(2, Reply(status=429, headers={'Retry-After': 'soon'}))
    bad.insert(5, Reply(status=503, headers={'Retry-After': 'nan'}))
    responder.script('gpt', 'A/rgb', bad[:3])
    responder.script('gpt', 'A/nir', bad[3:6])
    responder.script('gpt', 'A/tir', bad[6:9])
    responder.script('gpt', 'B/rgb', bad[9:])
    server = chat_server(responder)
    items = items_from_paths('train_171/*/*.png', root)
    result = run_pipeline(server, items, str(tmp_path / 'c.jsonl'))
    report = result.report
    assert (report['done'], report['failed']) == (6, 0)
    gpt = report['backends']['gpt']
    assert gpt['bad_replies'] == len(BAD_BODIES)
    assert gpt['rate_limited'] == 1 and gpt['server_errors'] == 1
    assert gpt['succeeded'] == 6  # one valid reply per image, nothing else
    assert gpt['requests'] == 6 + len(bad)


@pytest.mark.parametrize('kind', sorted(BAD_BODIES))
def test_bad_200_reply_every_time_is_a_recorded_failure(
        kind, chat_server, image_root, tmp_path):
    """Issue 9.1 / 9.11: retries exhausted on a bad body fail that one
    image with a reason that says what came back; the others succeed."""
    root, names = image_root
    reply, reason = BAD_BODIES[kind]
    responder = ScriptedResponder(names, default_reply)
    responder.script('gpt', 'B/tir', [reply] * FAST_RETRY.max_attempts)
    server = chat_server(responder)
    items = items_from_paths('train_171/*/*.png', root)
    report = run_pipeline(server, items, str(tmp_path / 'c.jsonl')).report
    assert (report['done'], report['failed']) == (5, 1)
    failure = report['failures'][0]
    assert failure['rel_path'] == 'train_171/TI/B.png'
    assert 'gave up after 4 attempts' in failure['errors'][0]
    assert reason in failure['errors'][0]
    gpt = report['backends']['gpt']
    assert gpt['succeeded'] == 5 and gpt['bad_replies'] == 4


# --------------------------------------------------------------- point 11
def test_succeeded_counts_only_valid_replies(chat_server, image_root,
                                             tmp_path):
    """Issue 9.11: empty replies and replies the parser rejects are not
    'succeeded'."""
    root, names = image_root
    responder = ScriptedResponder(names, default_reply)
    responder.script('gpt', 'A/rgb', [Reply(content='')] * 3)
    responder.script(
        'gpt', 'A/nir',
        [Reply(content=None), Reply(content='[' * 100000)])
    server = chat_server(responder)
    items = items_from_paths('train_171/*/*.png', root)
    report = run_pipeline(server, items, str(tmp_path / 'c.jsonl')).report
    gpt = report['backends']['gpt']
    assert (report['done'], report['failed']) == (5, 1)
    assert gpt['succeeded'] == 5 and gpt['malformed'] == 3 + 2
    assert 'empty reply' in report['failures'][0]['errors'][0]


# ---------------------------------------------------------------- point 9
def test_retry_after_beyond_max_delay_is_honoured_up_to_the_ceiling(
        chat_server, image_root, tmp_path):
    """Issue 9.9: Retry-After longer than max_delay is waited for; one
    longer than max_retry_after fails the request with that reason."""
    root, names = image_root
    responder = ScriptedResponder(names, default_reply)
    responder.script('gpt', 'A/rgb',
                     [Reply(status=429, headers={'Retry-After': '0.4'})])
    responder.script('gpt', 'B/rgb',
                     [Reply(status=429, headers={'Retry-After': '3600'})])
    server = chat_server(responder)
    items = [
        i for i in items_from_paths('train_171/*/*.png', root)
        if '/RGB/' in i.rel_path
    ]
    retry = RetryPolicy(
        max_attempts=3,
        initial_delay=0.01,
        max_delay=0.05,
        jitter=0.0,
        max_retry_after=1.0)
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        time.sleep(seconds)

    backend = make_backend(server, retry=retry, sleep=sleep)
    with ResultCache(str(tmp_path / 'c.jsonl')) as cache:
        report = CaptionPipeline(
            cache, attribute_backends=[backend], concurrency=1,
            progress=False).run(items).report
    assert report['done'] == 1 and report['failed'] == 1
    assert sum(waits) == pytest.approx(0.4, abs=0.11)  # not 0.05
    error = report['failures'][0]['errors'][0]
    assert 'Retry-After' in error and '3600 s' in error
    assert 'max_retry_after=1 s' in error


# ---------------------------------------------------------------- point 6
def test_corrupt_image_is_a_failure_and_never_sent(chat_server, tmp_path):
    """Issue 9.6: images are decoded locally; a truncated JPEG (which the
    old code sent as raw bytes) and a too small image are failures naming
    the file."""
    root = tmp_path / 'RGBNT201'
    names = write_multimodal_images(str(root), ['A'], size=(32, 16))
    good = root / 'train_171' / 'RGB' / 'A.png'
    from PIL import Image
    Image.new('RGB', (64, 32),
              'red').save(str(root / 'train_171' / 'NI' / 'A.jpg'))
    data = (root / 'train_171' / 'NI' / 'A.jpg').read_bytes()
    (root / 'train_171' / 'NI' / 'A.jpg').write_bytes(data[:len(data) // 2])
    (root / 'train_171' / 'NI' / 'A.png').unlink()
    Image.new('RGB', (4, 3)).save(str(root / 'train_171' / 'TI' / 'A.png'))
    server = chat_server(ScriptedResponder(names, default_reply))
    items = items_from_paths('train_171/*/*.*', str(root))
    assert len(items) == 3 and good.exists()
    report = run_pipeline(server, items, str(tmp_path / 'c.jsonl')).report
    assert (report['done'], report['failed']) == (1, 2)
    errors = {f['rel_path']: f['errors'][0] for f in report['failures']}
    assert 'A.jpg' in errors['train_171/NI/A.jpg']
    assert 'cannot be decoded' in errors['train_171/NI/A.jpg']
    assert 'not sent' in errors['train_171/NI/A.jpg']
    assert 'smaller than 8 px' in errors['train_171/TI/A.png']
    assert len(server.requests) == 1  # only the good image


# ------------------------------------------------------- the tool (2, 3, 4)
def tool_argv(server_url, root, out, names=('gpt', ), extra=()):
    argv = ['--images', 'train_171/*/*.png', '--root', root, '--out', out]
    for name in names:
        argv += [
            '--backend', f'name={name},base_url={server_url},model={name},'
            'timeout=2'
        ]
    return argv + FAST + list(extra)


def write_existing(path, count):
    captions = {
        f'train_171/RGB/{i}.png': {
            'rgb': {
                'text': f'old caption {i}'
            }
        }
        for i in range(count)
    }
    save_caption_file(
        path, build_caption_data('RGBNT201', 'train_171', 'old', captions))
    with open(path, 'rb') as f:
        return f.read()


def test_zero_successes_write_nothing(chat_server, image_root, tmp_path,
                                      capsys, load_tool):
    """Issue 9.2: a run where every request failed leaves the existing
    captions (here: a 6-caption file) untouched and says so (exit 4)."""
    root, _ = image_root
    server = chat_server(lambda request: Reply(status=500))
    out = str(tmp_path / 'captions' / 'train_171.json')
    before = write_existing(out, 6)
    generate = load_tool('tools/captions/generate.py')
    code = generate.main(tool_argv(server.url, root, out))
    assert code == 4
    err = capsys.readouterr().err
    assert 'no image got a caption; nothing was written' in err
    with open(out, 'rb') as f:
        assert f.read() == before
    assert not osp.exists(str(tmp_path / 'captions' / 'train_171.report.json'))


def test_smaller_result_never_replaces_captions(chat_server, image_root,
                                                tmp_path, capsys, load_tool):
    """Issue 9.2: 5 new captions do not replace a 6-caption file unless
    --overwrite; the rerun takes every reply from the cache."""
    root, names = image_root
    responder = ScriptedResponder(names, default_reply)
    responder.script('gpt', 'B/tir', [Reply(status=500)] * 6)
    server = chat_server(responder)
    out = str(tmp_path / 'train_171.json')
    before = write_existing(out, 6)
    generate = load_tool('tools/captions/generate.py')
    argv = tool_argv(server.url, root, out)
    assert generate.main(argv) == 4
    assert 'has 6 captions, this run produced 5' in capsys.readouterr().err
    with open(out, 'rb') as f:
        assert f.read() == before
    sent = len(server.requests)
    responder.script('gpt', 'B/tir', [Reply(status=500)] * 6)
    assert generate.main(argv + ['--overwrite']) == 3
    assert len(server.requests) == sent + 6  # only the failed image again
    document = load_caption_file(out)
    assert len(document['captions']) == 5
    assert 'train_171/RGB/0.png' not in document['captions']


@pytest.mark.parametrize('umask', [0o022, 0o002])
def test_written_files_get_normal_permissions(umask, chat_server, image_root,
                                              tmp_path, load_tool):
    """Issue 9.3: the caption file and the report get 0o666 & ~umask (not
    the 0o600 of mkstemp); a replaced file keeps its mode."""
    root, names = image_root
    server = chat_server(ScriptedResponder(names, default_reply))
    out = str(tmp_path / 'train_171.json')
    old = os.umask(umask)
    try:
        generate = load_tool('tools/captions/generate.py')
        assert generate.main(tool_argv(server.url, root, out)) == 0
    finally:
        os.umask(old)
    expected = 0o666 & ~umask
    assert stat.S_IMODE(os.stat(out).st_mode) == expected
    report = str(tmp_path / 'train_171.report.json')
    assert stat.S_IMODE(os.stat(report).st_mode) == expected
    os.chmod(out, 0o640)
    save_caption_file(out, load_caption_file(out))
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640
    leftovers = [n for n in os.listdir(str(tmp_path)) if n.startswith('.tmp')]
    assert leftovers == []


def test_dead_server_is_found_in_seconds(image_root, tmp_path, capsys,
                                         load_tool):
    """Issue 9.4: the probe names the URL and model of a server that is not
    running and stops before any request (exit 2)."""
    root, _ = image_root
    url = f'http://127.0.0.1:{free_port()}/v1'
    out = str(tmp_path / 'train_171.json')
    before = write_existing(out, 6)
    generate = load_tool('tools/captions/generate.py')
    start = time.time()
    assert generate.main(tool_argv(url, root, out)) == 2
    assert time.time() - start < 10
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert url in err and "model 'gpt'" in err
    assert 'cannot be reached' in err
    with open(out, 'rb') as f:
        assert f.read() == before
    assert not osp.exists(str(tmp_path / 'train_171.cache.jsonl'))


@pytest.mark.parametrize('case', ['wrong_model', 'wrong_url', 'no_list'])
def test_wrong_server_or_model_is_found_by_the_probe(case, chat_server,
                                                     image_root, tmp_path,
                                                     capsys, load_tool):
    """Issue 9.4: a server that answers, but not for this model or path,
    is named with what came back; a server without a model list is
    checked with one one-token request."""
    root, names = image_root

    def responder(request):
        if request.model != 'gpt':
            return Reply(
                status=404, content=f'model {request.model!r} not found')
        return default_reply(request, names.get(request.image_sha))

    server = chat_server(
        responder, models=None if case == 'no_list' else ('gpt', ))
    url = server.url
    model = 'gpt'
    if case == 'wrong_model':
        model = 'gpt-typo'
    elif case == 'wrong_url':
        url = url[:-len('/v1')]
    out = str(tmp_path / 'train_171.json')
    generate = load_tool('tools/captions/generate.py')
    argv = tool_argv(url, root, out).copy()
    argv[argv.index('--backend') + 1] = \
        f'name=gpt,base_url={url},model={model},timeout=2'
    code = generate.main(argv)
    captured = capsys.readouterr()
    if case == 'no_list':
        assert code == 0
        assert 'answered a one-token request' in captured.out
        probes = [r for r in server.requests if r.body.get('max_tokens') == 1]
        assert len(probes) == 1
        return
    assert code == 2
    err = captured.err.strip()
    assert len(err.splitlines()) == 1
    assert url in err and 'HTTP 404' in err and repr(model) in err
    if case == 'wrong_model':
        assert "The server lists ['gpt']" in err
    assert len(server.requests) <= 1  # at most the one-token probe


def test_server_dying_mid_run_stops_cleanly(chat_server, tmp_path, capsys,
                                            load_tool):
    """Issue 9.4: when every request of a long streak cannot connect, the
    run stops (exit 5) with the cache kept and the resume command; the
    resumed run sends no successful request twice."""
    root = str(tmp_path / 'RGBNT201')
    names = write_multimodal_images(root, ['A', 'B', 'C', 'D'])
    state = {'answered': 0}

    def responder(request):
        if state['answered'] >= 4:
            return Reply(drop=True)
        state['answered'] += 1
        return default_reply(request, names.get(request.image_sha))

    server = chat_server(responder)
    out = str(tmp_path / 'train_171.json')
    argv = tool_argv(
        server.url,
        root,
        out,
        extra=['--concurrency', '1', '--max-connection-errors', '5'])
    generate = load_tool('tools/captions/generate.py')
    start = time.time()
    assert generate.main(argv) == 5
    assert time.time() - start < 20
    err = capsys.readouterr().err
    assert '5 connection errors / timeouts in a row' in err
    assert 'Resume with:' in err and '--max-connection-errors 5' in err
    assert not osp.exists(out)
    cache = str(tmp_path / 'train_171.cache.jsonl')
    with open(cache) as f:
        records = [json.loads(line) for line in f]
    assert len(records) == 4 and {r['status'] for r in records} == {'ok'}
    state['answered'] = -100  # the server is back
    sent = len(server.requests)
    assert generate.main(argv) == 0
    resumed = server.requests[sent:]
    assert len(resumed) == 12 - 4
    assert len(load_caption_file(out)['captions']) == 12


def test_server_failing_every_request_mid_run_stops(chat_server, tmp_path,
                                                    capsys, load_tool):
    """Issue 9.4: a server that starts answering 503 to everything stops
    the run after --max-failed-requests jobs in a row gave up (exit 5),
    instead of failing every remaining image slowly."""
    root = str(tmp_path / 'RGBNT201')
    names = write_multimodal_images(root, ['A', 'B', 'C', 'D'])
    state = {'answered': 0}

    def responder(request):
        if state['answered'] >= 4:
            return Reply(status=503)
        state['answered'] += 1
        return default_reply(request, names.get(request.image_sha))

    server = chat_server(responder)
    out = str(tmp_path / 'train_171.json')
    argv = tool_argv(
        server.url,
        root,
        out,
        extra=[
            '--concurrency', '1', '--max-attempts', '2',
            '--max-failed-requests', '3'
        ])
    generate = load_tool('tools/captions/generate.py')
    assert generate.main(argv) == 5
    err = capsys.readouterr().err
    assert '3 requests in a row failed after all 2 attempts' in err
    assert 'HTTP 503' in err and 'Resume with:' in err
    assert len(server.requests) == 4 + 3 * 2  # then it stopped
    assert not osp.exists(out)
