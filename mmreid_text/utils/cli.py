# Copyright (c) mmreid_text contributors. All rights reserved.
"""Command-line helpers of the tools that promise one-line usage errors
(exit 2, no traceback): the caption tools (docs/captions.md)."""
import argparse
import json
from typing import Any, List


class OneLineParser(argparse.ArgumentParser):
    """Command-line mistakes as one line on stderr, exit 2 (no usage
    dump)."""

    def error(self, message):
        self.exit(2, f'error: {message} (see --help)\n')


class UsageError(Exception):
    """A mistake in the command line or its input files (exit 2)."""


def one_line(err: Any) -> str:
    """An exception's message on one line (a ``KeyError`` without the
    quotes ``str()`` adds)."""
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args \
        else str(err)
    return ' '.join(text.split())


def parse_cfg_options(pairs: List[str]) -> dict:
    """``--cfg-options key=value ...`` -> ``{key: value}``; a value is
    read as JSON when it is JSON (numbers, booleans, lists), else kept as
    the string."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition('=')
        if not sep or not key:
            raise UsageError(f'--cfg-options {pair!r} is not key=value')
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options
