"""One link-prediction experiment per seed: a GNN teacher, a plain MLP and a distilled MLP
student on the same split, scored with Hits@K."""
from __future__ import annotations

import os
from typing import Any

import torch

from gkd.config import check_config, merge_overrides
from gkd.data.links import LinkTask
from gkd.distill.llp import LinkDistiller, get_link_distiller
from gkd.errors import GkdError
from gkd.knowledge import parameter_count
from gkd.link_evaluation import evaluate_links, logged_link_metrics
from gkd.link_teachers import (
    LinkKnowledge,
    cached_link_model,
    embed_graph,
    link_teacher_config,
    link_teacher_knowledge,
)
from gkd.nn import MLP
from gkd.nn.link_predictor import LinkPredictor
from gkd.ops.checks import check_count
from gkd.students import save_student

LINK_STUDENT_DEFAULTS: dict[str, Any] = {"hidden_channels": 256, "num_layers": 2,
                                         "dropout": 0.5, "decoder_layers": 2}
# Chosen on the student's mean validation Hits@20 over Cora and CiteSeer, the datasets the
# student sweep ran on (benchmarks/results/llp/README.md, "Student sweep").
LINK_STUDENT_DATASET_DEFAULTS: dict[str, dict[str, Any]] = {
    "cora": {"hidden_channels": 512}, "citeseer": {"hidden_channels": 512}}
METRIC_OPTIONS = ("hits_k", "select_k")


def link_config(dataset: str | None, teacher: str, method: str,
                overrides: dict[str, dict[str, Any]] | None = None
                ) -> dict[str, dict[str, Any]]:
    r"""The full configuration ``{"teacher", "student", "distiller"}`` of one link
    distillation, defaults with :obj:`overrides` (same namespaces) applied and checked.

    A ``hits_k`` or ``select_k`` override of the distiller also applies to the teacher
    (unless the teacher overrides it itself), since every model is scored and selected
    with the same Hits@K.

    Args:
        dataset (str or None): the dataset name, for the teacher's and the student's
            dataset defaults (:data:`LINK_STUDENT_DATASET_DEFAULTS`: 512-wide students on
            Cora and CiteSeer); ``None`` for the general defaults.
        teacher (str): the link teacher, ``"sage"`` or ``"gcn"``.
        method (str): the link distiller, e.g. ``"llp"``, ``"logit"`` or ``"repr"``.
        overrides (dict, optional): ``{"teacher": {...}, "student": {...},
            "distiller": {...}}``, each namespace optional. (default: ``None``)

    Returns:
        dict: the three option dicts.

    Raises:
        GkdError: an unknown teacher, method or option, an invalid option value, or
            ``hits_k`` / ``select_k`` that differ between teacher and distiller.
    """
    overrides = overrides or {}
    unknown = sorted(set(overrides) - {"teacher", "student", "distiller"})
    if unknown:
        raise GkdError(f"unknown option namespace(s) {', '.join(map(repr, unknown))}; choose "
                       f"from teacher, student, distiller")
    distiller_cls = get_link_distiller(method)
    metric = {key: value for key, value in overrides.get("distiller", {}).items()
              if key in METRIC_OPTIONS}
    if metric:  # one metric for every model: the teacher is scored and selected on it too
        overrides = {**overrides, "teacher": {**metric, **overrides.get("teacher", {})}}
    student = {**LINK_STUDENT_DEFAULTS,
               **LINK_STUDENT_DATASET_DEFAULTS.get((dataset or "").lower(), {})}
    config = {
        "teacher": link_teacher_config(teacher, dataset, overrides.get("teacher", {})),
        "student": merge_overrides(student, overrides.get("student", {}), "student"),
        "distiller": merge_overrides(distiller_cls().options(), overrides.get("distiller", {}),
                                     method),
    }
    distiller_cls(**config["distiller"])
    for key in METRIC_OPTIONS:
        if config["teacher"][key] != config["distiller"][key]:
            raise GkdError(f"teacher.{key} ({config['teacher'][key]}) and distiller.{key} "
                           f"({config['distiller'][key]}) must agree: every model is scored "
                           f"and selected with the same Hits@K")
    return config


