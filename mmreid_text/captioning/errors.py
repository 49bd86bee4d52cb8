# Copyright (c) mmreid_text contributors. All rights reserved.
"""Errors of caption requests: failed, misconfigured, unavailable,
cancelled, unreadable replies."""


class BackendError(RuntimeError):
    """A request failed for good (after retries, or not retryable)."""


class BackendConfigurationError(BackendError):
    """The backend rejects every request (bad URL, model or API key)."""


class BackendUnavailableError(BackendError):
    """The backend cannot be reached (not running, or stopped answering:
    every request of a long streak ended in a connection error or a
    timeout).  The run stops; finished requests stay cached."""


class BadReplyError(ValueError):
    """An HTTP 200 reply that is not a chat completion (not JSON, an HTML
    page, no ``choices`` / ``message``); retried like a server error."""


class RequestCancelled(RuntimeError):
    """The run is stopping; the request was abandoned (not a failure)."""
