# Copyright (c) mmreid_text contributors. All rights reserved.
"""Chat-completions backends (any OpenAI-compatible endpoint).

A backend is configured by a name, a base URL, a model name and the name of
the environment variable holding its API key (none for local servers such as
vLLM or Ollama).  Requests go through the ``openai`` client with its own
retries disabled; ``RetryPolicy`` retries timeouts, connection errors, 408,
409, 429 (honouring ``Retry-After``) and 5xx with exponential back-off and
jitter, so every retry is counted in ``BackendStats``.  401 / 403 / 404 are
configuration errors that stop the run; other 4xx fail the request.
"""
import base64
import email.utils
import io
import mimetypes
import os
import random
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import openai

ROLES = ('attributes', 'compose', 'describe')
_NO_KEY = 'EMPTY'  # placeholder; local servers ignore the key


class BackendError(RuntimeError):
    """A request failed for good (after retries, or not retryable)."""


class BackendConfigurationError(BackendError):
    """The backend rejects every request (bad URL, model or API key)."""


class RequestCancelled(RuntimeError):
    """The run is stopping; the request was abandoned (not a failure)."""


@dataclass
class BackendConfig:
    """Settings of one chat-completions backend.

    Args:
        name: Short unique name (used in cache keys and reports).
        base_url: API root, e.g. ``https://api.openai.com/v1`` or
            ``http://127.0.0.1:8000/v1``.
        model: Model name passed to the endpoint.
        api_key_env: Environment variable with the API key; ``None`` for
            servers without authentication.
        role: ``'attributes'``, ``'compose'`` or ``'describe'``.
        timeout: Seconds per request.
        temperature: Sampling temperature.
        max_tokens: Reply length limit.
        json_mode: Send ``response_format={'type': 'json_object'}`` with
            attribute requests (supported by OpenAI, vLLM and Ollama).
        image_detail: Optional ``detail`` of image parts (``'low'``,
            ``'high'``, ``'auto'``).
        max_image_side: Downscale images whose longer side exceeds this.
        extra_body: Extra JSON fields for the request body.
    """
    name: str
    base_url: str
    model: str
    api_key_env: Optional[str] = None
    role: str = 'attributes'
    timeout: float = 120.0
    temperature: float = 0.0
    max_tokens: int = 1024
    json_mode: bool = False
    image_detail: Optional[str] = None
    max_image_side: Optional[int] = None
    extra_body: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f'Backend {self.name!r}: role must be one of '
                             f'{ROLES}, got {self.role!r}')
        if not self.base_url or not self.model:
            raise ValueError(f'Backend {self.name!r} needs base_url and '
                             'model')

    def api_key(self) -> str:
        if not self.api_key_env:
            return _NO_KEY
        key = os.environ.get(self.api_key_env)
        if not key:
            raise BackendConfigurationError(
                f'Backend {self.name!r}: environment variable '
                f'{self.api_key_env!r} (api_key_env) is not set. Export the '
                'API key in it, or drop api_key_env for a local server '
                'without authentication.')
        return key

    def identity(self) -> Dict[str, Any]:
        """Fields that change replies (part of cache keys; no secrets).

        The URL is left out so a server moved to another port keeps its
        cache; rename the backend to force new requests.
        """
        return {
            'name': self.name,
            'model': self.model,
            'temperature': self.temperature,
            'max_tokens': self.max_tokens,
            'json_mode': self.json_mode,
            'image_detail': self.image_detail,
            'max_image_side': self.max_image_side,
            'extra_body': self.extra_body,
        }


_TYPES = {
    'timeout': float,
    'temperature': float,
    'max_tokens': int,
    'max_image_side': int,
}


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ('1', 'true', 'yes', 'on'):
        return True
    if lowered in ('0', 'false', 'no', 'off'):
        return False
    raise ValueError(f'not a boolean: {text!r}')


def parse_backend_spec(spec: str) -> BackendConfig:
    """Parse ``name=..,base_url=..,model=..[,api_key_env=..][,role=..]``.

    Other ``BackendConfig`` fields may be given the same way
    (``timeout=60,json_mode=true``).
    """
    fields: Dict[str, Any] = {}
    for part in spec.split(','):
        if not part.strip():
            continue
        if '=' not in part:
            raise ValueError(f'Backend spec {spec!r}: {part!r} is not '
                             'key=value')
        key, value = (s.strip() for s in part.split('=', 1))
        if key not in BackendConfig.__dataclass_fields__ or \
                key == 'extra_body':
            raise ValueError(
                f'Backend spec {spec!r}: unknown key {key!r}; use a backend '
                'file (JSON / Python config) for extra_body')
        if key == 'json_mode':
            fields[key] = _bool(value)
        elif key in _TYPES:
            fields[key] = _TYPES[key](value)
        else:
            fields[key] = value or None
    for needed in ('name', 'base_url', 'model'):
        if needed not in fields:
            raise ValueError(f'Backend spec {spec!r} lacks {needed}=...')
    return BackendConfig(**fields)


