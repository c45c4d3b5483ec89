import pytest
import torch
from torch_geometric.utils import to_undirected

from gkd.errors import GkdError
from gkd.ops import CSRGraph, k_hop_subgraph, sample_neighbors, sample_non_edges, sample_subgraph


def _star_and_path():
    """Node 0 has in-neighbours 1..6; nodes 6-7-8 form a path; node 9 is isolated."""
    edges = [(i, 0) for i in range(1, 7)] + [(6, 7), (7, 8)]
    return to_undirected(torch.tensor(edges).t(), num_nodes=10)


def test_csr_lists_in_neighbours():
    graph = CSRGraph.from_edge_index(_star_and_path(), 10)
    assert graph.num_nodes == 10
    neighbours = graph.col[graph.rowptr[0]:graph.rowptr[1]]
    assert sorted(neighbours.tolist()) == [1, 2, 3, 4, 5, 6]
    assert graph.rowptr[9] == graph.rowptr[10]  # isolated


@pytest.mark.parametrize("fanout", [0, 2, 4, 10, -1])
def test_sample_neighbors_draws_distinct_existing_neighbours(fanout):
    edge_index = _star_and_path()
    graph = CSRGraph.from_edge_index(edge_index, 10)
    nodes = torch.tensor([0, 7, 9])
    src, dst = sample_neighbors(graph, nodes, fanout, torch.Generator().manual_seed(0))
    existing = set(map(tuple, edge_index.t().tolist()))
    assert all((s, d) in existing for s, d in zip(src.tolist(), dst.tolist()))
    degree = {0: 6, 7: 2, 9: 0}
    for node, deg in degree.items():
        picked = src[dst == node]
        assert picked.numel() == (deg if fanout < 0 else min(deg, fanout))
        assert picked.unique().numel() == picked.numel()  # without replacement


def test_sampled_ids_are_long_for_int32_nodes():
    graph = CSRGraph.from_edge_index(_star_and_path(), 10)
    sources, targets = sample_neighbors(graph, torch.tensor([0, 9], dtype=torch.int32), 2)
    assert sources.dtype == targets.dtype == torch.long


def test_sample_neighbors_is_uniform():
    graph = CSRGraph.from_edge_index(_star_and_path(), 10)
    gen = torch.Generator().manual_seed(0)
    counts = torch.zeros(10)
    for _ in range(3000):
        src, _ = sample_neighbors(graph, torch.tensor([0]), 2, gen)
        counts[src] += 1
    # each of the 6 neighbours is drawn with probability 2/6
    assert torch.allclose(counts[1:7] / 3000, torch.full((6,), 1 / 3), atol=0.04)


def test_sample_subgraph_puts_seeds_first_and_relabels():
    edge_index = _star_and_path()
    graph = CSRGraph.from_edge_index(edge_index, 10)
    nodes, local = sample_subgraph(graph, torch.tensor([8, 0]), [-1, -1])
    assert nodes[:2].tolist() == [8, 0]
    assert nodes.unique().numel() == nodes.numel()
    # two full hops from {8, 0}: 8 <- 7 <- 6 and 0 <- 1..6 <- (0, 7)
    assert set(nodes.tolist()) == {0, 1, 2, 3, 4, 5, 6, 7, 8}
    global_edges = set(map(tuple, nodes[local].t().tolist()))
    assert global_edges <= set(map(tuple, edge_index.t().tolist()))
    assert (7, 8) in global_edges and (6, 7) in global_edges


def test_sampled_teacher_training_learns(csbm):
    from gkd.data import make_node_task
    from gkd.evaluation import accuracy, evaluate
    from gkd.ops import adjacency
    from gkd.teachers import build_teacher, teacher_config, train_teacher

    task = make_node_task(csbm, "cpf", seed=0)
    config = teacher_config("sage", overrides={"hidden_channels": 32, "max_epochs": 60,
                                               "batch_size": 16, "fanouts": [5, 5]})
    model = build_teacher("sage", 16, 3, config)
    history = train_teacher(model, task, config)
    scores = evaluate(task, lambda g: model(g.x, adjacency(g.edge_index, g.num_nodes)))
    assert history.epochs > 1 and scores["test"] > 80.0
    assert accuracy(model(task.graph.x, task.graph.edge_index)[task.val_idx],
                    task.graph.y[task.val_idx]) == pytest.approx(history.best_val)


