"""Teacher knowledge: what a trained teacher knows about a task's nodes, as an artifact
that is extracted once, saved safely and shared by every distiller.

:func:`teacher_knowledge` trains a teacher for a task (or reuses the one cached under
the cache dir for the same dataset, protocol, setting, seed, split and teacher
configuration) and returns its :class:`Knowledge`.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import Tensor
from torch_geometric.seed import seed_everything
from torch_geometric.typing import Adj

from gkd.config import check_config
from gkd.data.datasets import cache_dir
from gkd.data.tasks import NodeTask, check_device
from gkd.errors import GkdError
from gkd.evaluation import SETTING_METRICS, evaluate
from gkd.io import (
    cache_lock,
    load_artifact,
    load_cached,
    load_torch,
    meta_text,
    save_torch,
)
from gkd.nn.vq import SIMILARITIES, code_scores
from gkd.ops import adjacency
from gkd.teachers import build_teacher, teacher_config, train_teacher
from gkd.train import History, global_rng_preserved

FORMAT = 1  # bump when the meaning of a saved knowledge file changes


@dataclass
class Knowledge:
    r"""A teacher's outputs on the nodes of a task's observed graph.

    Tensors that require gradients (a teacher's output computed with gradients enabled)
    are kept detached: knowledge is a fixed target.

    Args:
        logits (Tensor): teacher logits :math:`(N_{obs}, C)`, in the node order of
            :attr:`NodeTask.graph`.
        embeddings (Tensor, optional): hidden node representations :math:`(N_{obs}, D)`.
            (default: ``None``)
        meta (dict, optional): JSON-compatible description (teacher, config, metrics).
            (default: ``{}``)
        codebook (Tensor, optional): the codes :math:`(M, D)` of a tokenizer teacher
            (:class:`~gkd.nn.GraphTokenizer`); :attr:`embeddings` then holds its
            quantiser inputs, and :meth:`code_scores` scores them against every code.
            (default: ``None``)
        similarity (str, optional): how embeddings meet codes, ``"cosine"`` or
            ``"euclidean"`` (see :func:`~gkd.nn.code_scores`); required with a codebook.
            (default: ``None``)
        model (torch.nn.Module, optional): the trained teacher itself, for distillers
            that query it again (KRD perturbs its input); not saved with the knowledge.
            (default: ``None``)
    """

    logits: Tensor
    embeddings: Tensor | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    codebook: Tensor | None = None
    similarity: str | None = None
    model: torch.nn.Module | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("logits", "embeddings", "codebook"):
            tensor = getattr(self, name)
            if isinstance(tensor, Tensor) and tensor.requires_grad:
                setattr(self, name, tensor.detach())

    def soft_labels(self, temperature: float = 1.0) -> Tensor:
        r"""The teacher's class distributions :math:`\mathrm{softmax}(z / \tau)`.

        Args:
            temperature (float, optional): the temperature :math:`\tau`.
                (default: ``1.0``)

        Returns:
            Tensor: probabilities :math:`(N_{obs}, C)`.

        Raises:
            GkdError: :obj:`temperature` is not positive.
        """
        _check_temperature(temperature)
        return torch.softmax(self.logits / temperature, dim=-1)

    def code_scores(self, index: Tensor | None = None) -> Tensor:
        r"""The scores of nodes :obj:`index` against every code, higher meaning closer:
        :func:`~gkd.nn.code_scores` of their :attr:`embeddings` and the :attr:`codebook`
        with :attr:`similarity`. Computed on demand, so only
        :math:`N_{obs} \cdot D + M \cdot D` floats are stored.

        Args:
            index (Tensor, optional): the nodes to score. (default: ``None``, all)

        Returns:
            Tensor: scores :math:`(|index|, M)`.

        Raises:
            GkdError: the knowledge has no codebook (a plain teacher's).
        """
        if self.codebook is None or self.embeddings is None or self.similarity is None:
            raise GkdError("this knowledge has no codebook: it comes from a plain teacher, "
                           "not a tokenizer (see gkd.tokenizer.tokenizer_knowledge)")
        embeddings = self.embeddings if index is None else self.embeddings[index]
        return code_scores(embeddings, self.codebook, self.similarity)

    def code_assignments(self, temperature: float = 1.0, index: Tensor | None = None) -> Tensor:
        r"""The teacher's soft code assignments
        :math:`\mathrm{softmax}_k(s(\mathbf{h}_v, \mathbf{e}_k) / \tau)` of nodes
        :obj:`index` over all :math:`M` codes, from :meth:`code_scores`.

        Args:
            temperature (float, optional): the temperature :math:`\tau`.
                (default: ``1.0``)
            index (Tensor, optional): the nodes. (default: ``None``, all)

        Returns:
            Tensor: probabilities :math:`(|index|, M)`.

        Raises:
            GkdError: the knowledge has no codebook (a plain teacher's), or
                :obj:`temperature` is not positive.
        """
        _check_temperature(temperature)
        return torch.softmax(self.code_scores(index) / temperature, dim=-1)

    def to(self, device: str | torch.device) -> Knowledge:
        r"""A copy with every tensor and the :attr:`model` on :obj:`device`.

        Args:
            device (str or torch.device): the target device.

        Returns:
            Knowledge: the copy, its :attr:`meta` shared with this one and its
            :attr:`model` moved in place.
        """
        def move(tensor: Tensor | None) -> Tensor | None:
            return None if tensor is None else tensor.to(device)

        return replace(self, logits=self.logits.to(device), embeddings=move(self.embeddings),
                       codebook=move(self.codebook),
                       model=None if self.model is None else self.model.to(device))

    def check(self, task: NodeTask) -> None:
        r"""Raises a :class:`~gkd.errors.GkdError` unless this knowledge fits
        :obj:`task` (on its device, one row per observed node, one column per class, and, where
        ``meta["fingerprint"]`` records the task its teacher was trained on, that task's
        :meth:`~gkd.data.NodeTask.fingerprint`) and its codebook,
        if any, fits its embeddings (one 2-D row per node, as wide as the codes) with a
        known :attr:`similarity`.

        Args:
            task (NodeTask): the task the knowledge is meant for.
        """
        if self.logits.dim() != 2 or not self.logits.is_floating_point():
            raise GkdError(f"knowledge logits must be a float matrix (nodes, classes); got "
                           f"shape {tuple(self.logits.shape)} of {self.logits.dtype}")
        device = task.graph.x.device
        if self.logits.device != device:
            raise GkdError(f"the knowledge is on {self.logits.device} and the task on {device} "
                           f"(Knowledge.load reads to the CPU): use knowledge.to({str(device)!r})")
        for name in ("logits", "embeddings", "codebook"):
            tensor = getattr(self, name)
            if tensor is not None and not bool(torch.isfinite(tensor).all()):
                raise GkdError(f"knowledge {name} contain NaN or infinite values")
        trained_on = self.meta.get("fingerprint")
        if trained_on is not None and trained_on != task.fingerprint():
            raise GkdError("this knowledge comes from a teacher trained on another task, "
                           "whose training nodes may be this task's test nodes: another graph, "
                           "split, setting or seed's split (NodeTask.fingerprint hashes the "
                           "tensors as given, so the same graph with its edges in another "
                           "order or its indices of another dtype counts as another); use "
                           "the knowledge of a teacher trained on this task")
        if bool((self.logits >= 0).all()) and torch.allclose(
                self.logits.sum(-1), self.logits.new_ones(self.logits.size(0)), atol=1e-4):
            warnings.warn("knowledge logits look like probabilities (non-negative rows that "
                          "sum to 1); the distillers apply a softmax to them, which flattens "
                          "the targets: pass the teacher's logits (or log-probabilities)",
                          stacklevel=2)
        n, c = self.logits.shape
        if n != task.graph.num_nodes:
            raise GkdError(f"knowledge covers {n} nodes but the task's observed graph has "
                           f"{task.graph.num_nodes}")
        if c != task.num_classes:
            raise GkdError(f"knowledge has {c} classes but the task has {task.num_classes}")
        if self.embeddings is not None and (self.embeddings.dim() != 2
                                            or self.embeddings.size(0) != n
                                            or not self.embeddings.is_floating_point()):
            raise GkdError(f"knowledge embeddings must be a float matrix with one row per "
                           f"observed node ({n}); got {self.embeddings.dtype} of shape "
                           f"{tuple(self.embeddings.shape)}")
        if self.codebook is None:
            return
        if self.embeddings is None or self.codebook.dim() != 2 or \
                self.codebook.size(0) == 0 or not self.codebook.is_floating_point() or \
                self.embeddings.shape[1] != self.codebook.shape[1]:
            shape = None if self.embeddings is None else tuple(self.embeddings.shape)
            raise GkdError(f"knowledge embeddings {shape} do not fit its codebook "
                           f"{tuple(self.codebook.shape)} and {n} nodes")
        if self.similarity not in SIMILARITIES:
            raise GkdError(f"knowledge similarity must be one of {', '.join(SIMILARITIES)}; "
                           f"got {self.similarity!r}")

    def save(self, path: str | os.PathLike) -> Path:
        r"""Writes the knowledge to :obj:`path` atomically (:func:`~gkd.io.save_torch`),
        :attr:`model` left out.

        Args:
            path (str or os.PathLike): the file to write.

        Returns:
            Path: :obj:`path`.

        Raises:
            GkdError: :attr:`meta` is not JSON-serialisable, or :obj:`path` is a folder.
        """
        def cpu(tensor: Tensor | None) -> Tensor | None:  # readable without a GPU
            return None if tensor is None else tensor.cpu()

        return save_torch(path, {"kind": "knowledge", "format": FORMAT,
                                 "logits": cpu(self.logits),
                                 "embeddings": cpu(self.embeddings),
                                 "meta": meta_text(self.meta, "knowledge"),
                                 "codebook": cpu(self.codebook),
                                 "similarity": self.similarity})

    @classmethod
    def load(cls, path: str | os.PathLike) -> Knowledge:
        r"""Reads knowledge written by :meth:`save` (``weights_only=True``).

        Args:
            path (str or os.PathLike): the knowledge file.

        Returns:
            Knowledge: the knowledge, without a :attr:`model`.

        Raises:
            GkdError: the file does not exist, cannot be read, or is not a gkd knowledge
                file of the current format.
        """
        obj = load_artifact(path, "knowledge", FORMAT)
        try:
            fields = {name: obj[name] for name in ("logits", "embeddings", "codebook")}
        except KeyError as error:
            raise GkdError(f"'{path}' is a damaged knowledge file (KeyError: {error})") from None
        wrong = [name for name, value in fields.items()
                 if not (isinstance(value, Tensor) or (value is None and name != "logits"))]
        if wrong or not isinstance(obj.get("similarity"), (str, type(None))):
            raise GkdError(f"'{path}' is a damaged knowledge file: "
                           f"{', '.join(wrong) or 'similarity'} of the wrong type")
        return cls(fields["logits"], fields["embeddings"], obj["meta"], fields["codebook"],
                   obj.get("similarity"))


def _check_temperature(temperature: float) -> None:
    if not temperature > 0:
        raise GkdError(f"temperature must be positive; got {temperature}")


def extract_knowledge(model: torch.nn.Module, x: Tensor, edge_index: Adj, *,
                      embedding_module: torch.nn.Module | None = None,
                      meta: dict[str, Any] | None = None) -> Knowledge:
    r"""Runs a trained PyG model once in eval and inference mode and keeps its outputs.

    Args:
        model (torch.nn.Module): any model called as ``model(x, edge_index)``.
        x (Tensor): node features of the observed graph.
        edge_index (Tensor): its edges, in whatever form :obj:`model` takes.
        embedding_module (torch.nn.Module, optional): if given, the *input* of this
            submodule is kept as the embeddings, e.g. ``model.convs[-1]`` for the
            representation before the last layer. (default: ``None``)
        meta (dict, optional): description stored with the knowledge (copied); with
            ``{"fingerprint": task.fingerprint()}``, distillers refuse the knowledge for
            any other task. (default: ``None``)

    Returns:
        Knowledge: detached copies of the logits and, with :obj:`embedding_module`, of
        the first input it received (``None`` if it was never called); :attr:`model` is
        not set. :obj:`model` is left in eval mode.
    """
    check_device(model, x.device, "model")
    captured: list[Tensor] = []
    handle = None
    if embedding_module is not None:
        handle = embedding_module.register_forward_pre_hook(
            lambda _, args: captured.append(args[0].detach()))
    model.eval()
    try:
        with torch.inference_mode():
            logits = model(x, edge_index)
    finally:
        if handle is not None:
            handle.remove()
    if not isinstance(logits, Tensor):
        raise GkdError(f"the model must return a logits tensor (N, C); it returned "
                       f"{type(logits).__name__}")
    # cloned out of inference mode: inference tensors cannot be saved for backward
    embeddings = captured[0].clone() if captured else None
    return Knowledge(logits.detach().clone(), embeddings, dict(meta or {}))


def check_cached_meta(meta: Any, metrics: Iterable[str]) -> None:
    r"""Raises :class:`ValueError` unless :obj:`meta` holds what a cached model records: a
    numeric score for each of :obj:`metrics` (and numbers only), and numeric ``epoch``,
    ``params`` and ``seconds``.

    Args:
        meta (Any): the stored metadata.
        metrics (Iterable[str]): the scores the model's task reports, e.g. ``val`` and
            ``test``.
    """
    metrics = tuple(metrics)
    meta = meta if isinstance(meta, dict) else {}
    scores = meta.get("metrics")
    numbers = [meta.get(key) for key in ("epoch", "params", "seconds")]
    if not isinstance(scores, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool)
            for v in [*[scores.get(m) for m in metrics], *scores.values(), *numbers]):
        raise ValueError(f"its metadata lacks numeric metrics ({', '.join(metrics)}), epoch, "
                         f"params or seconds")


def parameter_count(model: torch.nn.Module) -> int:
    r"""The number of parameters of :obj:`model`, trainable or not (OGB's convention).

    Args:
        model (torch.nn.Module): the model.

    Returns:
        int: the number of parameter entries.
    """
    return sum(p.numel() for p in model.parameters())


def cache_key(fingerprint: str, seed: int, teacher: str, config: dict[str, Any],
              file_format: int = FORMAT) -> str:
    r"""The cache file name of a teacher trained on the task with :obj:`fingerprint`: a
    digest of the task, :obj:`seed`, :obj:`teacher`, :obj:`config`, the file format, the
    gkd version and its source code (:func:`source_digest`).

    Args:
        fingerprint (str): the task's digest (:meth:`~gkd.data.NodeTask.fingerprint`).
        seed (int): the training seed.
        teacher (str): the teacher's name.
        config (dict): its configuration (JSON values; key order does not matter).
        file_format (int, optional): the format of the cached file.
            (default: :data:`FORMAT`)

    Returns:
        str: the first 24 hex digits of the SHA-256 digest.
    """
    from gkd import __version__

    described = {"task": fingerprint, "seed": seed, "teacher": teacher, "config": config,
                 "format": file_format, "gkd": __version__, "source": source_digest()}
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:24]


@functools.cache
def source_digest() -> str:
    r"""A digest of gkd's own source code (the path and content of every ``.py`` file of
    the package), computed once per process. It is part of every :func:`cache_key`, so a
    cached model is reused only by the code that trained it: after any change to gkd
    (an upgrade, a local edit) teachers are trained again rather than served stale.

    Returns:
        str: the first 16 hex digits of the SHA-256 digest.
    """
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(f"{path.relative_to(package).as_posix()}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def teacher_knowledge(task: NodeTask, teacher: str, config: dict[str, Any], *,
                      cache: str | os.PathLike | None = None,
                      use_cache: bool = True) -> Knowledge:
    r"""The knowledge of teacher :obj:`teacher` trained on :obj:`task`.

    The teacher is seeded with the task's seed, trained on the observed graph with
    validation selection, scored on every evaluation set, and its logits on the
    observed graph are kept. The result is cached under
    ``<cache dir>/knowledge/<key>.pt`` (with the teacher's weights beside it); the key
    covers the task's content (:meth:`~gkd.data.NodeTask.fingerprint`: graph, split,
    setting), its seed, the teacher and its configuration, so one trained teacher serves
    every distiller.

    Args:
        task (NodeTask): the task.
        teacher (str): a teacher name of :mod:`gkd.teachers`.
        config (dict): its full configuration (see :func:`~gkd.teachers.build_teacher`
            and :func:`~gkd.teachers.train_teacher`).
        cache (str or os.PathLike, optional): the cache dir.
            (default: :func:`~gkd.data.cache_dir`)
        use_cache (bool, optional): reuse and store trained teachers. (default: ``True``)

    Returns:
        Knowledge: the teacher's logits on the observed graph, with the trained teacher
        as :attr:`Knowledge.model` (in eval mode). ``meta`` holds ``teacher``,
        ``config``, ``task`` (:attr:`~gkd.data.NodeTask.info`), ``metrics`` (as
        :func:`~gkd.evaluation.evaluate` returns them), ``epoch``, ``params``,
        ``seconds`` and ``cached``.

    A cached teacher that cannot be loaded (a damaged file) is trained again, with a
    warning, and replaces the entry.

    Raises:
        GkdError: the teacher is unknown, or :obj:`config` misses
            options of the teacher, holds options that do not apply to it, or holds
            values out of range (including invalid sampling options).
    """
    check_config(config, teacher_config(teacher), f"teacher {teacher}")

    def extract(model: torch.nn.Module) -> Knowledge:
        graph = task.graph
        return extract_knowledge(model, graph.x, adjacency(graph.edge_index, graph.num_nodes))

    return cached_knowledge(
        task, teacher, config,
        build=lambda: build_teacher(teacher, task.num_features, task.num_classes, config),
        train=lambda model: train_teacher(model, task, config), extract=extract,
        cache=cache, use_cache=use_cache)


ModelT = TypeVar("ModelT", bound=torch.nn.Module)


def cached_knowledge(task: NodeTask, teacher: str, config: dict[str, Any], *,
                     build: Callable[[], ModelT],
                     train: Callable[[ModelT], History],
                     extract: Callable[[ModelT], Knowledge],
                     cache: str | os.PathLike | None = None,
                     use_cache: bool = True) -> Knowledge:
    r"""The knowledge of a model trained on :obj:`task`, from the cache when present: the
    shared path of :func:`teacher_knowledge` and other teacher kinds (e.g.
    :func:`gkd.tokenizer.tokenizer_knowledge`).

    Seeds with the task's seed, builds, trains, scores the model as
    ``model(x, adj)`` on every evaluation set and extracts its knowledge; the knowledge
    and the model's weights are cached under a key of the task, :obj:`teacher` and
    :obj:`config` (which must tell different kinds of model apart); a concurrent process
    wanting the same model waits for this one and loads it (:func:`~gkd.io.cache_lock`).
    The global random states are left as they were (:func:`~gkd.train.global_rng_preserved`),
    so what the caller trains next does not depend on whether the model came from the cache.

    Args:
        task (NodeTask): the task.
        teacher (str): the teacher's name.
        config (dict): its full configuration.
        build (callable): returns the untrained model.
        train (callable): trains it in place with validation selection.
        extract (callable): its :class:`Knowledge` on the observed graph.
        cache (str or os.PathLike, optional): the cache dir.
            (default: :func:`~gkd.data.cache_dir`)
        use_cache (bool, optional): reuse and store trained models. (default: ``True``)

    Returns:
        Knowledge: what :obj:`extract` returned, its ``meta`` led by ``teacher``,
        ``config``, ``task``, ``metrics``, ``epoch``, ``params`` and ``seconds`` (keys that
        :obj:`extract` set itself win), plus ``cached``; the trained model is its
        :attr:`~Knowledge.model`. From the cache: the stored knowledge, the model rebuilt
        with :obj:`build`, loaded and in eval mode, and ``cached=True``. An entry that
        cannot be loaded is trained again, with a warning, and replaced.
    """
    fingerprint = task.fingerprint()
    key = cache_key(fingerprint, task.seed, teacher, config)
    path = cache_dir(cache) / "knowledge" / f"{key}.pt"
    weights = path.with_suffix(".teacher.pt")
    with cache_lock(path, use_cache), global_rng_preserved():
        device = task.graph.x.device
        if use_cache and path.is_file() and weights.is_file():
            def load() -> Knowledge:
                knowledge = Knowledge.load(path).to(device)
                check_cached_meta(knowledge.meta, SETTING_METRICS[task.setting])
                if knowledge.meta.get("fingerprint") != fingerprint:
                    raise ValueError("it was trained on another task")
                model = build().to(device)
                model.load_state_dict(load_torch(weights))
                knowledge.model = model.eval()
                knowledge.meta["cached"] = True
                return knowledge

            cached = load_cached(path, load)
            if cached is not None:
                return cached
        seed_everything(task.seed)
        model = build().to(device)
        start = time.perf_counter()
        history = train(model)
        metrics = evaluate(task, lambda g: model(g.x, adjacency(g.edge_index, g.num_nodes)))
        knowledge = extract(model)
        knowledge.meta = {"teacher": teacher, "config": config, "task": task.info,
                          "metrics": metrics, "epoch": history.best_epoch,
                          "params": parameter_count(model),
                          "seconds": time.perf_counter() - start, "fingerprint": fingerprint,
                          **knowledge.meta}
        if use_cache:
            save_torch(weights, {k: v.cpu() for k, v in model.state_dict().items()})
            knowledge.save(path)
    knowledge.model = model
    knowledge.meta["cached"] = False
    return knowledge
