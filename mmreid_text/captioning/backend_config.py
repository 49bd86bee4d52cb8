# Copyright (c) mmreid_text contributors. All rights reserved.
"""Settings of one chat-completions backend and the ways to write them.

A backend is configured by a name, a base URL, a model name and the name of
the environment variable holding its API key (none for local servers such as
vLLM or Ollama): on the command line as a ``key=value`` spec
(``parse_backend_spec``) or in a backend file as a dict
(``backend_from_dict``).
"""
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from .errors import BackendConfigurationError

ROLES = ('attributes', 'compose', 'describe')
_NO_KEY = 'EMPTY'  # placeholder; local servers ignore the key


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
        for key in ('name', 'base_url', 'model'):
            if not isinstance(getattr(self, key), str):
                raise ValueError(f'Backend {self.name!r}: {key} must be a '
                                 f'string, got {getattr(self, key)!r}')
        if not isinstance(self.json_mode, bool):
            raise ValueError(f'Backend {self.name!r}: json_mode must be true '
                             f'or false, got {self.json_mode!r}')
        for key, kind in _TYPES.items():
            value = getattr(self, key)
            if key == 'max_image_side' and value is None:
                continue
            if isinstance(value, bool) or not isinstance(
                    value, (int, float) if kind is float else int):
                what = 'a number' if kind is float else 'an integer'
                raise ValueError(f'Backend {self.name!r}: {key} must be '
                                 f'{what}, got {value!r}')
        if not self.timeout > 0 or self.max_tokens < 1:
            raise ValueError(f'Backend {self.name!r}: timeout must be > 0 '
                             'and max_tokens >= 1')
        if not isinstance(self.extra_body, dict):
            raise ValueError(f'Backend {self.name!r}: extra_body must be a '
                             f'dict, got {self.extra_body!r}')

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
        try:
            if key == 'json_mode':
                fields[key] = _bool(value)
            elif key in _TYPES:
                fields[key] = _TYPES[key](value)
            else:
                fields[key] = value or None
        except ValueError:
            kind = {
                bool: 'true or false',
                float: 'a number',
                int: 'an integer'
            }[bool if key == 'json_mode' else _TYPES[key]]
            raise ValueError(f'Backend spec {spec!r}: {key}={value!r} is '
                             f'not {kind}') from None
    for needed in ('name', 'base_url', 'model'):
        if needed not in fields:
            raise ValueError(f'Backend spec {spec!r} lacks {needed}=...')
    return BackendConfig(**fields)


def backend_from_dict(cfg: Dict[str, Any]) -> BackendConfig:
    """A ``BackendConfig`` from a dict of a backend file (keys checked)."""
    if not isinstance(cfg, dict):
        raise ValueError(f'A backend must be a dict of BackendConfig fields, '
                         f'got {cfg!r}'[:200])
    unknown = set(cfg) - set(BackendConfig.__dataclass_fields__)
    if unknown:
        raise ValueError(f'Backend {cfg.get("name")!r}: unknown keys '
                         f'{sorted(unknown)}')
    return BackendConfig(**cfg)
