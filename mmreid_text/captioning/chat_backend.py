# Copyright (c) mmreid_text contributors. All rights reserved.
"""A chat-completions backend (any OpenAI-compatible endpoint).

Requests go through the ``openai`` client with its own retries disabled;
``RetryPolicy`` retries timeouts, connection errors, 408, 409, 429
(honouring ``Retry-After``), 5xx and unreadable HTTP 200 replies (a body
that is not JSON, an HTML page, no ``choices`` or ``message``) with
exponential back-off and jitter, so every retry is counted in
``BackendStats``.  401 / 403 / 404 are configuration errors that stop the
run; other 4xx fail the request.  A long streak of connection errors and
timeouts (``max_connection_errors`` in a row, over all threads) or of
requests that failed after all their retries (``max_failed_requests`` in a
row: a server answering 5xx to everything) means the server is gone:
``BackendUnavailableError`` stops the run.  ``probe()``
checks a backend once before a run (model list, else a one-token request).
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
from .errors import (BackendConfigurationError, BackendError,
                     BackendUnavailableError, BadReplyError, RequestCancelled)
from .retry import RetryPolicy, retry_after_seconds

#: Exceptions of ``chat.completions.create`` that mean the HTTP 200 body
#: could not be decoded (``JSONDecodeError`` is a ``ValueError``).
_DECODE_ERRORS = (ValueError, TypeError, AttributeError, KeyError,
                  RecursionError)


def _snippet(text: Any, size: int = 80) -> str:
    return repr(' '.join(str(text).split())[:size])


def reply_text(response: Any) -> str:
    """The assistant text of a chat-completions response object.

    Returns ``''`` when the message has no content (the caller's parser
    decides about empty replies).

    Raises:
        BadReplyError: the body is not a chat completion; the reason says
            what it was (an HTML page, plain text, a list, no choices...).
    """
    if isinstance(response, (str, bytes)):
        text = response.decode('utf-8', 'replace') if isinstance(
            response, bytes) else response
        head = text.lstrip()[:200].lower()
        if head.startswith(('<!doctype html', '<html')) or '<html' in head:
            raise BadReplyError('HTTP 200 with an HTML page instead of a '
                                'chat completion (a proxy, login or error '
                                f'page?): {_snippet(text)}')
        raise BadReplyError('HTTP 200 with a non-JSON body instead of a '
                            f'chat completion: {_snippet(text)}')
    choices = getattr(response, 'choices', None)
    if not isinstance(response, openai.BaseModel) and choices is None:
        raise BadReplyError(f'HTTP 200 body is a {type(response).__name__},'
                            ' not a chat completion object: '
                            f'{_snippet(response)}')
    if not isinstance(choices, list) or not choices:
        raise BadReplyError('HTTP 200 chat completion without "choices": '
                            f'{_snippet(response, 160)}')
    message = getattr(choices[0], 'message', None)
    if message is None:
        raise BadReplyError('HTTP 200 chat completion whose first choice '
                            f'has no "message": {_snippet(choices[0], 160)}')
    content = getattr(message, 'content', None)
    if content is None:
        return ''
    if not isinstance(content, str):
        raise BadReplyError('HTTP 200 chat completion whose message content '
                            f'is a {type(content).__name__}, not text: '
                            f'{_snippet(content)}')
    return content


class BackendStats:
    """Thread-safe request counters of one backend."""

    #: ``succeeded`` counts replies the caller's parser accepted (added by
    #: the job runner); ``bad_replies`` HTTP 200 bodies that are not a chat
    #: completion; ``malformed`` completions the parser rejected.
    FIELDS = ('requests', 'succeeded', 'retries', 'rate_limited',
              'server_errors', 'timeouts', 'connection_errors',
              'client_errors', 'bad_replies', 'malformed', 'failed',
              'prompt_tokens', 'completion_tokens')

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
        max_connection_errors: Connection errors and timeouts in a row
            (over all threads; any HTTP answer resets the streak) after
            which the server is taken as gone and the run stops
            (``BackendUnavailableError``); ``None`` never stops.
        max_failed_requests: Requests in a row (over all threads; any
            valid reply resets the streak) that exhausted their retries on
            transient errors, after which the run stops the same way;
            ``None`` never stops.
    """

    def __init__(self,
                 config: BackendConfig,
                 retry: Optional[RetryPolicy] = None,
                 sleep: Callable[[float], None] = time.sleep,
                 client: Any = None,
                 max_connection_errors: Optional[int] = 24,
                 max_failed_requests: Optional[int] = 16):
        self.config = config
        self.retry = retry or RetryPolicy()
        self.stats = BackendStats()
        self.max_connection_errors = max_connection_errors
        self.max_failed_requests = max_failed_requests
        self._given_up = 0
        self._sleep = sleep
        self._rng = random.Random(0)
        self._streak = 0
        self._streak_lock = threading.Lock()
        self.client = client or openai.OpenAI(
            base_url=config.base_url,
            api_key=config.api_key(),
            timeout=config.timeout,
            max_retries=0)

    @property
    def name(self) -> str:
        return self.config.name

    def _where(self) -> str:
        return (f'Backend {self.name!r} ({self.config.base_url}, model '
                f'{self.config.model!r})')

    def _unreachable(self, failed: bool, error: str) -> None:
        """Track the streak of connection failures; raise when too long."""
        with self._streak_lock:
            self._streak = self._streak + 1 if failed else 0
            streak = self._streak
        if failed and self.max_connection_errors is not None and \
                streak >= self.max_connection_errors:
            raise BackendUnavailableError(
                f'{self._where()}: {streak} connection errors / timeouts in '
                f'a row, the server seems to be down; last: {error}')

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
            BackendUnavailableError: the server stopped answering.
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
                content = reply_text(response)
            except openai.APITimeoutError as err:
                self.stats.add('timeouts')
                last_error = f'timeout ({err})'
                self._unreachable(True, last_error)
            except openai.APIConnectionError as err:
                self.stats.add('connection_errors')
                last_error = f'connection error ({err})'
                self._unreachable(True, last_error)
            except openai.APIStatusError as err:
                self._unreachable(False, '')
                status = err.status_code
                last_error = f'HTTP {status}: {str(err)[:200]}'
                if status in (401, 403, 404):
                    self.stats.add('failed')
                    raise BackendConfigurationError(
                        f'{self._where()} answered {last_error}. Check '
                        'base_url, model and the API key.') from err
                retry_after = retry_after_seconds(err)
                if status == 429:
                    self.stats.add('rate_limited')
                elif status >= 500:
                    self.stats.add('server_errors')
                elif status not in (408, 409):
                    self.stats.add('client_errors')
                    self.stats.add('failed')
                    raise BackendError(
                        f'Backend {self.name!r}: {last_error}') from err
                if self.retry.exceeds_ceiling(retry_after):
                    self.stats.add('failed')
                    raise BackendError(
                        f'Backend {self.name!r}: {last_error}; the server '
                        f'asks to wait {retry_after:.0f} s (Retry-After), '
                        'more than the ceiling max_retry_after='
                        f'{self.retry.max_retry_after:g} s; rerun later to '
                        'retry') from err
            except BadReplyError as err:
                self._unreachable(False, '')
                self.stats.add('bad_replies')
                last_error = str(err)
            except (openai.APIError, ) + _DECODE_ERRORS as err:
                # an HTTP 200 the client could not decode
                self._unreachable(False, '')
                self.stats.add('bad_replies')
                last_error = ('HTTP 200 reply the client cannot read '
                              f'({type(err).__name__}: {str(err)[:160]})')
            else:
                self._unreachable(False, '')
                with self._streak_lock:
                    self._given_up = 0
                usage = getattr(response, 'usage', None)
                self.stats.add('prompt_tokens',
                               _token_count(usage, 'prompt_tokens'))
                self.stats.add('completion_tokens',
                               _token_count(usage, 'completion_tokens'))
                return content
            if attempt < self.retry.max_attempts:
                self.stats.add('retries')
                self._wait(
                    self.retry.delay(attempt, retry_after, rng=self._rng),
                    should_stop)
        self.stats.add('failed')
        message = (f'Backend {self.name!r}: gave up after '
                   f'{self.retry.max_attempts} attempts; last error: '
                   f'{last_error}')
        with self._streak_lock:
            self._given_up += 1
            given_up = self._given_up
        if self.max_failed_requests is not None and \
                given_up >= self.max_failed_requests:
            raise BackendUnavailableError(
                f'{self._where()}: {given_up} requests in a row failed after '
                f'all {self.retry.max_attempts} attempts, the server seems '
                f'to be down; last error: {last_error}')
        raise BackendError(message)

    def probe(self, timeout: float = 10.0) -> str:
        """Check once that the server answers for this model.

        Asks ``GET <base_url>/models`` first; when the model is not listed
        (or there is no list), sends one one-token chat request.

        Returns:
            What answered, for the log.

        Raises:
            BackendUnavailableError: the server cannot be reached.
            BackendConfigurationError: it answers, but not for this model
                / key / URL; the message says what came back.
        """
        client = self.client.with_options(
            timeout=min(timeout, self.config.timeout), max_retries=0)
        listed = None
        try:
            page = client.models.list()
            listed = [
                str(getattr(m, 'id', m)) for m in getattr(page, 'data', [])
            ]
        except (openai.APITimeoutError, openai.APIConnectionError) as err:
            raise BackendUnavailableError(
                f'{self._where()}: the server cannot be reached ({err}); is '
                'it running and is base_url right?') from err
        except openai.APIStatusError as err:
            if err.status_code in (401, 403):
                raise BackendConfigurationError(
                    f'{self._where()}: GET /models answered HTTP '
                    f'{err.status_code} ({str(err)[:160]}); check the API '
                    'key (api_key_env).') from err
        except (openai.APIError, ) + _DECODE_ERRORS:
            pass  # no usable model list: ask the model itself
        if listed and self.config.model in listed:
            return f'{self.config.model!r} is listed by GET /models'
        hint = (f' The server lists {listed[:10]}.' if listed else '')
        try:
            response = client.chat.completions.create(
                model=self.config.model,
                messages=[{
                    'role': 'user',
                    'content': 'Reply with OK.'
                }],
                max_tokens=1,
                temperature=0)
            reply_text(response)
        except (openai.APITimeoutError, openai.APIConnectionError) as err:
            raise BackendUnavailableError(
                f'{self._where()}: a one-token test request got no answer '
                f'({err}).{hint}') from err
        except openai.APIStatusError as err:
            if err.status_code == 429:
                return 'rate limited (HTTP 429) but reachable'
            raise BackendConfigurationError(
                f'{self._where()}: a one-token test request answered HTTP '
                f'{err.status_code} ({str(err)[:200]}). Check base_url (the '
                f'API root, e.g. ending in /v1), model and the API key.'
                f'{hint}') from err
        except BadReplyError as err:
            raise BackendConfigurationError(
                f'{self._where()}: a one-token test request got no chat '
                f'completion: {err}. Is base_url the API root (e.g. ending '
                'in /v1)?') from err
        except (openai.APIError, ) + _DECODE_ERRORS as err:
            raise BackendConfigurationError(
                f'{self._where()}: a one-token test request got an '
                f'unreadable reply ({type(err).__name__}: '
                f'{str(err)[:160]}). Is base_url the API root (e.g. ending '
                'in /v1)?') from err
        return f'{self.config.model!r} answered a one-token request'

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


def _token_count(usage: Any, name: str) -> int:
    """A usage field as an int (0 when missing or not a number)."""
    value = getattr(usage, name, None) if usage is not None else None
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0