def test_a_batch_norm_teacher_samples_without_a_batch_of_one_lonely_node(csbm):
    from gkd.data import make_node_task
    from gkd.teachers import build_teacher, teacher_config, train_teacher

    task = make_node_task(csbm, "cpf", seed=0)
    config = teacher_config("sage", overrides={
        "hidden_channels": 8, "max_epochs": 2, "norm": "batch_norm",
        "batch_size": task.train_idx.numel() - 1, "fanouts": [0, 0]})  # seeds alone
    train_teacher(build_teacher("sage", 16, 3, config), task, config)


@pytest.mark.parametrize("options, message", [
    ({"batch_size": 16}, "needs both"),
    ({"batch_size": 16, "fanouts": [5]}, "one integer per layer"),
    ({"batch_size": 2.5, "fanouts": [5, 5]}, "batch_size must be an integer; got 2.5"),
])
def test_sampled_training_options_are_checked(csbm, options, message):
    from gkd.data import make_node_task
    from gkd.errors import GkdError
    from gkd.teachers import build_teacher, teacher_config, train_teacher

    with pytest.raises(GkdError, match=message):
        config = teacher_config("gcn", overrides=options)
        train_teacher(build_teacher("gcn", 16, 3, config), make_node_task(csbm, "cpf"), config)


def test_sampled_training_rejects_multi_hop_layers(csbm):
    from gkd.data import make_node_task
    from gkd.errors import GkdError
    from gkd.teachers import build_teacher, teacher_config, train_teacher

    sampled = {"batch_size": 16, "fanouts": [5, 5]}
    with pytest.raises(GkdError, match="appnp propagates K hops"):
        teacher_config("appnp", overrides=sampled)  # before anything trains
    config = {**teacher_config("appnp"), **sampled}
    with pytest.raises(GkdError, match="appnp propagates K hops"):
        train_teacher(build_teacher("appnp", 16, 3, config), make_node_task(csbm, "cpf"), config)


def test_k_hop_subgraph_gathers_the_l_hop_set():
    # path 0-1-2-3-4 plus an edge 2-5; node 6 isolated
    edge_index = to_undirected(torch.tensor([[0, 1, 2, 3, 2], [1, 2, 3, 4, 5]]), num_nodes=7)
    graph = CSRGraph.from_edge_index(edge_index, 7)
    expected = {1: {0, 1}, 2: {0, 1, 2}, 3: {0, 1, 2, 3, 5}, 4: {0, 1, 2, 3, 4, 5}}
    for hops, members in expected.items():
        nodes, local = k_hop_subgraph(graph, torch.tensor([0]), hops)
        assert nodes[0] == 0 and set(nodes.tolist()) == members
        # every edge into a node closer than `hops` is present, and no other edge
        targets = set(nodes[local[1]].tolist())
        assert targets == {n for n, d in {0: 0, 1: 1, 2: 2, 3: 3, 5: 3}.items() if d < hops}
        assert local.size(1) == sum(int(graph.degree()[t]) for t in targets)


def test_k_hop_subgraph_gives_the_full_graph_output_of_a_gnn():
    from gkd.data.synthetic import contextual_sbm
    from gkd.nn import SAGE

    data = contextual_sbm(300, avg_degree=6, seed=1)
    graph = CSRGraph.from_edge_index(data.edge_index, data.num_nodes)
    torch.manual_seed(0)
    model = SAGE(data.num_features, 16, 3, 4, aggr="gcn").eval()
    full = model(data.x, data.edge_index)
    seeds = torch.tensor([5, 17, 250])
    nodes, local = k_hop_subgraph(graph, seeds, 3)
    part = model(data.x[nodes], local)[:seeds.numel()]
    torch.testing.assert_close(part, full[seeds])


