# Copyright (c) mmreid_text contributors. All rights reserved.
"""Back-off of transient request failures and the ``Retry-After`` header."""
import email.utils
import random
import time
from dataclasses import dataclass
from typing import Optional


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


def retry_after_seconds(err: Exception) -> Optional[float]:
    """Seconds the server asks to wait, from the error's HTTP response.

    Reads ``retry-after-ms`` (milliseconds) first, then ``retry-after``
    (seconds or an HTTP date); ``None`` when neither header is there.
    """
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
