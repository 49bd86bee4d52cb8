# Copyright (c) mmreid_text contributors. All rights reserved.
"""A real chat-completions HTTP server on 127.0.0.1 for caption tests.

``ChatServer`` implements ``POST /v1/chat/completions`` of the OpenAI API.
Each request is recorded (model, text prompt, sha256 of the image payload)
and answered by ``responder(request) -> Reply``; ``ScriptedResponder``
first plays per-(model, image) scripts (malformed JSON, 429, 500, slow
replies) and then a default reply.
"""
import base64
import hashlib
import json
import os
import os.path as osp
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional

import numpy as np
from PIL import Image

from mmreid_text.captioning import PERSON_SCHEMA

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@dataclass
class Reply:
    """One canned answer.

    ``content`` is the assistant message of a 200 reply (the error message
    otherwise).  Faults: ``payload`` replaces the whole JSON body, ``body``
    sends these bytes as-is (with ``content_type``), ``drop`` closes the
    connection without answering.
    """
    status: int = 200
    content: Optional[str] = None
    headers: Dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    block: Optional[threading.Event] = None
    payload: Optional[Any] = None
    body: Optional[bytes] = None
    content_type: str = 'application/json'
    drop: bool = False


#: Models ``GET /v1/models`` lists by default (the names the tests use).
KNOWN_MODELS = ('gpt', 'qwen', 'ds', 'llava')


@dataclass
class Request:
    model: str
    prompt: str
    image_sha: Optional[str]
    body: Dict[str, Any]


