r"""The inference-speed comparison of a teacher GNN and its student MLP
(the speed protocol of the README).

A: per-query latency for ``k`` unseen nodes. The teacher's timed region gathers the
``L``-hop neighbourhood of the queries from the full graph held in CSR form on the host,
relabels it and builds its adjacency, gathers the features, moves them to the device,
runs the GNN and selects the ``k`` outputs. The student's region gathers the ``k`` feature
rows, moves them and runs the MLP. Both see the same query sets.

B: full-graph throughput in nodes per second: one full-batch GNN forward (adjacency built
beforehand) against the MLP in batches of ``B`` nodes, with the same warm-up and repeats.

Models run in eval mode under ``torch.inference_mode``, fp32, without ``torch.compile``
and without cached normalisation. Timing does not depend on the weight values.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from torch import Tensor

from gkd.bench.timing import TimingBudget, time_calls
from gkd.data.tasks import NodeTask
from gkd.knowledge import parameter_count
from gkd.ops import CSRGraph, adjacency, k_hop_subgraph

QUERY_SETS = 256  # distinct query sets per batch size, reused cyclically over repeats


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


def draw_queries(pool: Tensor, batch: int, count: int = QUERY_SETS, seed: int = 0
                 ) -> list[Tensor]:
    r""":obj:`count` query sets of :obj:`batch` distinct nodes of :obj:`pool`, each drawn
    uniformly with a generator seeded by :obj:`seed` and :obj:`batch`.

    Args:
        pool (Tensor): the candidate nodes (see :func:`query_pool`).
        batch (int): nodes per set; at most the size of :obj:`pool` are drawn.
        count (int, optional): the number of sets. (default: :data:`QUERY_SETS`)
        seed (int, optional): the query seed. (default: ``0``)

    Returns:
        list[Tensor]: the query sets, each of :math:`\min(\text{batch}, |pool|)` nodes.
    """
    gen = torch.Generator().manual_seed(seed * 1_000_003 + batch)
    batch = min(batch, pool.numel())
    return [pool[torch.randperm(pool.numel(), generator=gen)[:batch]] for _ in range(count)]


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


@torch.inference_mode()
def compare_speed(task: NodeTask, teacher: torch.nn.Module, student: torch.nn.Module, *,
                  num_hops: int, batch_sizes: tuple[int, ...] = (1, 10, 1000),
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
        batch_sizes (tuple, optional): query sizes ``k``. (default: ``(1, 10, 1000)``)
        device (str, optional): where the models run. (default: ``"cpu"``)
        seed (int, optional): the query seed. (default: ``0``)
        student_batch (int, optional): the MLP's batch size ``B`` in measurement B.
            (default: ``65536``)
        budget (TimingBudget, optional): timing of the queries. (default: the protocol's
            10 warm-up runs, then at least 100 repeats and 1 s, capped at 60 s)
        full_budget (TimingBudget, optional): timing of measurement B. (default:
            :obj:`budget`, but never fewer than 3 repeats)

    Returns:
        ``{"rows": [...], "full_graph": {...}, "models": {...}, "setup": {...}}``; each
        row holds ``batch`` (the query size timed: ``requested``, cut to the query pool's
        size; a size cut to one already timed is left out), ``teacher_ms`` and
        ``student_ms`` (median, IQR, quartiles, repeats, raw per-repeat times) and
        ``speedup`` (ratio of medians).
    """
    device = torch.device(device)
    teacher, student = teacher.eval().to(device), student.eval().to(device)
    graph = task.full_graph
    x, num_nodes = graph.x, graph.num_nodes
    csr = CSRGraph.from_edge_index(graph.edge_index, num_nodes)
    pool = query_pool(task)

    def teacher_query(queries: Tensor) -> Tensor:
        nodes, edge_index = k_hop_subgraph(csr, queries, num_hops)
        adj = adjacency(edge_index.to(device), nodes.numel())
        return teacher(x[nodes].to(device), adj)[:queries.numel()]

    def student_query(queries: Tensor) -> Tensor:
        return student(x[queries].to(device))

    rows: list[dict[str, Any]] = []
    for requested in batch_sizes:
        queries = draw_queries(pool, requested, seed=seed)
        if any(row["batch"] == queries[0].numel() for row in rows):
            continue  # cut to the pool's size, as an earlier size already was
        teacher_ms = time_calls(lambda i: teacher_query(queries[i % len(queries)]), device,
                                budget)
        student_ms = time_calls(lambda i: student_query(queries[i % len(queries)]), device,
                                budget)
        rows.append({"batch": queries[0].numel(), "requested": requested,
                     "teacher_ms": teacher_ms, "student_ms": student_ms,
                     "speedup": teacher_ms["median"] / student_ms["median"]})

    full_budget = full_budget or replace(budget or TimingBudget(), floor_repeats=3)
    x_device = x.to(device)
    adj = adjacency(graph.edge_index.to(device), num_nodes)
    teacher_full = time_calls(lambda _: teacher(x_device, adj), device, full_budget)
    student_full = time_calls(
        lambda _: [student(chunk) for chunk in x_device.split(student_batch)], device,
        full_budget)
    full_graph = {
        "nodes": num_nodes, "student_batch": student_batch,
        "teacher": {**teacher_full, "nodes_per_second": num_nodes / teacher_full["median"] * 1e3},
        "student": {**student_full, "nodes_per_second": num_nodes / student_full["median"] * 1e3},
        "speedup": teacher_full["median"] / student_full["median"],
    }
    setup = {"device": str(device), "num_hops": num_hops, "query_pool": pool.numel(),
             "query_sets": QUERY_SETS, "seed": seed, "neighbourhood": "full (no fan-out)",
             "teacher_time_includes": "L-hop gathering, relabelling, adjacency, feature "
                                      "gather, transfer, forward, selection",
             "full_graph_includes": "forward only (adjacency prebuilt)",
             "weights": "untrained (timing does not depend on weight values)",
             "inference_mode": True, "torch_compile": False, "dtype": "float32"}
    return {"rows": rows, "full_graph": full_graph, "setup": setup,
            "models": {"teacher": model_summary(teacher), "student": model_summary(student)}}


def format_speed(result: dict[str, Any]) -> str:
    r"""The speed comparison as an aligned text table.

    Args:
        result (dict): what :func:`compare_speed` returns.

    Returns:
        str: one line per batch size (median and IQR in ms, speedup), a line of
        full-graph throughput, the two models' depth, width and parameters, and notes on
        query sizes cut to the pool and on models of different depths.
    """
    lines = [f"{'batch':>7}  {'teacher ms (IQR)':>22}  {'student ms (IQR)':>20}  {'speedup':>9}"]
    for row in result["rows"]:
        t, s = row["teacher_ms"], row["student_ms"]
        lines.append(f"{row['batch']:>7}  {t['median']:>12.3f} ({t['iqr']:7.3f})  "
                     f"{s['median']:>10.4f} ({s['iqr']:7.4f})  {row['speedup']:>8.1f}x")
    full = result["full_graph"]
    lines.append(f"full graph ({full['nodes']} nodes): teacher "
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
                     f"nodes were cut to it ({', '.join(cut)})")
    depths = models["teacher"]["layers"], models["student"]["layers"]
    if None not in depths and depths[0] != depths[1]:
        lines.append(f"warning: the teacher has {depths[0]} layers and the student "
                     f"{depths[1]}; quote a speed-up only between models of the same depth "
                     f"(the depth changes the work per node)")
    return "\n".join(lines)
