"""Configuration dicts and ``KEY=VALUE`` overrides."""
from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from gkd.errors import GkdError


def parse_value(text: str) -> Any:
    r"""Parses a command-line value as JSON (``0.5``, ``true``, ``null``, ``"x"``), else as
    a number JSON does not write (``.5``, ``1.``, ``+1``), else as the plain string
    (``batch_norm``)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    return text


_POSITIVE = (lambda v: v > 0, "positive")
_NON_NEGATIVE = (lambda v: v >= 0, "non-negative")
_COUNT = (lambda v: v >= 1, "at least 1")
_SHARE = (lambda v: 0 <= v <= 1, "in [0, 1]")
_BELOW_ONE = (lambda v: 0 <= v < 1, "in [0, 1)")
_OPEN_SHARE = (lambda v: 0 < v < 1, "in (0, 1)")
# Options that mean the same in every namespace (teacher, student, distiller, model, train,
# condenser), by name; "*" stands for any prefix.
_RANGES: dict[str, tuple[Callable[[float], bool], str]] = {
    **dict.fromkeys(("lr", "temperature", "code_temperature", "noise_std", "grad_clip",
                     "initial_alpha"), _POSITIVE),
    **dict.fromkeys(("weight_decay", "*_weight", "margin", "warmup", "num_walks",
                     "walk_length", "num_random", "dead_code_threshold"), _NON_NEGATIVE),
    **dict.fromkeys(("max_epochs", "patience", "*batch_size", "hidden_channels", "num_layers",
                     "decoder_layers", "heads", "out_heads", "K", "bins", "noise_draws",
                     "resample_every", "num_codes", "code_dim", "max_itemsets"), _COUNT),
    **dict.fromkeys(("alpha", "momentum", "lamb"), _SHARE),
    **dict.fromkeys(("*dropout", "decay"), _BELOW_ONE),
    "disjoint_ratio": _OPEN_SHARE,
}
# Non-negative options that count something (every _COUNT option is an integer too).
_INTEGERS = ("warmup", "num_walks", "walk_length", "num_random")
# Options whose None switches them off even where the default (e.g. a dataset's) is a
# number.
_SWITCHABLE = ("grad_clip", "self_weight")
# Options that name one of a few choices, the same everywhere: the normalisation layer of
# MLPs and GNNs (PyG's resolver names), and the SAGE aggregation on a sparse adjacency.
_CHOICES: dict[str, tuple[Any, ...]] = {
    "norm": (None, "batch_norm", "layer_norm"),
    "aggr": ("gcn", "mean", "sum", "add", "max", "min"),
}


def check_option(key: str, value: Any, name: str, default: Any = 0) -> None:
    r"""Checks :obj:`value` of option :obj:`key` against the range the option has wherever
    it appears (e.g. ``lr`` positive, ``*dropout`` in :math:`[0, 1)`, ``*_weight``
    non-negative, ``max_epochs`` at least 1, ``norm`` one of ``None``, ``"batch_norm"`` and
    ``"layer_norm"``); options without a known range pass. ``None`` passes where
    :obj:`default` is ``None`` or the option can be switched off.

    Args:
        key (str): the option's name.
        value: its value.
        name (str): the option as error messages name it, e.g. ``"student option dropout"``.
        default (optional): the option's default. (default: ``0``)

    Raises:
        GkdError: :obj:`value` lies outside the option's range, is not finite, or is
            not an integer below :math:`2^{31}` where the option counts something.
    """
    if key in _CHOICES:
        if value not in _CHOICES[key]:
            choices = ", ".join("null (None in Python)" if choice is None else repr(choice)
                                for choice in _CHOICES[key])
            raise GkdError(f"{name} must be one of {choices}; got {value!r}")
        return
    rule = _RANGES.get(key) or next((rule for pattern, rule in _RANGES.items()
                                     if pattern.startswith("*") and key.endswith(pattern[1:])),
                                    None)
    if rule is None or (value is None and (default is None or key in _SWITCHABLE)):
        return
    ok, wording = rule
    if value is None or isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(float(value)) or not ok(float(value)):
        raise GkdError(f"{name} must be {wording}; got {value!r}")
    if (rule is _COUNT or key in _INTEGERS) and not isinstance(value, numbers.Integral):
        raise GkdError(f"{name} must be an integer; got {value!r}")
    if (rule is _COUNT or key in _INTEGERS) and float(value) >= 2**31:  # beyond torch sizes
        raise GkdError(f"{name} must be below 2**31; got {value!r}")


def check_config(config: dict[str, Any], reference: dict[str, Any], what: str) -> None:
    r"""Raises a :class:`~gkd.errors.GkdError` unless :obj:`config` has exactly the keys
    of :obj:`reference` (its defaults), a bool where the default is one, and every value
    passes :func:`check_option`: the check of a full configuration dict handed to the
    Python API.

    Args:
        config (dict): the configuration.
        reference (dict): the defaults it must match key for key.
        what (str): what it configures, for error messages (e.g. ``"teacher sage"``).
    """
    missing, unknown = sorted(set(reference) - set(config)), sorted(set(config) - set(reference))
    if missing or unknown:
        parts = [f"missing {', '.join(missing)}" if missing else "",
                 f"unknown {', '.join(unknown)}" if unknown else ""]
        raise GkdError(f"{what} configuration: {'; '.join(p for p in parts if p)} (start from "
                       f"its defaults, e.g. gkd.teachers.teacher_config)")
    for key, value in config.items():
        if isinstance(reference[key], bool) and not isinstance(value, bool):
            raise GkdError(f"{what} option {key} takes true or false; got {value!r}")
        check_option(key, value, f"{what} option {key}", reference[key])


def check_fields(options: Any, what: str) -> None:
    r"""Runs :func:`check_option` on every field of the dataclass instance :obj:`options`,
    naming them ``"{what} option {field}"``."""
    for option in fields(options):
        check_option(option.name, getattr(options, option.name), f"{what} option {option.name}",
                     option.default)


def merge_overrides(config: dict[str, Any], overrides: dict[str, Any],
                    what: str) -> dict[str, Any]:
    r"""A copy of :obj:`config` with :obj:`overrides` applied.

    Keys must already exist. An option whose default is a bool takes a bool; one whose
    default is a number takes a finite number, converted to the default's type (an ``int``
    stays an ``int``), or ``None`` (``null``), which switches an optional setting off (e.g.
    ``grad_clip``) where :func:`check_option` allows it. Options whose default is ``None``
    or a string take any value their range (:func:`check_option`) allows.

    Args:
        config (dict): the defaults.
        overrides (dict): the options to change.
        what (str): what the options configure, for error messages (e.g. ``"student"``).

    Returns:
        dict: the merged configuration.

    Raises:
        GkdError: on an unknown option, a value of the wrong kind or out of range.
    """
    unknown = sorted(set(overrides) - set(config))
    if unknown:
        raise GkdError(f"unknown {what} option(s) {', '.join(unknown)}; known: "
                       f"{', '.join(sorted(config))}")
    merged = dict(config)
    for key, value in overrides.items():
        name = f"{what} option {key}"
        merged[key] = _checked_value(config[key], value, name)
        check_option(key, merged[key], name, config[key])
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
