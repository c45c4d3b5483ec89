"""Configuration dicts and ``KEY=VALUE`` overrides."""
from __future__ import annotations

import json
from typing import Any

from gkd.errors import GkdError


def parse_value(text: str) -> Any:
    r"""Parses a command-line value as JSON (``0.5``, ``true``, ``null``, ``"x"``), falling
    back to the plain string (``batch_norm``)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def merge_overrides(config: dict[str, Any], overrides: dict[str, Any],
                    what: str) -> dict[str, Any]:
    r"""A copy of :obj:`config` with :obj:`overrides` applied; keys must already exist,
    and numbers are converted to the type of the default (an ``int`` stays an ``int``)."""
    unknown = sorted(set(overrides) - set(config))
    if unknown:
        raise GkdError(f"unknown {what} option(s) {', '.join(unknown)}; known: "
                       f"{', '.join(sorted(config))}")
    merged = dict(config)
    for key, value in overrides.items():
        default = config[key]
        if isinstance(default, bool) or default is None or isinstance(value, (bool, type(None))):
            merged[key] = value
        elif isinstance(default, (int, float)):
            if not isinstance(value, (int, float)):
                raise GkdError(f"{what} option {key} takes a number; got {value!r}")
            if isinstance(default, int) and value != int(value):
                raise GkdError(f"{what} option {key} takes an integer; got {value!r}")
            merged[key] = type(default)(value)
        else:
            merged[key] = value
    return merged
