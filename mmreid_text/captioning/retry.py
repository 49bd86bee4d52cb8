# Copyright (c) mmreid_text contributors. All rights reserved.
"""Back-off of transient request failures and the ``Retry-After`` header."""
import email.utils
import math
import random
import time
from dataclasses import dataclass
from typing import Optional


@dataclass
class RetryPolicy:
    """Exponential back-off for transient failures.

    The wait before retry ``k`` (1-based) is
    ``min(max_delay, initial_delay * multiplier ** (k - 1))`` scaled by a
    random factor in ``[1 - jitter, 1 + jitter]``.  A ``Retry-After``
    header (seconds or HTTP date) replaces it when larger, also beyond
    ``max_delay``: the server's wish is honoured up to
    ``max_retry_after`` seconds; a longer wish fails the request with that
    reason (``exceeds_ceiling``) so a rerun retries it later.
    """
    max_attempts: int = 6
    initial_delay: float = 1.0
    max_delay: float = 60.0
    multiplier: float = 2.0
    jitter: float = 0.25
    max_retry_after: float = 600.0

    def __post_init__(self):
        if self.max_attempts < 1:
            raise ValueError(f'max_attempts must be >= 1, got '
                             f'{self.max_attempts}')
        for name in ('initial_delay', 'max_delay', 'max_retry_after'):
            if not getattr(self, name) >= 0:
                raise ValueError(f'{name} must be >= 0, got '
                                 f'{getattr(self, name)}')

    def exceeds_ceiling(self, retry_after: Optional[float]) -> bool:
        """Whether a ``Retry-After`` wish is longer than the ceiling."""
        return retry_after is not None and retry_after > self.max_retry_after

    def delay(self,
              retry: int,
              retry_after: Optional[float] = None,
              rng: Optional[random.Random] = None) -> float:
        base = min(self.max_delay,
                   self.initial_delay * self.multiplier**(retry - 1))
        scale = 1.0 + self.jitter * (2 * (rng or random).random() - 1)
        wait = base * scale
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_retry_after))
        return max(0.0, wait)


def _finite(value: str) -> Optional[float]:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number) or math.isinf(number):
        return None
    return max(0.0, number)


def parse_retry_after(value: Optional[str],
                      now: Optional[float] = None) -> Optional[float]:
    """Seconds of a ``Retry-After`` value (seconds or an HTTP date).

    Anything else (``'soon'``, an invalid date, ``nan``) is ``None``:
    the normal back-off applies.
    """
    if value is None or not str(value).strip():
        return None
    seconds = _finite(value)
    if seconds is not None:
        return seconds
    try:
        parsed = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    try:
        stamp = parsed.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
    return max(0.0, stamp - (time.time() if now is None else now))


def retry_after_seconds(err: Exception) -> Optional[float]:
    """Seconds the server asks to wait, from the error's HTTP response.

    Reads ``retry-after-ms`` (milliseconds) first, then ``retry-after``
    (seconds or an HTTP date); ``None`` when neither header is there or
    readable.
    """
    response = getattr(err, 'response', None)
    headers = getattr(response, 'headers', None)
    if not headers:
        return None
    millis = _finite(headers.get('retry-after-ms'))
    if millis is not None:
        return millis / 1000.0
    return parse_retry_after(headers.get('retry-after'))
