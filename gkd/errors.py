"""Errors that describe a problem with the user's input or environment.

The command line prints these as one line and exits non-zero; anything else is a bug
and keeps its traceback.
"""


def first_line(error: BaseException) -> str:
    r"""The first line of :obj:`error`'s message, or its type's name when it has none."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class GkdError(Exception):
    r"""A problem the user can fix: bad input, a missing file, an unknown name."""


class InputError(GkdError, ValueError):
    r"""A function was given an argument it cannot use (wrong shape, dtype, range or
    value); also a :class:`ValueError`, as callers of numeric code expect."""


class DatasetNotFoundError(GkdError, FileNotFoundError):
    r"""A dataset's files are not under the data root."""
