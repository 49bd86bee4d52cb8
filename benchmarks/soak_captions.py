# Copyright (c) mmreid_text contributors. All rights reserved.
"""Soak test of the caption pipeline: faults, ``kill -9`` and resume.

Not run in CI (minutes).  Writes ``--images`` tiny synthetic images in the
RGBNT201 layout, serves them to ``tools/captions/generate.py`` from the
local OpenAI-compatible test server (``tests/test_captioning``) with
``--fault-rate`` of the requests answered by a fault drawn from
``FAULTS`` (429 with good and unreadable ``Retry-After``, 500 / 503, HTTP
200 bodies that are not a chat completion, empty and malformed attribute
replies, dropped connections, replies slower than the timeout), kills the
generator with SIGKILL ``--kills`` times at random points, then resumes it
(the same command) until it exits 0.  Reports, as JSON:

* ``lost``: images without a caption in the final file (must be 0);
* ``duplicated_successes``: valid attribute replies the server sent more
  than once for the same (model, image) - the requests in flight at a
  kill, bounded by ``kills * concurrency``;
* wall time, generator runs and their exit codes, the server's fault
  counts, and the peak resident memory of the generator processes
  (``ru_maxrss`` of the waited children) and of this process (the server).

Example::

    python benchmarks/soak_captions.py --images 5000 --kills 3
"""
import argparse
import hashlib
import importlib
import json
import os
import os.path as osp
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

import numpy as np
from PIL import Image

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(REPO, 'tests', 'test_captioning'))

_server = importlib.import_module('chat_server_utils')  # the test server
ChatServer, Reply = _server.ChatServer, _server.Reply
attribute_json, base_attributes = _server.attribute_json, \
    _server.base_attributes

GENERATE = osp.join(REPO, 'tools', 'captions', 'generate.py')
TIMEOUT_S = 3.0

#: (name, weight, reply factory); weights are relative within the faults.
FAULTS = [
    ('429', 4, lambda: Reply(status=429, headers={'Retry-After': '0'})),
    ('429_soon', 2,
     lambda: Reply(status=429, headers={'Retry-After': 'soon'})),
    ('500', 3, lambda: Reply(status=500)),
    ('503', 3, lambda: Reply(status=503)),
    ('not_json', 2, lambda: Reply(body=b'{"choices": [{"mess')),
    ('html', 2, lambda: Reply(
        body=b'<html><title>502 Bad Gateway</title></html>',
        content_type='text/html')),
    ('no_message', 1, lambda: Reply(payload={'choices': [{
        'index': 0
    }]})),
    ('empty_content', 1, lambda: Reply(content='')),
    ('bad_attributes', 2, lambda: Reply(content='{"gender": "male"')),
    ('drop', 2, lambda: Reply(drop=True)),
    ('slow', 0.25, lambda: Reply(status=503, delay=TIMEOUT_S + 0.5)),
]


class FaultyResponder:
    """Answers ``fault_rate`` of the requests with a random fault, the rest
    with a valid attribute reply; counts what it sent."""

    def __init__(self, fault_rate: float, seed: int):
        self.fault_rate = fault_rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.faults = Counter()
        self.valid = Counter()  # (model, image sha) -> valid replies sent
        self.reply = Reply(content=attribute_json(base_attributes()))
        self.weights = [w for _, w, _ in FAULTS]

    def __call__(self, request):
        if request.image_sha is None:  # the probe
            return Reply(content='OK')
        with self.lock:
            faulty = self.rng.random() < self.fault_rate
            if faulty:
                name, _, make = self.rng.choices(FAULTS, self.weights)[0]
                self.faults[name] += 1
                return make()
            self.valid[(request.model, request.image_sha)] += 1
        return self.reply


