r"""The inference-speed comparison of a teacher GNN and its student MLP
(the speed protocol of the README).

A: per-query latency for ``k`` unseen nodes. The teacher's timed region gathers the
``L``-hop neighbourhood of the queries from the full graph held in CSR form on the host,
relabels it and builds its adjacency, gathers the features, moves them to the device,
runs the GNN and selects the ``k`` outputs. The student's region gathers the ``k`` feature
rows, moves them and runs the MLP. Both see the same query sets.

B: full-graph throughput in nodes per second: one full-batch GNN forward (adjacency built
beforehand) against the MLP in batches of ``B`` nodes, with the same warm-up and repeats.

For link prediction (:func:`compare_link_speed`) a query is a batch of ``k`` candidate
links: the teacher's region covers the ``L``-hop neighbourhood of both endpoints, the GNN
encoder and the decoder; the student's the endpoints' feature rows, the MLP encoder and the
decoder. Throughput then counts node embeddings per second.

Models run in eval mode under ``torch.inference_mode``, fp32, without ``torch.compile``
and without cached normalisation. Timing does not depend on the weight values.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data

from gkd.bench.timing import TimingBudget, time_calls
from gkd.data.links import LinkTask
from gkd.data.tasks import NodeTask
from gkd.errors import GkdError
from gkd.knowledge import parameter_count
from gkd.nn.link_predictor import LinkPredictor
from gkd.ops import CSRGraph, adjacency, k_hop_subgraph

QUERY_SETS = 256  # distinct query sets per batch size, reused cyclically over repeats
Query = Callable[[Tensor], Tensor]  # one timed call: a query set to the model's outputs


def query_pool(task: NodeTask) -> Tensor:
    r"""Full-graph ids of the nodes queries are drawn from: the held-out ``test_ind``
    nodes in the inductive setting, the test nodes otherwise.

    Args:
        task (NodeTask): the task.

    Returns:
        Tensor: node ids of :attr:`~gkd.data.NodeTask.full_graph`.
    """
    if task.test_ind_idx is not None:
        return task.test_ind_idx
    return task.observed_nodes[task.test_idx]


def link_query_pool(task: LinkTask) -> Tensor:
    r"""The candidate links queries are drawn from: the ``test`` pairs, edges and
    non-edges, in :attr:`~gkd.data.LinkTask.full_graph`'s ids (in the production setting
    they include the new nodes' pairs).

    Args:
        task (LinkTask): the task.

    Returns:
        Tensor: node pairs :math:`(2, P)`.
    """
    test = task.tests["test"]
    return torch.cat([test.pos, test.neg], dim=1)


def draw_queries(pool: Tensor, batch: int, count: int = QUERY_SETS, seed: int = 0
                 ) -> list[Tensor]:
    r""":obj:`count` query sets of :obj:`batch` distinct entries of :obj:`pool` (nodes, or
    the columns of a pair pool), each drawn uniformly with a generator seeded by
    :obj:`seed` and :obj:`batch`.

    Args:
        pool (Tensor): the candidate nodes :math:`(N)` (see :func:`query_pool`) or node
            pairs :math:`(2, P)` (see :func:`link_query_pool`).
        batch (int): entries per set; at most the size of :obj:`pool` are drawn.
        count (int, optional): the number of sets. (default: :data:`QUERY_SETS`)
        seed (int, optional): the query seed. (default: ``0``)

    Returns:
        list[Tensor]: the query sets, each of :math:`\min(\text{batch}, |pool|)` entries.
    """
    gen = torch.Generator().manual_seed(seed * 1_000_003 + batch)
    size = pool.size(-1)
    batch = min(batch, size)
    return [pool[..., torch.randperm(size, generator=gen)[:batch]] for _ in range(count)]


def model_summary(model: torch.nn.Module) -> dict[str, Any]:
    r"""Name, depth, hidden width and parameter count (all parameters) of a model.

    Args:
        model (torch.nn.Module): the model.

    Returns:
        dict: ``{"model", "layers", "hidden", "params"}``; ``layers`` and ``hidden`` are
        the model's ``num_layers`` and ``hidden_channels`` attributes, or ``None``.
    """
    return {"model": type(model).__name__, "layers": getattr(model, "num_layers", None),
            "hidden": getattr(model, "hidden_channels", None),
            "params": parameter_count(model)}


def node_queries(teacher: torch.nn.Module, student: torch.nn.Module, graph: Data,
                 num_hops: int, device: torch.device) -> tuple[Query, Query]:
    r"""The two timed calls of measurement A for nodes: each maps query nodes
    :math:`(k)` of :obj:`graph` to the model's outputs for them :math:`(k, C)`.

    The teacher's gathers the :obj:`num_hops`-hop neighbourhood of the queries from
    :obj:`graph` in CSR form on the host, relabels it, builds its adjacency, gathers and
    moves the features, runs the GNN and selects the queries' rows; the student's gathers
    and moves the queries' feature rows and runs the MLP. The outputs are the full graph's,
    except where the teacher reads more than its targets' in-neighbourhoods: GCN and APPNP
    normalise with the degrees of the outermost gathered nodes, and a graph-mode
    ``layer_norm`` normalises over the gathered nodes (the work is the same).

    Args:
        teacher (torch.nn.Module): a GNN taking ``(x, adj_t)``, in eval mode on :obj:`device`.
        student (torch.nn.Module): an MLP taking ``x``, in eval mode on :obj:`device`.
        graph (Data): the whole graph, on the host.
        num_hops (int): the teacher's receptive field.
        device (torch.device): where the models run.

    Returns:
        ``(teacher_query, student_query)``.
    """
    x, csr = graph.x, CSRGraph.from_edge_index(graph.edge_index, graph.num_nodes)

    def teacher_query(queries: Tensor) -> Tensor:
        nodes, edge_index = k_hop_subgraph(csr, queries, num_hops)
        adj = adjacency(edge_index.to(device), nodes.numel())
        return teacher(x[nodes].to(device), adj)[:queries.numel()]

    def student_query(queries: Tensor) -> Tensor:
        return student(x[queries].to(device))

    return teacher_query, student_query


def link_queries(teacher: LinkPredictor, student: LinkPredictor, graph: Data, num_hops: int,
                 device: torch.device) -> tuple[Query, Query]:
    r"""The two timed calls of measurement A for links: each maps candidate links
    :math:`(2, k)` of :obj:`graph` to the model's logits for them :math:`(k)`.

    The teacher's gathers the :obj:`num_hops`-hop neighbourhood of the distinct endpoints
    from :obj:`graph` in CSR form on the host, relabels it, builds its adjacency, gathers
    and moves the features, encodes them and decodes the pairs; the student's gathers and
    moves both endpoints' feature rows, encodes them with its MLP and decodes the pairs.
    The teacher's logits are the full graph's with the exceptions of :func:`node_queries`.

    Args:
        teacher (LinkPredictor): a GNN encoder and decoder, in eval mode on :obj:`device`.
        student (LinkPredictor): a graph-free encoder and decoder, likewise.
        graph (Data): the whole graph, on the host.
        num_hops (int): the teacher encoder's number of message-passing layers.
        device (torch.device): where the models run.

    Returns:
        ``(teacher_query, student_query)``.
    """
    x, csr = graph.x, CSRGraph.from_edge_index(graph.edge_index, graph.num_nodes)

    def teacher_query(pairs: Tensor) -> Tensor:
        endpoints, local = pairs.reshape(-1).unique(return_inverse=True)
        nodes, edge_index = k_hop_subgraph(csr, endpoints, num_hops)
        h = teacher.encode(x[nodes].to(device),
                           adjacency(edge_index.to(device), nodes.numel()))
        return teacher.score(h, local.view(2, -1).to(device))

    def student_query(pairs: Tensor) -> Tensor:
        h_src, h_dst = student.encode(x[pairs.reshape(-1)].to(device)).chunk(2)
        return student.decoder(h_src, h_dst)

    return teacher_query, student_query


def _latency_rows(pool: Tensor, batch_sizes: tuple[int, ...], seed: int, teacher_query: Query,
                  student_query: Query, device: torch.device,
                  budget: TimingBudget | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for requested in batch_sizes:
        queries = draw_queries(pool, requested, seed=seed)
        batch = queries[0].size(-1)
        if any(row["batch"] == batch for row in rows):
            continue  # cut to the pool's size, as an earlier size already was
        teacher_ms = time_calls(lambda i: teacher_query(queries[i % len(queries)]), device,
                                budget)
        student_ms = time_calls(lambda i: student_query(queries[i % len(queries)]), device,
                                budget)
        rows.append({"batch": batch, "requested": requested,
                     "teacher_ms": teacher_ms, "student_ms": student_ms,
                     "speedup": teacher_ms["median"] / student_ms["median"]})
    return rows


def _measure(graph: Data, pool: Tensor, queries: tuple[Query, Query],
             teacher_full: Callable[[Tensor, Tensor], object],
             student_full: Callable[[Tensor], object], *, batch_sizes: tuple[int, ...],
             device: torch.device, seed: int, student_batch: int,
             budget: TimingBudget | None, full_budget: TimingBudget | None
             ) -> dict[str, Any]:
    r"""Measurement A (latency ``rows``) with the timed calls :obj:`queries`, then B
    (``full_graph`` throughput): ``teacher_full(x, adj)`` against ``student_full`` on
    batches of :obj:`student_batch` feature rows."""
    rows = _latency_rows(pool, batch_sizes, seed, *queries, device, budget)
    full_budget = full_budget or replace(budget or TimingBudget(), floor_repeats=3)
    x = graph.x.to(device)
    adj = adjacency(graph.edge_index.to(device), graph.num_nodes)
    teacher_ms = time_calls(lambda _: teacher_full(x, adj), device, full_budget)
    student_ms = time_calls(lambda _: [student_full(c) for c in x.split(student_batch)],
                            device, full_budget)
    num_nodes = graph.num_nodes
    return {"rows": rows, "full_graph": {
        "nodes": num_nodes, "student_batch": student_batch,
        "teacher": {**teacher_ms, "nodes_per_second": num_nodes / teacher_ms["median"] * 1e3},
        "student": {**student_ms, "nodes_per_second": num_nodes / student_ms["median"] * 1e3},
        "speedup": teacher_ms["median"] / student_ms["median"],
    }}


def _setup(device: torch.device, num_hops: int, pool: Tensor, seed: int,
           **described: str) -> dict[str, Any]:
    return {"device": str(device), "num_hops": num_hops, "query_pool": pool.size(-1),
            "query_sets": QUERY_SETS, "seed": seed, "neighbourhood": "full (no fan-out)",
            **described, "weights": "untrained (timing does not depend on weight values)",
            "inference_mode": True, "torch_compile": False, "dtype": "float32"}


@torch.inference_mode()
def compare_speed(task: NodeTask, teacher: torch.nn.Module, student: torch.nn.Module, *,
                  num_hops: int, batch_sizes: tuple[int, ...] = (1, 10, 100, 1000),
                  device: str | torch.device = "cpu", seed: int = 0,
                  student_batch: int = 65_536, budget: TimingBudget | None = None,
                  full_budget: TimingBudget | None = None) -> dict[str, Any]:
    r"""Runs measurements A and B.

    Args:
        task (NodeTask): gives the full graph and the query pool (:func:`query_pool`).
        teacher (torch.nn.Module): a GNN taking ``(x, adj_t)``.
        student (torch.nn.Module): an MLP taking ``x``.
        num_hops (int): the teacher's receptive field (its number of message-passing
            layers; ``K`` for APPNP).
        batch_sizes (tuple, optional): query sizes ``k``. (default: ``(1, 10, 100, 1000)``)
        device (str, optional): where the models run. (default: ``"cpu"``)
        seed (int, optional): the query seed. (default: ``0``)
        student_batch (int, optional): the MLP's batch size ``B`` in measurement B.
            (default: ``65536``)
        budget (TimingBudget, optional): timing of the queries. (default: the protocol's
            10 warm-up runs, then at least 100 repeats and 1 s, capped at 60 s)
        full_budget (TimingBudget, optional): timing of measurement B. (default:
            :obj:`budget` with a floor of 3 repeats: full-graph passes are long)

    Returns:
        ``{"rows": [...], "full_graph": {...}, "models": {...}, "setup": {...}}``; each
        row holds ``batch`` (the query size timed: ``requested``, cut to the query pool's
        size; a size cut to one already timed is left out), ``teacher_ms`` and
        ``student_ms`` (median, IQR, quartiles, repeats, raw per-repeat times) and
        ``speedup`` (ratio of medians).
    """
    device = torch.device(device)
    teacher, student = teacher.eval().to(device), student.eval().to(device)
    graph, pool = task.full_graph, query_pool(task)
    return {
        **_measure(graph, pool, node_queries(teacher, student, graph, num_hops, device),
                   teacher, student, batch_sizes=batch_sizes, device=device, seed=seed,
                   student_batch=student_batch, budget=budget, full_budget=full_budget),
        "setup": _setup(device, num_hops, pool, seed, queries="nodes",
                        teacher_time_includes="L-hop gathering, relabelling, adjacency, "
                                              "feature gather, transfer, forward, selection",
                        full_graph_includes="forward only (adjacency prebuilt)"),
        "models": {"teacher": model_summary(teacher), "student": model_summary(student)}}


def link_model_summary(model: LinkPredictor) -> dict[str, Any]:
    r""":func:`model_summary` of a link predictor: the depth and width of its encoder, the
    parameters of encoder and decoder together.

    Args:
        model (LinkPredictor): the link predictor.

    Returns:
        dict: ``{"model", "layers", "hidden", "params"}``; ``model`` names the encoder.
    """
    return {**model_summary(model.encoder),
            "model": f"{type(model.encoder).__name__} + decoder",
            "params": parameter_count(model)}


@torch.inference_mode()
def compare_link_speed(task: LinkTask, teacher: LinkPredictor, student: LinkPredictor, *,
                       num_hops: int, batch_sizes: tuple[int, ...] = (1, 10, 100, 1000),
                       device: str | torch.device = "cpu", seed: int = 0,
                       student_batch: int = 65_536, budget: TimingBudget | None = None,
                       full_budget: TimingBudget | None = None) -> dict[str, Any]:
    r"""Runs measurements A and B for link predictors: per-query latency for batches of
    ``k`` candidate links of :func:`link_query_pool`, and full-graph embedding throughput.

    The timed calls are those of :func:`link_queries` on
    :attr:`~gkd.data.LinkTask.full_graph`.

    Args:
        task (LinkTask): gives the full graph and the query pool.
        teacher (LinkPredictor): a GNN encoder taking ``(x, adj_t)`` and its decoder.
        student (LinkPredictor): a graph-free (MLP) encoder and its decoder.
        num_hops (int): the teacher encoder's number of message-passing layers.
        batch_sizes (tuple, optional): links per query ``k``.
            (default: ``(1, 10, 100, 1000)``)
        device (str, optional): where the models run. (default: ``"cpu"``)
        seed (int, optional): the query seed. (default: ``0``)
        student_batch (int, optional): the MLP encoder's batch size ``B`` in
            measurement B. (default: ``65536``)
        budget (TimingBudget, optional): timing of the queries. (default: the protocol's)
        full_budget (TimingBudget, optional): timing of measurement B. (default:
            :obj:`budget` with a floor of 3 repeats: full-graph passes are long)

    Returns:
        the same shape as :func:`compare_speed`; ``batch`` counts links, and
        ``full_graph`` times the encoders alone (node embeddings per second).

    Raises:
        GkdError: :obj:`student` is not graph-free or :obj:`teacher` is.
    """
    if not student.graph_free or teacher.graph_free:
        raise GkdError("compare_link_speed times a GNN teacher against a graph-free student "
                       "(LinkPredictor(..., graph_free=True))")
    device = torch.device(device)
    teacher, student = teacher.eval().to(device), student.eval().to(device)
    graph, pool = task.full_graph, link_query_pool(task)
    return {
        **_measure(graph, pool, link_queries(teacher, student, graph, num_hops, device),
                   teacher.encode, student.encode, batch_sizes=batch_sizes, device=device,
                   seed=seed, student_batch=student_batch, budget=budget,
                   full_budget=full_budget),
        "setup": _setup(device, num_hops, pool, seed, queries="links",
                        teacher_time_includes="L-hop gathering of both endpoints, "
                                              "relabelling, adjacency, feature gather, "
                                              "transfer, encoder, decoder",
                        full_graph_includes="encoder forward only (adjacency prebuilt; "
                                            "no pair scoring)"),
        "models": {"teacher": link_model_summary(teacher),
                   "student": link_model_summary(student)}}


def query_kind(result: dict[str, Any]) -> str:
    r"""What the queries of a speed result are: ``"nodes"`` or ``"links"`` (results written
    before link timing are node results).

    Args:
        result (dict): what :func:`compare_speed` or :func:`compare_link_speed` returns.

    Returns:
        str: ``"nodes"`` or ``"links"``.
    """
    setup = result.get("setup")
    return setup.get("queries", "nodes") if isinstance(setup, dict) else "nodes"


def format_speed(result: dict[str, Any]) -> str:
    r"""The speed comparison as an aligned text table.

    Args:
        result (dict): what :func:`compare_speed` or :func:`compare_link_speed` returns.

    Returns:
        str: one line per query size (median and IQR in ms, speedup), a line of
        full-graph throughput, the two models' depth, width and parameters, and notes on
        query sizes cut to the pool and on models of different depths.
    """
    queries = query_kind(result)
    label = "links" if queries == "links" else "batch"
    lines = [f"{label:>7}  {'teacher ms (IQR)':>22}  {'student ms (IQR)':>20}  {'speedup':>9}"]
    for row in result["rows"]:
        t, s = row["teacher_ms"], row["student_ms"]
        lines.append(f"{row['batch']:>7}  {t['median']:>12.3f} ({t['iqr']:7.3f})  "
                     f"{s['median']:>10.4f} ({s['iqr']:7.4f})  {row['speedup']:>8.1f}x")
    full = result["full_graph"]
    what = ", encoders only" if queries == "links" else ""
    lines.append(f"full graph ({full['nodes']} nodes{what}): teacher "
                 f"{full['teacher']['nodes_per_second']:.3g} nodes/s, student "
                 f"{full['student']['nodes_per_second']:.3g} nodes/s (batch "
                 f"{full['student_batch']}), speedup {full['speedup']:.1f}x")
    models = result["models"]
    for role in ("teacher", "student"):
        m = models[role]
        lines.append(f"{role} {m['model']}: {m['layers']} layers, width {m['hidden']}, "
                     f"{m['params']:,} parameters")
    cut = [f"{row['requested']} -> {row['batch']}" for row in result["rows"]
           if row.get("requested", row["batch"]) != row["batch"]]
    if cut:
        lines.append(f"note: query sizes above the pool of {result['setup']['query_pool']} "
                     f"{queries} were cut to it ({', '.join(cut)})")
    warning = depth_warning(result)
    if warning:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def depth_warning(result: dict[str, Any]) -> str | None:
    r"""Why the speed-ups of a :func:`compare_speed` result must not be quoted, when its
    teacher and student differ in depth (the depth changes the work per node); ``None``
    when they do not, or a depth is unknown."""
    models = result["models"]
    depths = models["teacher"]["layers"], models["student"]["layers"]
    if None in depths or depths[0] == depths[1]:
        return None
    return (f"the teacher has {depths[0]} layers and the student {depths[1]}; quote a "
            f"speed-up only between models of the same depth (the depth changes the work "
            f"per node)")
