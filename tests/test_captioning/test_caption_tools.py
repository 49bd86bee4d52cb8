# Copyright (c) mmreid_text contributors. All rights reserved.
"""tools/captions/generate.py end to end (local server, dataset config,
killed process resume)."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import threading
import time

import pytest
from chat_server_utils import (REPO, Reply, ScriptedResponder, default_reply,
                               image_requests, write_multimodal_images)

import mmreid_text.datasets.transforms.captions  # noqa: F401 (registers)
from mmreid_text.captions import load_caption_file
from mmreid_text.registry import TRANSFORMS

GENERATE = osp.join(REPO, 'tools', 'captions', 'generate.py')


def backend_args(server, names=('gpt', 'qwen')):
    args = []
    for name in names:
        args += [
            '--backend', f'name={name},base_url={server.url},'
            f'model={name},timeout=5'
        ]
    return args


FAST = ['--no-progress', '--initial-delay', '0.01', '--max-delay', '0.05']


def test_generate_from_image_list(chat_server, tmp_path, capsys, load_tool):
    root = str(tmp_path / 'RGBNT201')
    names = write_multimodal_images(root, ['A', 'B'])
    responder = ScriptedResponder(names, default_reply)
    responder.script('gpt', 'B/tir', [Reply(status=500)] * 6)
    responder.script('qwen', 'B/tir', [Reply(content='oops')] * 3)
    server = chat_server(responder)
    generate = load_tool('tools/captions/generate.py')
    out = str(tmp_path / 'out' / 'train_171.json')
    argv = ['--images', 'train_171/*/*.png', '--root', root, '--out', out
            ] + backend_args(server) + FAST
    assert generate.main(argv) == 3  # one image failed
    printed = capsys.readouterr().out
    assert 'FAILED train_171/TI/B.png [tir]' in printed
    assert 'unknown %' in printed
    document = load_caption_file(out)
    assert document['dataset'] == 'RGBNT201'
    assert document['split'] == 'train_171'
    assert 'gpt (gpt), qwen (qwen)' in document['source']
    assert len(document['captions']) == 5
    report = json.load(open(str(tmp_path / 'out' / 'train_171.report.json')))
    assert (report['done'], report['failed']) == (5, 1)
    assert report['backends']['gpt']['server_errors'] == 6
    assert report['backends']['qwen']['malformed'] == 3
    assert osp.isfile(str(tmp_path / 'out' / 'train_171.cache.jsonl'))

    # the rerun retries only the failed image and completes
    before = len(server.requests)
    assert generate.main(argv) == 0
    assert len(server.requests) == before + 2
    document = load_caption_file(out)
    assert len(document['captions']) == 6
    report = json.load(open(str(tmp_path / 'out' / 'train_171.report.json')))
    assert report['cached'] == 5


def test_generate_usage_errors(chat_server, tmp_path, capsys, load_tool):
    generate = load_tool('tools/captions/generate.py')
    with pytest.raises(SystemExit):
        generate.main(['--images', 'x', '--backend', 'name=a'])  # no root
    root = str(tmp_path / 'RGBNT201')
    write_multimodal_images(root, ['A'])
    code = generate.main([
        '--images', 'train_171/*/*.png', '--root', root, '--backend',
        'name=a,base_url=http://127.0.0.1:9/v1,model=m,api_key_env='
        'MMREID_TEXT_TEST_UNSET_KEY'
    ] + FAST)
    assert code == 2
    assert 'MMREID_TEXT_TEST_UNSET_KEY' in capsys.readouterr().err


def test_generate_from_dataset_config(chat_server, tmp_path, rgbnt201_root,
                                      load_tool):
    server = chat_server(ScriptedResponder({}, default_reply))
    config = tmp_path / 'rgbnt201_captions.py'
    pipeline = [dict(type='LoadCaptions', caption_file='not/yet.json')]
    config.write_text(f'train_dataloader = dict(dataset=dict(type="RGBNT201", '
                      f'data_root={rgbnt201_root!r}, split="train", '
                      f'pipeline={pipeline!r}))\n')
    generate = load_tool('tools/captions/generate.py')
    code = generate.main([
        '--dataset-config',
        str(config), '--split', 'train', '--concurrency', '4'
    ] + backend_args(server, ['gpt']) + FAST)
    assert code == 0
    out = osp.join(rgbnt201_root, 'captions', 'train_171.json')
    document = load_caption_file(out)
    assert document['dataset'] == 'RGBNT201'
    assert document['split'] == 'train_171'
    keys = sorted(document['captions'])
    assert len(keys) == 3 * 18 and keys[0].startswith('train_171/NI/')

    # the registered pipeline step reads the generated file
    from mmreid_text.datasets import RGBNT201
    dataset = RGBNT201(
        data_root=rgbnt201_root,
        split='train',
        pipeline=[dict(type='LoadCaptions', caption_file=out)])
    sample = dataset[0]
    assert set(sample['captions']) == {'rgb', 'nir', 'tir'}
    rel = sample['rel_img_path']['nir']
    assert sample['captions']['nir'] == document['captions'][rel]['nir'][
        'text']
    assert TRANSFORMS.get('LoadCaptions') is not None


class Gate:
    """Answers ``limit`` requests, then holds every reply until opened."""

    def __init__(self, names, limit):
        self.names = names
        self.limit = limit
        self.release = threading.Event()
        self.answered = []
        self._lock = threading.Lock()

    def __call__(self, request):
        with self._lock:
            if len(self.answered) < self.limit or self.release.is_set():
                self.answered.append((request.model, request.image_sha))
                return default_reply(request,
                                     self.names.get(request.image_sha))
        return Reply(block=self.release, content='{}')


def test_killed_run_resumes_without_duplicates(chat_server, tmp_path,
                                               load_tool):
    root = str(tmp_path / 'RGBNT201')
    names = write_multimodal_images(root, ['A', 'B', 'C'])
    gate = Gate(names, limit=5)
    server = chat_server(gate)
    out = str(tmp_path / 'train_171.json')
    cache = str(tmp_path / 'train_171.cache.jsonl')
    argv = [
        '--images', 'train_171/*/*.png', '--root', root, '--out', out,
        '--concurrency', '2'
    ] + backend_args(server) + FAST
    process = subprocess.Popen(
        [sys.executable, GENERATE] + argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if osp.exists(cache):
                with open(cache) as f:
                    if len(f.read().splitlines()) >= 5:
                        break
            time.sleep(0.05)
        else:
            pytest.fail('the generator never cached 5 results')
        time.sleep(0.2)  # the two in-flight requests stay blocked
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    with open(cache) as f:
        cached_lines = f.read().splitlines()
    assert len(cached_lines) == 5
    phase_one = len(server.requests)
    assert phase_one == 5 + 2  # five answered, two held when killed
    answered_before = set(gate.answered)
    gate.release.set()

    generate = load_tool('tools/captions/generate.py')
    assert generate.main(argv) == 0
    second = server.requests[phase_one:]
    assert len(second) == 18 - 5  # 9 images x 2 models, 5 cached
    assert not answered_before & {(r.model, r.image_sha) for r in second}
    document = load_caption_file(out)
    assert sum(len(v) for v in document['captions'].values()) == 9
    counts = image_requests(server)
    assert len(counts) == 18


def test_sigterm_stops_like_ctrl_c_and_resumes(chat_server, tmp_path,
                                               load_tool):
    """Issue 9.8: SIGTERM abandons the held requests after --stop-grace,
    keeps the cache, prints the resume command and exits 143; the resumed
    run repeats no answered request."""
    root = str(tmp_path / 'RGBNT201')
    names = write_multimodal_images(root, ['A', 'B', 'C'])
    gate = Gate(names, limit=5)
    server = chat_server(gate)
    out = str(tmp_path / 'train_171.json')
    cache = str(tmp_path / 'train_171.cache.jsonl')
    argv = [
        '--images', 'train_171/*/*.png', '--root', root, '--out', out,
        '--concurrency', '2', '--stop-grace', '0.5'
    ] + backend_args(server) + FAST
    process = subprocess.Popen(
        [sys.executable, GENERATE] + argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if osp.exists(cache):
                with open(cache) as f:
                    if len(f.read().splitlines()) >= 5:
                        break
            time.sleep(0.05)
        else:
            pytest.fail('the generator never cached 5 results')
        time.sleep(0.2)  # the two in-flight requests stay blocked
        start = time.time()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
        stopped_in = time.time() - start
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, err
    assert stopped_in < 10  # not the 30 s the held replies take
    assert 'terminated (SIGTERM)' in err and 'Traceback' not in err
    assert '2 requests still in flight were abandoned' in err
    assert 'Resume with:' in err and '--stop-grace 0.5' in err
    assert not osp.exists(out)
    with open(cache) as f:
        assert len(f.read().splitlines()) == 5
    answered_before = set(gate.answered)
    gate.release.set()
    phase_one = len(server.requests)
    generate = load_tool('tools/captions/generate.py')
    assert generate.main(argv) == 0
    second = server.requests[phase_one:]
    assert len(second) == 18 - 5
    assert not answered_before & {(r.model, r.image_sha) for r in second}