def write_images(root: str, count: int, seed: int) -> int:
    """``count`` unique 16x16 PNGs, three modalities per sample."""
    rng = np.random.default_rng(seed)
    shas = set()
    written = 0
    sample = 0
    while written < count:
        for folder in ('RGB', 'NI', 'TI'):
            if written == count:
                break
            path = osp.join(root, 'train_171', folder, f'{sample:06d}.png')
            os.makedirs(osp.dirname(path), exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (16, 16, 3),
                                         dtype=np.uint8)).save(path)
            with open(path, 'rb') as f:
                shas.add(hashlib.sha256(f.read()).hexdigest())
            written += 1
        sample += 1
    assert len(shas) == count
    return count


def cached_lines(path: str) -> int:
    if not osp.exists(path):
        return 0
    with open(path, 'rb') as f:
        return f.read().count(b'\n')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=5000)
    parser.add_argument('--fault-rate', type=float, default=0.2)
    parser.add_argument('--kills', type=int, default=3)
    parser.add_argument('--concurrency', type=int, default=8)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--max-resumes', type=int, default=5)
    parser.add_argument('--workdir', help='default: a temporary folder')
    parser.add_argument('--json', help='write the summary here')
    args = parser.parse_args()

    workdir = args.workdir or tempfile.mkdtemp(prefix='soak_captions_')
    root = osp.join(workdir, 'RGBNT201')
    if osp.exists(root):
        shutil.rmtree(root)
    write_images(root, args.images, args.seed)
    responder = FaultyResponder(args.fault_rate, args.seed)
    server = ChatServer(responder, models=('soak', )).start()
    out = osp.join(workdir, 'train_171.json')
    cache = osp.join(workdir, 'train_171.cache.jsonl')
    for path in (out, cache):
        if osp.exists(path):
            os.remove(path)
    command = [
        sys.executable, GENERATE, '--images', 'train_171/*/*.png', '--root',
        root, '--out', out, '--backend',
        f'name=soak,base_url={server.url},model=soak,timeout={TIMEOUT_S}',
        '--concurrency',
        str(args.concurrency), '--initial-delay', '0.05', '--max-delay', '0.5',
        '--max-attempts', '8', '--no-progress'
    ]
    rng = random.Random(args.seed)
    kill_at = sorted(
        int(args.images * rng.uniform(0.1, 0.9)) for _ in range(args.kills))
    runs = []
    start = time.time()
    env = dict(os.environ, PYTHONPATH=REPO)
    for threshold in kill_at:
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env)
        threshold = max(threshold, cached_lines(cache) + 2 * args.concurrency)
        while process.poll() is None and cached_lines(cache) < threshold:
            time.sleep(0.02)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait()
        runs.append({
            'killed_at_cached_lines': cached_lines(cache),
            'returncode': process.returncode,
            'caption_file_written': osp.exists(out)
        })
    for _ in range(1 + args.max_resumes):
        result = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env)
        runs.append({'returncode': result.returncode})
        if result.returncode == 0:
            break
    wall = time.time() - start
    server.stop()

    with open(out, encoding='utf-8') as f:
        captions = json.load(f)['captions']
    done = sum(len(v) for v in captions.values())
    duplicated = sum(n - 1 for n in responder.valid.values() if n > 1)
    summary = {
        'images':
        args.images,
        'fault_rate':
        args.fault_rate,
        'concurrency':
        args.concurrency,
        'kills':
        args.kills,
        'captioned':
        done,
        'lost':
        args.images - done,
        'duplicated_successes':
        duplicated,
        'duplicate_bound':
        args.kills * args.concurrency,
        'requests':
        len(server.requests),
        'valid_replies_sent':
        sum(responder.valid.values()),
        'faults_sent':
        dict(responder.faults),
        'runs':
        runs,
        'wall_s':
        round(wall, 1),
        'peak_rss_generator_mib':
        round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        'peak_rss_server_mib':
        round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        'cache_lines':
        cached_lines(cache),
    }
    print(json.dumps(summary, indent=1))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(summary, f, indent=1)
    if not args.workdir:
        shutil.rmtree(workdir)
    ok = summary['lost'] == 0 and duplicated <= summary['duplicate_bound']
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
