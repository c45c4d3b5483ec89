import time

import pytest
import torch

from gkd.bench.speed import (
    compare_link_speed,
    compare_speed,
    draw_queries,
    link_queries,
    link_query_pool,
    node_queries,
    query_pool,
)
from gkd.bench.timing import TimingBudget, summarize_ms, time_calls
from gkd.data import make_node_task
from gkd.nn import MLP, SAGE

FAST = TimingBudget(warmup=2, min_repeats=3, min_seconds=0.0, max_seconds=5.0, floor_repeats=3)


def test_summary_statistics_use_inclusive_quartiles():
    stats = summarize_ms([1.0, 2.0, 3.0, 4.0, 100.0])
    assert stats["median"] == 3.0
    assert (stats["q25"], stats["q75"], stats["iqr"]) == (2.0, 4.0, 2.0)
    assert stats["repeats"] == 5


def test_timing_runs_warmup_then_at_least_the_minimum_repeats():
    calls = []
    stats = time_calls(calls.append, torch.device("cpu"),
                       TimingBudget(warmup=4, min_repeats=7, min_seconds=0.0))
    assert stats["warmup"] == 4 and stats["repeats"] == 7
    assert calls == [-1, -2, -3, -4, *range(7)]  # warm-up first, then timed from 0


def test_the_floor_of_repeats_holds_whatever_the_other_limits():
    calls = []
    budget = TimingBudget(warmup=0, min_repeats=1, min_seconds=0.0, max_seconds=1e-9,
                          floor_repeats=10)
    assert time_calls(calls.append, torch.device("cpu"), budget)["repeats"] == 10


def test_two_measurements_time_the_same_items_whatever_their_warm_up():
    pool, seen = list(range(5)), {"slow": [], "fast": []}
    for name, seconds in (("slow", 0.02), ("fast", 0.0)):
        def call(i, name=name, seconds=seconds):
            time.sleep(seconds)
            seen[name].append(pool[i % len(pool)])
        budget = TimingBudget(warmup=10, min_repeats=3, min_seconds=0.0, max_seconds=0.5,
                              floor_repeats=3)
        time_calls(call, torch.device("cpu"), budget)
    slow_timed, fast_timed = seen["slow"][-3:], seen["fast"][-3:]
    assert len(seen["slow"]) < 13 == len(seen["fast"])  # the slow one's warm-up was cut
    assert slow_timed == fast_timed == [0, 1, 2]


def test_an_appnp_teacher_is_summarised_by_its_mlp():
    from gkd.bench.speed import model_summary
    from gkd.nn import APPNP

    summary = model_summary(APPNP(8, 16, 3, 4, K=10))
    assert (summary["layers"], summary["hidden"]) == (3, 16)


def test_queries_come_from_unseen_nodes_and_are_seeded(csbm):
    task = make_node_task(csbm, "cpf", setting="inductive", seed=0)
    pool = query_pool(task)
    assert torch.equal(pool, task.test_ind_idx)
    first = draw_queries(pool, 10, count=4, seed=3)
    assert all(q.numel() == 10 and q.unique().numel() == 10 for q in first)
    assert all(torch.isin(q, pool).all() for q in first)
    assert all(torch.equal(a, b) for a, b in zip(first, draw_queries(pool, 10, count=4, seed=3)))
    assert draw_queries(pool, 10 ** 6, count=1)[0].numel() == pool.numel()


def test_transductive_queries_are_test_nodes(csbm):
    task = make_node_task(csbm, "cpf", seed=0)
    assert torch.equal(query_pool(task), task.observed_nodes[task.test_idx])


def test_compare_speed_reports_every_batch_and_the_full_graph(csbm):
    task = make_node_task(csbm, "cpf", setting="inductive", seed=0)
    teacher = SAGE(task.num_features, 16, 2, task.num_classes, aggr="gcn")
    student = MLP(task.num_features, 32, task.num_classes)
    result = compare_speed(task, teacher, student, num_hops=2, batch_sizes=(1, 5),
                           budget=FAST, full_budget=FAST)
    assert [row["batch"] for row in result["rows"]] == [1, 5]
    for row in result["rows"]:
        for key in ("teacher_ms", "student_ms"):
            stats = row[key]
            assert stats["q25"] <= stats["median"] <= stats["q75"]
            assert len(stats["raw"]) == stats["repeats"] >= 3
        assert row["speedup"] == pytest.approx(row["teacher_ms"]["median"]
                                               / row["student_ms"]["median"])
    assert result["full_graph"]["nodes"] == csbm.num_nodes
    assert result["full_graph"]["teacher"]["nodes_per_second"] > 0
    assert result["models"]["student"]["params"] == sum(p.numel() for p in student.parameters())


