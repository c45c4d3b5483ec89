"""Trained students as files: what a distillation run hands over for deployment.

A student file holds the student's constructor arguments, its weights and a JSON
description of where it comes from (task, teacher, method, scores), written atomically and
read back with ``weights_only=True``. Students are the graph-free models of gkd: a
:class:`~gkd.nn.MLP` node classifier (``gkd distill``) or a
:class:`~gkd.nn.link_predictor.LinkPredictor` with an MLP encoder (``gkd linkpred``).
Serving one needs the node features only: no teacher, no graph and none of gkd's training
code.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from gkd.errors import GkdError
from gkd.io import load_artifact, meta_text, save_torch
from gkd.nn import MLP
from gkd.nn.link_predictor import LinkPredictor

FORMAT = 1  # bump when the layout of a student file changes
_MLP = ("in_channels", "hidden_channels", "out_channels", "num_layers", "dropout", "norm")
_LINK = ("encoder", "embedding_channels", "decoder_layers", "dropout")
Student = MLP | LinkPredictor


def save_student(path: str | os.PathLike, student: Student,
                 meta: dict[str, Any] | None = None) -> Path:
    r"""Writes :obj:`student` to :obj:`path` atomically (:func:`~gkd.io.save_torch`): its
    constructor arguments, its weights (on the CPU) and :obj:`meta`.

    Args:
        path (str or os.PathLike): the file to write; missing folders are created.
        student (MLP or LinkPredictor): a trained student: an MLP, or a graph-free link
            predictor whose encoder is an MLP.
        meta (dict, optional): JSON values describing it, e.g. the task and its scores.
            (default: ``None``)

    Returns:
        Path: :obj:`path`.

    Raises:
        GkdError: :obj:`student` is neither, :obj:`meta` is not JSON-serialisable, or
            :obj:`path` is a folder.
    """
    arguments = _arguments(student)
    state = {name: tensor.detach().cpu() for name, tensor in student.state_dict().items()}
    return save_torch(path, {"kind": "student", "format": FORMAT, "arguments": arguments,
                             "state": state, "meta": meta_text(meta or {}, "student")})


def load_student(path: str | os.PathLike,
                 device: str | torch.device = "cpu") -> tuple[Student, dict[str, Any]]:
    r"""Reads a student written by :func:`save_student` (``weights_only=True``).

    Args:
        path (str or os.PathLike): the student file.
        device (str or torch.device, optional): where to put the model.
            (default: ``"cpu"``)

    Returns:
        tuple: the student in eval mode (an :class:`~gkd.nn.MLP` or a
        :class:`~gkd.nn.link_predictor.LinkPredictor`) and its meta.

    Raises:
        GkdError: the file does not exist, cannot be read, is not a gkd student file of
            the current format, or its arguments and weights do not fit together.
    """
    obj = load_artifact(path, "student", FORMAT)
    state = obj.get("state")
    if not isinstance(state, dict):
        raise GkdError(f"'{path}' is a damaged student file: it holds no weights")
    student = _build(obj.get("arguments"), path)
    dtypes = {v.dtype for v in state.values()
              if isinstance(v, torch.Tensor) and v.is_floating_point()}
    if len(dtypes) == 1:  # a float64 or half-precision student stays one
        student.to(dtypes.pop())
    try:
        student.load_state_dict(state)
    except (RuntimeError, TypeError) as error:
        raise GkdError(f"'{path}' is a damaged student file: its weights do not fit "
                       f"{student!r} ({str(error).splitlines()[0]})") from None
    return student.to(device).eval(), obj["meta"]


def _arguments(student: Student) -> dict[str, Any]:
    if isinstance(student, MLP):
        return {"model": "MLP", **{name: getattr(student, name) for name in _MLP}}
    if isinstance(student, LinkPredictor) and student.graph_free and \
            isinstance(student.encoder, MLP):
        decoder = student.decoder.mlp
        return {"model": "LinkPredictor", "encoder": _arguments(student.encoder),
                "embedding_channels": student.embedding_channels,
                "decoder_layers": decoder.num_layers, "dropout": decoder.dropout}
    raise GkdError(f"save_student writes gkd.MLP students and graph-free LinkPredictors "
                   f"with an MLP encoder; got {type(student).__name__}")


def _build(arguments: Any, path: str | os.PathLike) -> Student:
    model = str(arguments.get("model")) if isinstance(arguments, dict) else ""
    fields = {"MLP": _MLP, "LinkPredictor": _LINK}.get(model)
    if fields is None or set(arguments) != {"model", *fields}:
        raise GkdError(f"'{path}' is a damaged student file: its arguments describe neither "
                       f"an MLP ({', '.join(_MLP)}) nor a link predictor "
                       f"({', '.join(_LINK)})")
    options = {name: arguments[name] for name in fields}
    if model == "LinkPredictor":
        encoder = _build(options.pop("encoder"), path)
        if not isinstance(encoder, MLP):
            raise GkdError(f"'{path}' is a damaged student file: its link predictor's "
                           f"encoder is not an MLP")
    try:
        if model == "MLP":
            return MLP(**options)
        return LinkPredictor(encoder, **options, graph_free=True)
    except GkdError as error:  # a size or option out of range
        raise GkdError(f"'{path}' is a damaged student file: {error}") from None
