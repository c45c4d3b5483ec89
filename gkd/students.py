"""Trained students as files: what a distillation run hands over for deployment.

A student file holds the :class:`~gkd.nn.MLP`'s constructor arguments, its weights and a
JSON description of where it comes from (task, teacher, method, scores), written atomically
and read back with ``weights_only=True``. Serving it needs the node features only: no
teacher, no graph and none of gkd's training code.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from gkd.errors import GkdError
from gkd.io import load_artifact, meta_text, save_torch
from gkd.nn import MLP

FORMAT = 1  # bump when the layout of a student file changes
_ARGUMENTS = ("in_channels", "hidden_channels", "out_channels", "num_layers", "dropout", "norm")


def save_student(path: str | os.PathLike, student: MLP,
                 meta: dict[str, Any] | None = None) -> Path:
    r"""Writes :obj:`student` to :obj:`path` atomically (:func:`~gkd.io.save_torch`): its
    constructor arguments, its weights (on the CPU) and :obj:`meta`.

    Args:
        path (str or os.PathLike): the file to write; missing folders are created.
        student (MLP): a trained student.
        meta (dict, optional): JSON values describing it, e.g. the task and its scores.
            (default: ``None``)

    Returns:
        Path: :obj:`path`.

    Raises:
        GkdError: :obj:`student` is not a :class:`~gkd.nn.MLP`, :obj:`meta` is not
            JSON-serialisable, or :obj:`path` is a folder.
    """
    if not isinstance(student, MLP):
        raise GkdError(f"save_student writes gkd.MLP students; got {type(student).__name__}")
    state = {name: tensor.detach().cpu() for name, tensor in student.state_dict().items()}
    return save_torch(path, {"kind": "student", "format": FORMAT,
                             "arguments": {name: getattr(student, name) for name in _ARGUMENTS},
                             "state": state, "meta": meta_text(meta or {}, "student")})


def load_student(path: str | os.PathLike,
                 device: str | torch.device = "cpu") -> tuple[MLP, dict[str, Any]]:
    r"""Reads a student written by :func:`save_student` (``weights_only=True``).

    Args:
        path (str or os.PathLike): the student file.
        device (str or torch.device, optional): where to put the model.
            (default: ``"cpu"``)

    Returns:
        tuple: the :class:`~gkd.nn.MLP` in eval mode and its meta.

    Raises:
        GkdError: the file does not exist, cannot be read, is not a gkd student file of
            the current format, or its arguments and weights do not fit together.
    """
    obj = load_artifact(path, "student", FORMAT)
    arguments = obj.get("arguments")
    if not isinstance(arguments, dict) or set(arguments) != set(_ARGUMENTS):
        raise GkdError(f"'{path}' is a damaged student file: its arguments are not those of "
                       f"an MLP ({', '.join(_ARGUMENTS)})")
    state = obj.get("state")
    if not isinstance(state, dict):
        raise GkdError(f"'{path}' is a damaged student file: it holds no weights")
    student = MLP(**arguments)
    try:
        student.load_state_dict(state)
    except (RuntimeError, TypeError) as error:
        raise GkdError(f"'{path}' is a damaged student file: its weights do not fit "
                       f"{student!r} ({str(error).splitlines()[0]})") from None
    return student.to(device).eval(), obj["meta"]
