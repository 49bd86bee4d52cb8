# Copyright (c) mmreid_text contributors. All rights reserved.
"""Errors of caption requests: failed, misconfigured, cancelled."""


class BackendError(RuntimeError):
    """A request failed for good (after retries, or not retryable)."""


class BackendConfigurationError(BackendError):
    """The backend rejects every request (bad URL, model or API key)."""


class RequestCancelled(RuntimeError):
    """The run is stopping; the request was abandoned (not a failure)."""