def backend_from_dict(cfg: Dict[str, Any]) -> BackendConfig:
    unknown = set(cfg) - set(BackendConfig.__dataclass_fields__)
    if unknown:
        raise ValueError(f'Backend {cfg.get("name")!r}: unknown keys '
                         f'{sorted(unknown)}')
    return BackendConfig(**cfg)


@dataclass
class RetryPolicy:
    """Exponential back-off for transient failures.

    The wait before retry ``k`` (1-based) is
    ``min(max_delay, initial_delay * multiplier ** (k - 1))`` scaled by a
    random factor in ``[1 - jitter, 1 + jitter]``; a ``Retry-After`` header
    (seconds or HTTP date) replaces it when larger (capped at
    ``max_delay``).
    """
    max_attempts: int = 6
    initial_delay: float = 1.0
    max_delay: float = 60.0
    multiplier: float = 2.0
    jitter: float = 0.25

    def delay(self,
              retry: int,
              retry_after: Optional[float] = None,
              rng: Optional[random.Random] = None) -> float:
        base = min(self.max_delay,
                   self.initial_delay * self.multiplier**(retry - 1))
        scale = 1.0 + self.jitter * (2 * (rng or random).random() - 1)
        wait = base * scale
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_delay))
        return max(0.0, wait)


class BackendStats:
    """Thread-safe request counters of one backend."""

    FIELDS = ('requests', 'succeeded', 'retries', 'rate_limited',
              'server_errors', 'timeouts', 'connection_errors',
              'client_errors', 'malformed', 'failed', 'prompt_tokens',
              'completion_tokens')

    def __init__(self):
        self._lock = threading.Lock()
        self._counts = {f: 0 for f in self.FIELDS}

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def as_dict(self) -> Dict[str, int]:
        with self._lock:
            return dict(self._counts)


def _retry_after(err: Exception) -> Optional[float]:
    response = getattr(err, 'response', None)
    headers = getattr(response, 'headers', None)
    if not headers:
        return None
    millis = headers.get('retry-after-ms')
    if millis:
        try:
            return float(millis) / 1000.0
        except ValueError:
            pass
    value = headers.get('retry-after')
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        if parsed is None:
            return None
        return max(0.0, parsed.timestamp() - time.time())