class ChatServer:
    """Threaded HTTP server speaking the chat-completions protocol."""

    def __init__(self,
                 responder: Callable[[Request], Reply],
                 models: Optional[Any] = KNOWN_MODELS):
        self.responder = responder
        #: Model ids of ``GET /v1/models``; ``None`` answers 404 there, a
        #: ``Reply`` is sent as-is (fault injection).
        self.models = models
        self.model_requests = 0
        self.requests: List[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path.rstrip('/') != '/v1/models':
                    self._send(404, {'error': {'message': 'not found'}})
                    return
                with server._lock:
                    server.model_requests += 1
                models = server.models
                if isinstance(models, Reply):
                    self._reply(models, {'object': 'list', 'data': []})
                elif models is None:
                    self._send(404, {'error': {'message': 'no model list'}})
                else:
                    self._send(
                        200, {
                            'object':
                            'list',
                            'data': [{
                                'id': m,
                                'object': 'model',
                                'owned_by': 'test'
                            } for m in models]
                        })

            def do_POST(self):
                length = int(self.headers.get('Content-Length', 0))
                body = json.loads(self.rfile.read(length) or b'{}')
                if self.path.rstrip('/') != '/v1/chat/completions':
                    self._send(404, {'error': {'message': 'not found'}})
                    return
                request = server.parse(body)
                with server._lock:
                    server.requests.append(request)
                reply = server.responder(request)
                if reply.block is not None:
                    reply.block.wait(30)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.status == 200:
                    payload = {
                        'id':
                        f'chatcmpl-{len(server.requests)}',
                        'object':
                        'chat.completion',
                        'created':
                        int(time.time()),
                        'model':
                        request.model,
                        'choices': [{
                            'index': 0,
                            'message': {
                                'role': 'assistant',
                                'content': reply.content
                            },
                            'finish_reason': 'stop'
                        }],
                        'usage': {
                            'prompt_tokens': 10,
                            'completion_tokens': 5,
                            'total_tokens': 15
                        }
                    }
                else:
                    payload = {
                        'error': {
                            'message': reply.content or 'canned error',
                            'type': 'test',
                            'code': reply.status
                        }
                    }
                self._reply(reply, payload)

            def _reply(self, reply, payload):
                if reply.drop:
                    self.close_connection = True
                    try:
                        self.connection.shutdown(2)
                    except OSError:
                        pass
                    return
                if reply.payload is not None:
                    payload = reply.payload
                self._send(reply.status, payload, reply.headers, reply.body,
                           reply.content_type)

            def _send(self,
                      status,
                      payload,
                      headers=None,
                      body=None,
                      content_type='application/json'):
                data = json.dumps(payload).encode() if body is None else body
                try:
                    self.send_response(status)
                    self.send_header('Content-Type', content_type)
                    self.send_header('Content-Length', str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        class Server(ThreadingHTTPServer):

            def handle_error(self, request, client_address):
                pass  # a dropped connection (fault injection)

        self.httpd = Server(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={'poll_interval': 0.05},
            daemon=True)

    @staticmethod
    def parse(body: Dict[str, Any]) -> Request:
        prompt, image_sha = '', None
        for message in body.get('messages', []):
            content = message.get('content')
            if isinstance(content, str):
                prompt += content
                continue
            for part in content or []:
                if part.get('type') == 'text':
                    prompt += part['text']
                elif part.get('type') == 'image_url':
                    url = part['image_url']['url']
                    payload = url.split(',', 1)[1]
                    image_sha = hashlib.sha256(
                        base64.b64decode(payload)).hexdigest()
        return Request(body.get('model', ''), prompt, image_sha, body)

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.httpd.server_address[1]}/v1'

    def start(self) -> 'ChatServer':
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def count(self, predicate: Callable[[Request], bool] = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests
                       if predicate is None or predicate(r))


class ScriptedResponder:
    """Per-key scripts first, then ``default(request, name)``.

    Args:
        names: image sha256 -> readable image name.
        default: ``(request, image_name) -> Reply``.
    """

    def __init__(self, names: Dict[str, str],
                 default: Callable[[Request, Optional[str]], Reply]):
        self.names = names
        self.default = default
        self.scripts: Dict[tuple, List[Reply]] = {}
        self._lock = threading.Lock()

    def script(self, model: str, image: str, replies: List[Reply]) -> None:
        self.scripts[(model, image)] = list(replies)

    def __call__(self, request: Request) -> Reply:
        name = self.names.get(request.image_sha)
        with self._lock:
            queue = self.scripts.get((request.model, name))
            if queue:
                return queue.pop(0)
        return self.default(request, name)


def attribute_json(values: Dict[str, tuple]) -> str:
    """``{'gender': ('male', 0.9)}`` -> reply JSON."""
    return json.dumps({
        k: {
            'value': v,
            'confidence': c
        }
        for k, (v, c) in values.items()
    })


def write_multimodal_images(root: str,
                            samples: List[str],
                            split: str = 'train_171',
                            size=(16, 8)) -> Dict[str, str]:
    """RGBNT201-style tiny PNGs; returns sha256 -> 'sample/modality'."""
    rng = np.random.default_rng(0)
    names = {}
    for sample in samples:
        for folder, modality in (('RGB', 'rgb'), ('NI', 'nir'), ('TI', 'tir')):
            path = osp.join(root, split, folder, f'{sample}.png')
            os.makedirs(osp.dirname(path), exist_ok=True)
            arr = rng.integers(0, 255, (*size, 3), dtype=np.uint8)
            Image.fromarray(arr).save(path)
            with open(path, 'rb') as f:
                names[hashlib.sha256(f.read()).hexdigest()] = \
                    f'{sample}/{modality}'
    return names


def base_attributes():
    return {name: ('unknown', 0.1) for name in PERSON_SCHEMA.names}


TABLE = {
    ('gpt', 'A/rgb'):
    dict(
        gender=('female', 0.6),
        upper_color=('red', 0.9),
        upper_clothing=('jacket', 0.8),
        backpack=('unknown', 0.2),
        view=('front', 0.9)),
    ('qwen', 'A/rgb'):
    dict(
        gender=('female', 0.9),
        upper_color=('unknown', 0.3),
        backpack=('no', 0.4),
        illumination=('dim', 0.8)),
    ('gpt', 'A/nir'):
    dict(backpack=('unknown', 0.1), upper_color=('gray', 0.5)),
    ('qwen', 'A/nir'):
    dict(backpack=('yes', 0.7)),
    ('gpt', 'A/tir'):
    dict(
        backpack=('yes', 0.95),
        gender=('female', 0.5),
        target_clarity=('blurry', 0.9)),
    ('qwen', 'A/tir'):
    dict(backpack=('yes', 0.8), illumination=('dark', 0.3)),
}


def default_reply(request, name):
    if request.prompt == 'Reply with OK.':  # the probe of ChatBackend
        return Reply(content='OK')
    if request.image_sha is None:  # composition request (no image)
        match = re.search(r'Attributes \(JSON\): (\{.*\})', request.prompt)
        values = json.loads(match.group(1))
        known = sorted(f'{k}={v}' for k, v in values.items() if v != 'unknown')
        return Reply(content='Composed caption: ' + '; '.join(known) + '.')
    if request.prompt.startswith('Please describe'):
        return Reply(content=f'"A pedestrian in image {name}."')
    values = base_attributes()
    values.update(TABLE.get((request.model, name), {}))
    return Reply(content='```json\n' + attribute_json(values) + '\n```')


def image_requests(server):
    """Counter of (model, image sha) over the requests with an image."""
    return Counter((r.model, r.image_sha) for r in server.requests
                   if r.image_sha is not None)