def build_link_student(in_channels: int, config: dict[str, Any]) -> LinkPredictor:
    r"""The graph-free student: an MLP encoder and a Hadamard decoder.

    Args:
        in_channels (int): the node feature size.
        config (dict): student options (:data:`LINK_STUDENT_DEFAULTS`):
            ``hidden_channels`` (the MLP's hidden and output size), ``num_layers``,
            ``dropout`` (of the MLP and the decoder) and ``decoder_layers``.

    Returns:
        LinkPredictor: the untrained student, called as ``encode(x)``.
    """
    hidden = config["hidden_channels"]
    encoder = MLP(in_channels, hidden, hidden, num_layers=config["num_layers"],
                  dropout=config["dropout"])
    return LinkPredictor(encoder, hidden, config["decoder_layers"], config["dropout"],
                         graph_free=True)


def _train_student(task: LinkTask, distiller: LinkDistiller, config: dict[str, Any],
                   knowledge: LinkKnowledge | None, seed: int
                   ) -> tuple[LinkPredictor, dict[str, float], dict[str, Any]]:
    torch.manual_seed(seed)
    student = build_link_student(task.num_features, config).to(task.device)
    history = distiller.fit(student, task, knowledge)
    metrics = evaluate_links(task, lambda g: student.encode(g.x), student.score, distiller.hits_k)
    return student, metrics, {"epoch": history.best_epoch, "params": parameter_count(student),
                              "seconds": round(history.seconds, 3),
                              "logged_metrics": _logged_metrics(task, student)}


def _logged_metrics(task: LinkTask, model: LinkPredictor) -> dict[str, dict[str, float]]:
    return logged_link_metrics(task, lambda g: embed_graph(model, g), model.score)


def plain_link_model(task: LinkTask, distiller: LinkDistiller, config: dict[str, Any], *,
                     seed: int = 0, cache: str | os.PathLike | None = None,
                     use_cache: bool = True) -> tuple[LinkPredictor, dict[str, Any]]:
    r"""The plain MLP link predictor of a seed: :obj:`distiller`'s training options
    (without ``label_weight``, which only weighs the labels against distillation) on the
    labels alone, so every method and loss weighting of a seed shares it; cached like the
    teacher (:func:`~gkd.link_teachers.cached_link_model`, under ``link-baselines``).

    Args:
        task (LinkTask): the split.
        distiller (LinkDistiller): the method whose training options the baseline
            shares; options of a subclass (its distillation loss) are dropped.
        config (dict): student options (see :func:`build_link_student`).
        seed (int, optional): the training seed. (default: ``0``)
        cache (str or os.PathLike, optional): the cache dir.
            (default: :func:`~gkd.data.cache_dir`)
        use_cache (bool, optional): reuse and store the trained model. (default: ``True``)

    Returns:
        The model in eval mode and its metadata (``name``, ``config``, ``metrics`` in
        Hits@K percent, ``epoch``, ``params``, ``seconds``, ``cached``), as
        :func:`~gkd.link_teachers.cached_link_model` returns them.
    """
    training = {k: v for k, v in distiller.options().items()
                if k in LinkDistiller().options() and k != "label_weight"}
    baseline = LinkDistiller(**training)
    return cached_link_model(
        task, "mlp", {**config, **baseline.options()}, seed=seed,
        build=lambda: build_link_student(task.num_features, config),
        train=lambda m: baseline.fit(m, task), folder="link-baselines", cache=cache,
        use_cache=use_cache)


def plain_link_mlp(task: LinkTask, distiller: LinkDistiller, config: dict[str, Any], *,
                   seed: int = 0, cache: str | os.PathLike | None = None,
                   use_cache: bool = True) -> tuple[dict[str, float], dict[str, Any]]:
    r"""The metrics (Hits@K in percent) and details (``epoch``, ``params``, ``seconds``,
    ``cached``, ``logged_metrics``) of the seed's :func:`plain_link_model`, which takes
    the same arguments.

    Returns:
        ``(metrics, details)``.
    """
    model, meta = plain_link_model(task, distiller, config, seed=seed, cache=cache,
                                   use_cache=use_cache)
    details = {k: meta[k] for k in ("epoch", "params", "seconds", "cached")}
    return meta["metrics"], {**details, "logged_metrics": _logged_metrics(task, model)}


def check_hits_k(task: LinkTask, options: dict[str, Any]) -> None:
    r"""Raises a :class:`~gkd.errors.GkdError` if the distiller :obj:`options`'
    ``hits_k`` exceeds the negatives of an evaluation set of :obj:`task`, or ``select_k``
    those of the validation set: Hits@K is 1 by definition with fewer than :math:`K`
    negatives.

    Args:
        task (LinkTask): the split.
        options (dict): the distiller's options (``config["distiller"]``).
    """
    scored = {"hits_k": {"val": task.val, **task.tests}, "select_k": {"val": task.val}}
    for option, pools in scored.items():
        name, smallest = min(((name, pairs.neg.size(1)) for name, pairs in pools.items()),
                             key=lambda item: item[1])
        k = options.get(option)
        if k is not None and k > smallest:
            raise GkdError(f"distiller.{option}={k} exceeds the {smallest} negatives of the "
                           f"'{name}' pairs: Hits@{k} would be 100 for every model")