def test_sample_non_edges_draws_uniformly_among_non_edges():
    edge_index = _star_and_path()
    graph = CSRGraph.from_edge_index(edge_index, 10)
    pairs = sample_non_edges(graph, 30_000, torch.Generator().manual_seed(0))
    assert pairs.shape == (2, 30_000)
    assert (pairs[0] != pairs[1]).all()
    edges = set(map(tuple, edge_index.t().tolist()))
    assert not edges & set(map(tuple, pairs.t().tolist()))
    # 90 ordered pairs without self-loops, 16 of them edges: 74 equally likely non-edges
    counts = torch.bincount(pairs[0] * 10 + pairs[1], minlength=100).float()
    drawn = counts[counts > 0]
    assert drawn.numel() == 74
    assert torch.allclose(drawn / 30_000, torch.full((74,), 1 / 74), atol=0.004)
    again = sample_non_edges(graph, 30_000, torch.Generator().manual_seed(0))
    assert torch.equal(pairs, again)


def test_sample_non_edges_scales_without_a_dense_matrix():
    n = 1_000_000  # a dense N x N float matrix would take 4 TB
    path = torch.arange(n - 1)
    edge_index = to_undirected(torch.stack([path, path + 1]), num_nodes=n)
    graph = CSRGraph.from_edge_index(edge_index, n)
    pairs = sample_non_edges(graph, 1000, torch.Generator().manual_seed(0))
    assert pairs.shape == (2, 1000) and ((pairs[0] - pairs[1]).abs() > 1).all()


def test_sample_non_edges_fails_on_a_complete_graph():
    full = torch.ones(4, 4).nonzero().t()  # with self-loops, which are never drawn anyway
    graph = CSRGraph.from_edge_index(full, 4)
    assert sample_non_edges(graph, 0).shape == (2, 0)
    with pytest.raises(ValueError, match="no non-edges"):
        sample_non_edges(graph, 1)
    with pytest.raises(GkdError, match="the graph on 4 nodes has no non-edges to sample"):
        sample_non_edges(graph, 1)


def test_sample_subgraph_rejects_repeated_seeds():
    graph = CSRGraph.from_edge_index(_star_and_path(), 10)
    with pytest.raises(GkdError, match="seed 0 occurs more than once; seeds must be distinct"):
        sample_subgraph(graph, torch.tensor([8, 0, 3, 0]), [2])
    with pytest.raises(GkdError, match="seed 7 occurs more than once"):
        k_hop_subgraph(graph, torch.tensor([7, 7]), 1)


def test_bad_nodes_fanouts_and_hops_are_named():
    graph = CSRGraph.from_edge_index(_star_and_path(), 10)
    with pytest.raises(GkdError, match="nodes holds ids from -1 to 4"):
        sample_neighbors(graph, torch.tensor([-1, 4]), 2)
    with pytest.raises(GkdError, match="integer vector of node ids; got torch.float32"):
        sample_neighbors(graph, torch.tensor([1.0]), 2)
    with pytest.raises(GkdError, match="fanout must be an integer; got 1.5"):
        sample_neighbors(graph, torch.tensor([0]), 1.5)
    with pytest.raises(GkdError, match="seeds holds ids from 0 to 10"):
        sample_subgraph(graph, torch.tensor([0, 10]), [2])
    with pytest.raises(GkdError, match="num_hops must be an integer of at least 0; got -1"):
        k_hop_subgraph(graph, torch.tensor([0]), -1)
    for count in (-3, 2.0):
        with pytest.raises(GkdError, match=f"count must be an integer of at least 0; got "
                                           f"{count}"):
            sample_non_edges(graph, count)
    nodes, edge_index = k_hop_subgraph(graph, torch.tensor([7, 0]), 0)
    assert nodes.tolist() == [7, 0] and edge_index.shape == (2, 0)


def test_a_csr_graph_with_decreasing_offsets_is_refused():
    with pytest.raises(GkdError, match="rowptr must rise from 0 to 2"):
        CSRGraph(torch.tensor([0, 5, 2]), torch.tensor([1, 0]))
    with pytest.raises(GkdError, match="num_nodes must be an integer of at least 0; got -1"):
        CSRGraph.from_edge_index(torch.zeros(2, 0, dtype=torch.long), -1)