def test_query_sizes_cut_to_the_pool_are_timed_once_and_named(csbm):
    from gkd.bench.speed import format_speed

    task = make_node_task(csbm, "cpf", setting="inductive", seed=0)
    pool = query_pool(task).numel()
    teacher = SAGE(task.num_features, 16, 3, task.num_classes, aggr="gcn")
    student = MLP(task.num_features, 32, task.num_classes)
    result = compare_speed(task, teacher, student, num_hops=3,
                           batch_sizes=(1, pool + 1, pool + 2), budget=FAST, full_budget=FAST)
    assert [(row["requested"], row["batch"]) for row in result["rows"]] == [(1, 1),
                                                                            (pool + 1, pool)]
    table = format_speed(result)
    assert f"were cut to it ({pool + 1} -> {pool})" in table
    assert "teacher SAGE: 3 layers, width 16" in table and "student MLP: 2 layers" in table
    assert "the teacher has 3 layers and the student 2" in table  # not a like-for-like ratio


def test_node_queries_give_the_full_graph_outputs(csbm):
    from gkd.ops import adjacency

    teacher = SAGE(csbm.num_features, 16, 2, 3, aggr="mean").eval()
    student = MLP(csbm.num_features, 32, 3).eval()
    queries = torch.tensor([5, 17, 2, 400])
    teacher_query, student_query = node_queries(teacher, student, csbm, 2,
                                                torch.device("cpu"))
    with torch.inference_mode():
        full = teacher(csbm.x, adjacency(csbm.edge_index, csbm.num_nodes))
        assert torch.allclose(teacher_query(queries), full[queries], atol=1e-5)
        assert torch.allclose(student_query(queries), student(csbm.x)[queries])


def _link_models(task):
    from gkd.link_teachers import build_link_teacher, link_teacher_config
    from gkd.linkpred import LINK_STUDENT_DEFAULTS, build_link_student

    torch.manual_seed(0)
    small = {"hidden_channels": 16}
    teacher = build_link_teacher("sage", task.num_features, link_teacher_config("sage", None,
                                                                                 small))
    student = build_link_student(task.num_features, {**LINK_STUDENT_DEFAULTS, **small})
    return teacher.eval(), student.eval()


def test_link_queries_give_the_full_graph_scores(csbm):
    from gkd.data import make_link_task
    from gkd.ops import adjacency

    task = make_link_task(csbm, "production", seed=0)
    teacher, student = _link_models(task)
    graph = task.full_graph
    pool = link_query_pool(task)
    test = task.tests["test"]
    assert pool.size(1) == test.pos.size(1) + test.neg.size(1)
    assert torch.equal(pool, torch.cat([test.pos, test.neg], dim=1))
    pairs = torch.cat([pool[:, :6], pool[:, :2].flip(0)], dim=1)  # endpoints repeat
    teacher_query, student_query = link_queries(teacher, student, graph, 2,
                                                torch.device("cpu"))
    with torch.inference_mode():
        full = teacher(graph.x, adjacency(graph.edge_index, graph.num_nodes), pairs)
        assert torch.allclose(teacher_query(pairs), full, atol=1e-5)
        assert torch.allclose(student_query(pairs), student(graph.x, None, pairs), atol=1e-6)


def test_compare_link_speed_times_links_and_embeddings(csbm):
    from gkd.bench.speed import format_speed
    from gkd.data import make_link_task
    from gkd.errors import GkdError

    task = make_link_task(csbm, "transductive", seed=0)
    teacher, student = _link_models(task)
    result = compare_link_speed(task, teacher, student, num_hops=2, batch_sizes=(1, 5),
                                budget=FAST, full_budget=FAST)
    assert [row["batch"] for row in result["rows"]] == [1, 5]
    assert result["setup"]["queries"] == "links"
    assert result["setup"]["query_pool"] == link_query_pool(task).size(1)
    assert result["full_graph"]["nodes"] == csbm.num_nodes
    assert result["models"]["student"]["params"] == sum(p.numel() for p in student.parameters())
    assert result["models"]["teacher"]["layers"] == 2
    table = format_speed(result)
    assert table.splitlines()[0].split()[0] == "links" and "encoders only" in table
    with pytest.raises(GkdError, match="graph-free student"):
        compare_link_speed(task, student, teacher, num_hops=2, budget=FAST)


def test_link_queries_draw_whole_pairs(csbm):
    from gkd.data import make_link_task

    pool = link_query_pool(make_link_task(csbm, "transductive", seed=0))
    keys = set(map(tuple, pool.t().tolist()))
    for pairs in draw_queries(pool, 7, count=3, seed=1):
        assert pairs.shape == (2, 7)
        assert set(map(tuple, pairs.t().tolist())) <= keys
        assert len(set(map(tuple, pairs.t().tolist()))) == 7
