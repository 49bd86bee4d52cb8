# Copyright (c) mmreid_text contributors. All rights reserved.
"""A chat-completions backend (any OpenAI-compatible endpoint).

Requests go through the ``openai`` client with its own retries disabled;
``RetryPolicy`` retries timeouts, connection errors, 408, 409, 429
(honouring ``Retry-After``) and 5xx with exponential back-off and jitter,
so every retry is counted in ``BackendStats``.  401 / 403 / 404 are
configuration errors that stop the run; other 4xx fail the request.
"""
import random
import threading
import time
from dataclasses import asdict
from typing import Any, Callable, Dict, List, Optional

try:
    import openai
except ImportError as err:  # the optional `captions` extra
    raise ImportError(
        'Caption generation needs the `openai` client, which is not '
        'installed: pip install -e ".[captions]" (or pip install -r '
        'requirements/captions.txt). Training, testing and reading caption '
        'files do not need it.') from err

from .backend_config import BackendConfig
from .errors import BackendConfigurationError, BackendError, RequestCancelled
from .retry import RetryPolicy, retry_after_seconds


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
                    retry_after = retry_after_seconds(err)
                elif status >= 500:
                    self.stats.add('server_errors')
                    retry_after = retry_after_seconds(err)
                elif status in (408, 409):
                    retry_after = retry_after_seconds(err)
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