def encode_image(path: str,
                 tile: Optional[Tuple[int, int]] = None,
                 max_side: Optional[int] = None) -> str:
    """Image file as a base64 ``data:`` URL.

    Args:
        path: Image file.
        tile: ``(index, count)``: send only tile ``index`` of ``count``
            equal-width tiles side by side (RGBNT100 stores RGB | NIR | TIR
            in one file).
        max_side: Downscale so the longer side is at most this.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'Image {path!r} does not exist')
    mime = mimetypes.guess_type(path)[0] or 'application/octet-stream'
    if tile is None and max_side is None and mime in ('image/jpeg',
                                                      'image/png'):
        with open(path, 'rb') as f:
            payload = f.read()
    else:
        from PIL import Image
        with Image.open(path) as img:
            img = img.convert('RGB')
            if tile is not None:
                index, count = tile
                width = img.width // count
                img = img.crop(
                    (index * width, 0, (index + 1) * width, img.height))
            if max_side and max(img.size) > max_side:
                img.thumbnail((max_side, max_side))
            buffer = io.BytesIO()
            img.save(buffer, format='PNG')
            payload, mime = buffer.getvalue(), 'image/png'
    return f'data:{mime};base64,' + base64.b64encode(payload).decode('ascii')


def build_messages(prompt: str,
                   image_url: Optional[str] = None,
                   detail: Optional[str] = None) -> List[Dict[str, Any]]:
    """One user message with the instruction and optionally the image."""
    if image_url is None:
        return [{'role': 'user', 'content': prompt}]
    image_part: Dict[str, Any] = {'url': image_url}
    if detail:
        image_part['detail'] = detail
    return [{
        'role':
        'user',
        'content': [{
            'type': 'text',
            'text': prompt
        }, {
            'type': 'image_url',
            'image_url': image_part
        }]
    }]


class ChatBackend:
    """A chat-completions endpoint with retries and counters.

    Args:
        config: The backend settings.
        retry: Back-off policy for transient failures.
        sleep: Sleep function (tests may speed it up).
        client: An ``openai.OpenAI`` client to use instead of a new one.
    """

    def __init__(self,
                 config: BackendConfig,
                 retry: Optional[RetryPolicy] = None,
                 sleep: Callable[[float], None] = time.sleep,
                 client: Any = None):
        self.config = config
        self.retry = retry or RetryPolicy()
        self.stats = BackendStats()
        self._sleep = sleep
        self._rng = random.Random(0)
        self.client = client or openai.OpenAI(
            base_url=config.base_url,
            api_key=config.api_key(),
            timeout=config.timeout,
            max_retries=0)

    @property
    def name(self) -> str:
        return self.config.name

    def complete(self,
                 messages: List[Dict[str, Any]],
                 json_reply: bool = False,
                 should_stop: Optional[Callable[[], bool]] = None) -> str:
        """Send one chat request; return the reply text.

        Args:
            messages: Chat messages.
            json_reply: Ask for a JSON object when ``json_mode`` is on.
            should_stop: Checked before every attempt; when it returns
                true, ``RequestCancelled`` is raised instead of retrying.

        Raises:
            BackendConfigurationError: 401 / 403 / 404 (stop the run).
            BackendError: retries exhausted or a non-retryable error.
        """
        kwargs: Dict[str, Any] = dict(
            model=self.config.model,
            messages=messages,
            temperature=self.config.temperature,
            max_tokens=self.config.max_tokens)
        if json_reply and self.config.json_mode:
            kwargs['response_format'] = {'type': 'json_object'}
        if self.config.extra_body:
            kwargs['extra_body'] = self.config.extra_body
        last_error = ''
        for attempt in range(1, self.retry.max_attempts + 1):
            if should_stop is not None and should_stop():
                raise RequestCancelled(f'Backend {self.name!r}: stopped')
            self.stats.add('requests')
            retry_after = None
            try:
                response = self.client.chat.completions.create(**kwargs)
            except openai.APITimeoutError as err:
                self.stats.add('timeouts')
                last_error = f'timeout ({err})'
            except openai.APIConnectionError as err:
                self.stats.add('connection_errors')
                last_error = f'connection error ({err})'
            except openai.APIStatusError as err:
                status = err.status_code
                last_error = f'HTTP {status}: {str(err)[:200]}'
                if status in (401, 403, 404):
                    self.stats.add('failed')
                    raise BackendConfigurationError(
                        f'Backend {self.name!r} ({self.config.base_url}, '
                        f'model {self.config.model!r}) answered {last_error}'
                        '. Check base_url, model and the API key.') from err
                if status == 429:
                    self.stats.add('rate_limited')
                    retry_after = _retry_after(err)
                elif status >= 500:
                    self.stats.add('server_errors')
                    retry_after = _retry_after(err)
                elif status in (408, 409):
                    retry_after = _retry_after(err)
                else:
                    self.stats.add('client_errors')
                    self.stats.add('failed')
                    raise BackendError(
                        f'Backend {self.name!r}: {last_error}') from err
            else:
                usage = getattr(response, 'usage', None)
                if usage is not None:
                    self.stats.add('prompt_tokens',
                                   int(usage.prompt_tokens or 0))
                    self.stats.add('completion_tokens',
                                   int(usage.completion_tokens or 0))
                choices = getattr(response, 'choices', None) or []
                content = choices[0].message.content if choices else None
                self.stats.add('succeeded')
                return content if content is not None else ''
            if attempt < self.retry.max_attempts:
                self.stats.add('retries')
                self._wait(
                    self.retry.delay(attempt, retry_after, rng=self._rng),
                    should_stop)
        self.stats.add('failed')
        raise BackendError(f'Backend {self.name!r}: gave up after '
                           f'{self.retry.max_attempts} attempts; last error: '
                           f'{last_error}')

    def _wait(self, seconds: float,
              should_stop: Optional[Callable[[], bool]]) -> None:
        """Back-off sleep, in slices of 0.1 s when the run can stop."""
        if should_stop is None:
            self._sleep(seconds)
            return
        end = time.monotonic() + seconds
        while True:
            if should_stop():
                raise RequestCancelled(f'Backend {self.name!r}: stopped')
            left = end - time.monotonic()
            if left <= 0:
                return
            self._sleep(min(0.1, left))

    def describe(self) -> Dict[str, Any]:
        info = asdict(self.config)
        info.pop('extra_body', None)
        return info
