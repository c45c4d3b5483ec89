"""Configuration dicts and ``KEY=VALUE`` overrides."""
from __future__ import annotations

import json
import math
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
    r"""A copy of :obj:`config` with :obj:`overrides` applied.

    Keys must already exist. An option whose default is a bool takes a bool; one whose
    default is a number takes a finite number, converted to the default's type (an ``int``
    stays an ``int``), or ``None`` (``null``), which switches an optional setting off (e.g.
    a dataset's mini-batch size). Options whose default is ``None`` or a string take any
    value.

    Args:
        config (dict): the defaults.
        overrides (dict): the options to change.
        what (str): what the options configure, for error messages (e.g. ``"student"``).

    Returns:
        dict: the merged configuration.

    Raises:
        GkdError: on an unknown option or a value of the wrong kind.
    """
    unknown = sorted(set(overrides) - set(config))
    if unknown:
        raise GkdError(f"unknown {what} option(s) {', '.join(unknown)}; known: "
                       f"{', '.join(sorted(config))}")
    merged = dict(config)
    for key, value in overrides.items():
        merged[key] = _checked_value(config[key], value, f"{what} option {key}")
    return merged


def _checked_value(default: Any, value: Any, name: str) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise GkdError(f"{name} takes true or false; got {value!r}")
        return value
    if not isinstance(default, (int, float)) or value is None:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GkdError(f"{name} takes a number; got {value!r}")
    if not math.isfinite(value):
        raise GkdError(f"{name} takes a finite number; got {value!r}")
    if isinstance(default, int) and value != int(value):
        raise GkdError(f"{name} takes an integer; got {value!r}")
    return type(default)(value)