def run_link_prediction(task: LinkTask, teacher: str, method: str,
                        config: dict[str, dict[str, Any]], *, seed: int = 0,
                        knowledge: LinkKnowledge | None = None,
                        cache: str | os.PathLike | None = None,
                        use_cache: bool = True,
                        save_to: str | os.PathLike | None = None) -> dict[str, Any]:
    r"""Trains (or reuses) the link teacher, a plain MLP link predictor (labels only) and
    the student distilled with :obj:`method` for one seed, and scores all three.

    Args:
        task (LinkTask): the split, shared by every seed.
        teacher (str): ``"sage"`` or ``"gcn"``.
        method (str): ``"llp"``, ``"logit"`` or ``"repr"``.
        config (dict): ``{"teacher": {...}, "student": {...}, "distiller": {...}}``.
        seed (int, optional): seeds the teacher, the MLP and the student. (default: ``0``)
        knowledge (LinkKnowledge, optional): the teacher to distil from instead of the
            one trained with :obj:`seed`, e.g. :func:`~gkd.link_teachers.best_link_teacher`.
            (default: ``None``)
        cache (str, optional): the cache dir for teachers and plain MLPs.
            (default: :func:`~gkd.data.cache_dir`)
        use_cache (bool, optional): reuse and store trained teachers and plain MLPs, which
            do not depend on :obj:`method`. (default: ``True``)
        save_to (str or os.PathLike, optional): write the distilled student there
            (:func:`~gkd.students.save_student`), with the task's
            :attr:`~gkd.data.LinkTask.info` and fingerprint, the seed, the teacher, the
            method, the configuration and the student's scores as its meta.
            (default: ``None``)

    Returns:
        A run record ``{"seed", "fingerprint", "teacher", "mlp", "student", "details",
        "split"}`` (``fingerprint``: the task's :meth:`~gkd.data.LinkTask.fingerprint`)
        where each model maps ``val``, ``test`` (and the production test groups) to Hits@K in
        percent; each model's details hold, under ``logged_metrics``, Hits@10/50/100 and
        ROC-AUC on the same sets (:func:`~gkd.link_evaluation.logged_link_metrics`); with
        :obj:`save_to`, ``details["student"]["file"]`` names the student file.

    Raises:
        GkdError: :obj:`seed` is not a non-negative integer, :obj:`config` lacks a part
            or has a student configuration other than :data:`LINK_STUDENT_DEFAULTS`' keys,
            or ``hits_k`` or ``select_k`` exceeds the negatives of an evaluation set.
    """
    check_count(seed, "seed")
    missing = [part for part in ("teacher", "student", "distiller")
               if not isinstance(config.get(part), dict)]
    if missing:
        raise GkdError(f"the link configuration lacks {', '.join(missing)} (start from "
                       f"gkd.linkpred.link_config)")
    check_config(config["student"], LINK_STUDENT_DEFAULTS, "link student")
    check_hits_k(task, config["distiller"])
    distiller = get_link_distiller(method)(**config["distiller"])
    if knowledge is None:
        knowledge = link_teacher_knowledge(task, teacher, config["teacher"], seed=seed,
                                           cache=cache, use_cache=use_cache)
    mlp, mlp_details = plain_link_mlp(task, distiller, config["student"], seed=seed,
                                      cache=cache, use_cache=use_cache)
    model, student, student_details = _train_student(task, distiller, config["student"],
                                                     knowledge, seed)
    if save_to is not None:
        save_student(save_to, model, {"task": task.info, "fingerprint": task.fingerprint(),
                                      "seed": seed, "teacher": teacher, "method": method,
                                      "config": config, "metrics": student})
        student_details["file"] = str(save_to)
    teacher_details = {k: knowledge.meta[k]
                       for k in ("seed", "epoch", "params", "seconds", "cached")}
    teacher_details["logged_metrics"] = _logged_metrics(task, knowledge.model)
    return {"seed": seed, "fingerprint": task.fingerprint(), "teacher": knowledge.meta["metrics"],
            "mlp": mlp, "student": student,
            "details": {"teacher": teacher_details, "mlp": mlp_details,
                        "student": student_details},
            "split": task.sizes()}
