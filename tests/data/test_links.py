import pytest
import torch

from gkd.data.links import (
    load_link_task,
    make_link_task,
    production_link_split,
    production_new_ratio,
    transductive_link_split,
)
from gkd.errors import GkdError


def _keys(pairs, n):
    """Undirected pair keys min * n + max."""
    lo, hi = pairs.min(dim=0).values, pairs.max(dim=0).values
    return set((lo * n + hi).tolist())


def test_transductive_split_sizes_and_no_leak(csbm):
    n = csbm.num_nodes
    task = transductive_link_split(csbm, seed=0)
    all_edges = _keys(csbm.edge_index, n)
    test, val = _keys(task.tests["test"].pos, n), _keys(task.val.pos, n)
    train, seen = _keys(task.train_pos, n), _keys(task.graph.edge_index, n)
    assert len(val) == int(0.05 * len(all_edges)) and len(test) == int(0.15 * len(all_edges))
    assert test | val | train == all_edges
    assert not test & (train | val | seen) and not val & (train | seen)
    assert seen == train and task.full_graph is task.graph
    for pairs in (task.val.neg, task.tests["test"].neg):  # negatives are true non-edges
        assert not _keys(pairs, n) & all_edges and (pairs[0] != pairs[1]).all()
    assert task.val.neg.size(1) == len(val) and task.tests["test"].neg.size(1) == len(test)


def test_split_is_seeded(csbm):
    first, again = make_link_task(csbm, seed=3), make_link_task(csbm, seed=3)
    other = make_link_task(csbm, seed=4)
    assert first.fingerprint() == again.fingerprint() != other.fingerprint()
    assert torch.equal(first.tests["test"].neg, again.tests["test"].neg)


def test_the_fingerprint_keys_the_features_too(csbm):
    scaled = csbm.clone()
    scaled.x = 2 * csbm.x
    same_split = make_link_task(scaled, seed=0), make_link_task(csbm, seed=0)
    assert torch.equal(same_split[0].train_pos, same_split[1].train_pos)
    assert same_split[0].fingerprint() != same_split[1].fingerprint()


def test_production_new_nodes_have_no_training_edges(csbm):
    n = csbm.num_nodes
    task = production_link_split(csbm, new_ratio=0.3, seed=1)
    new = torch.ones(n, dtype=torch.bool)
    new[task.observed_nodes] = False
    assert int(new.sum()) == int(0.3 * n) and task.graph.num_nodes == n - int(0.3 * n)
    # the observed graph is the old-node subgraph: its features are theirs, no new node
    assert torch.equal(task.graph.x, csbm.x[task.observed_nodes])
    seen = _keys(task.observed_nodes[task.graph.edge_index], n)
    test = _keys(task.tests["test"].pos, n)
    assert not test & seen and not test & _keys(task.full_graph.edge_index, n)
    assert not test & _keys(task.observed_nodes[task.val.pos], n)
    # the groups partition the test edges by how many endpoints are new
    for name, count in (("test_old_old", 0), ("test_old_new", 1), ("test_new_new", 2)):
        assert (new[task.tests[name].pos].sum(dim=0) == count).all()
    assert sum(task.tests[f"test_{g}"].pos.size(1) for g in ("old_old", "old_new", "new_new")) \
        == task.tests["test"].pos.size(1)
    # inference sees every non-test edge
    assert _keys(task.full_graph.edge_index, n) | test == _keys(csbm.edge_index, n)


@pytest.mark.parametrize("kwargs", [{"setting": "inductive"}, {"test_ratio": 0.99}])
def test_bad_split_arguments_are_named(csbm, kwargs):
    with pytest.raises(GkdError):
        make_link_task(csbm, **kwargs)


@pytest.mark.parametrize("split", [transductive_link_split, production_link_split])
@pytest.mark.parametrize("seed", [-1, 2.5])
def test_the_link_split_seed_is_checked(csbm, split, seed):
    with pytest.raises(GkdError, match="split seed must be an integer"):
        split(csbm, seed=seed)


def _one_way(edge_index, reverse=False):
    """Each undirected edge once, as (u, v) with u < v, or v > u when reversed."""
    src, dst = edge_index
    edges = edge_index[:, src < dst]
    return edges.flip(0) if reverse else edges


@pytest.mark.parametrize("setting", ["transductive", "production"])
def test_edges_count_undirected_and_once(csbm, setting):
    expected = make_link_task(csbm, setting, seed=0).fingerprint()
    generator = torch.Generator().manual_seed(1)
    for edges in (_one_way(csbm.edge_index), _one_way(csbm.edge_index, reverse=True),
                  torch.cat([csbm.edge_index, csbm.edge_index[:, :50],  # repeats, self-loops
                             torch.arange(5).repeat(2, 1)], dim=1)):
        graph = csbm.clone()
        graph.edge_index = edges[:, torch.randperm(edges.size(1), generator=generator)]
        assert make_link_task(graph, setting, seed=0).fingerprint() == expected


def test_a_repeated_edge_is_in_one_split_only(csbm):
    n = csbm.num_nodes
    graph = csbm.clone()
    graph.edge_index = torch.cat([csbm.edge_index, torch.tensor([[0], [1]]).repeat(1, 10)], dim=1)
    task = make_link_task(graph, seed=0)
    parts = [_keys(task.train_pos, n), _keys(task.val.pos, n), _keys(task.tests["test"].pos, n)]
    assert sum(1 in part for part in parts) == 1  # the pair (0, 1) has key 0 * n + 1
    assert sum(map(len, parts)) == len(set().union(*parts))


@pytest.mark.parametrize("setting", ["transductive", "production"])
def test_too_few_edges_are_named(setting):
    from torch_geometric.data import Data

    path = Data(x=torch.eye(6), edge_index=torch.tensor([[1, 2, 3, 4, 5], [0, 1, 2, 3, 4]]))
    with pytest.raises(GkdError, match="5 undirected edges are too few"):
        make_link_task(path, setting, seed=0)


def test_edges_outside_the_graph_are_named(csbm):
    graph = csbm.clone()
    graph.edge_index = torch.cat([csbm.edge_index, torch.tensor([[0], [csbm.num_nodes]])], dim=1)
    with pytest.raises(GkdError, match=r"node ids must be in \[0, "):
        make_link_task(graph, seed=0)
    with pytest.raises(GkdError, match=r"node ids must be in \[0, "):
        production_link_split(graph, seed=0)


def _rebuilt(task, graph=None, val=None, tests=None):
    from gkd.data.links import LinkTask

    graph = task.graph if graph is None else graph
    return LinkTask(graph, task.val if val is None else val, graph,
                    task.tests if tests is None else tests, task.observed_nodes)


def test_a_hand_built_task_that_leaks_is_refused(csbm):
    from gkd.data.links import LinkPairs

    task = transductive_link_split(csbm, seed=0)
    val, test = task.val, task.tests["test"]
    assert _rebuilt(task).fingerprint() == task.fingerprint()  # the drawn split passes
    with pytest.raises(GkdError, match="a test edge is also an edge of full_graph"):
        _rebuilt(task, tests={"test": LinkPairs(task.train_pos[:, :3], test.neg)})
    with pytest.raises(GkdError, match="a validation edge is also an edge of the observed"):
        _rebuilt(task, val=LinkPairs(task.train_pos[:, :3].flip(0), val.neg))
    with pytest.raises(GkdError, match="a validation non-edge is an edge or a positive pair"):
        _rebuilt(task, val=LinkPairs(val.pos, test.pos[:, :3]))
    with pytest.raises(GkdError, match="a test non-edge is an edge or a positive pair"):
        _rebuilt(task, tests={"test": LinkPairs(test.pos, task.train_pos[:, :3])})


def test_a_hand_built_task_with_malformed_pairs_is_named(csbm):
    from gkd.data.links import LinkPairs, LinkTask

    task = transductive_link_split(csbm, seed=0)
    val, test, n = task.val, task.tests["test"], csbm.num_nodes
    cases = [
        ({"val": LinkPairs(val.pos + n, val.neg)}, r"the validation positives holds ids from"),
        ({"val": LinkPairs(val.pos.float(), val.neg)},
         r"the validation positives must be an integer tensor of shape \[2, E\]"),
        ({"tests": {"test": LinkPairs(test.pos, test.neg[0])}},
         r"the test negatives must be an integer tensor"),
        ({"val": LinkPairs(val.pos[:, :0], val.neg)}, "no positive pair to select on"),
        ({"tests": {"holdout": test}}, "must include a set named 'test'; got holdout"),
    ]
    for change, message in cases:
        with pytest.raises(GkdError, match=message):
            _rebuilt(task, **change)
    with pytest.raises(GkdError, match="observed_nodes must name each of the observed graph's"):
        LinkTask(task.graph, val, task.graph, task.tests, task.observed_nodes[:-1])


def test_a_hand_built_task_needs_an_undirected_graph_with_edges(csbm):
    task = transductive_link_split(csbm, seed=0)
    one_way = task.graph.clone()
    one_way.edge_index = task.train_pos.flip(0)  # u > v only: no training positive
    with pytest.raises(GkdError, match="both directions of every edge"):
        _rebuilt(task, graph=one_way)
    no_edges = task.graph.clone()
    no_edges.edge_index = torch.empty(2, 0, dtype=torch.long)
    with pytest.raises(GkdError, match="no edge to train on"):
        _rebuilt(task, graph=no_edges)
    wide = task.graph.clone()
    wide.x = wide.x.double()
    with pytest.raises(GkdError, match="node features must be torch.float32"):
        _rebuilt(task, graph=wide)


def test_load_link_task_defaults_to_llp_new_ratio(csbm, monkeypatch):
    import gkd.data.links

    loaded = []
    monkeypatch.setattr(gkd.data.links, "load_dataset",
                        lambda name, root, cache: loaded.append((root, cache)) or csbm)
    for name, ratio in (("cora", 0.3), ("CiteSeer", 0.3), ("a-computer", 0.1)):
        assert load_link_task(name, "production").info["new_ratio"] == ratio
        assert production_new_ratio(name) == ratio
    assert load_link_task("cora", "production", new_ratio=0.2).info["new_ratio"] == 0.2
    task = load_link_task("cora", root="data", cache="cache", test_ratio=0.1)
    assert loaded[-1] == ("data", "cache")
    assert task.sizes() == make_link_task(csbm, test_ratio=0.1).sizes() != \
        make_link_task(csbm).sizes()


def test_pair_keys_of_int32_pairs_do_not_overflow():
    from gkd.data.links import _pair_keys

    pairs = torch.tensor([[59_999, 3], [50_000, 59_998]])
    assert torch.equal(_pair_keys(pairs.int(), 60_000), _pair_keys(pairs, 60_000))


def test_splits_whose_pairs_share_their_bytes_have_different_fingerprints():
    from torch_geometric.data import Data

    from gkd.data.links import LinkPairs, LinkTask

    graph = Data(x=torch.randn(8, 4), edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]))
    tests = {"test": LinkPairs(torch.tensor([[2], [3]]), torch.tensor([[0], [4]]))}
    one = LinkTask(graph, LinkPairs(torch.tensor([[3], [4]]), torch.tensor([[5, 6], [7, 0]])),
                   graph, tests, torch.arange(8))
    other = LinkTask(graph, LinkPairs(torch.tensor([[3, 4], [5, 6]]), torch.tensor([[7], [0]])),
                     graph, tests, torch.arange(8))
    assert one.fingerprint() != other.fingerprint()


def test_the_npz_copies_of_cora_and_citeseer_hold_out_llps_share():
    assert production_new_ratio("cora-npz") == production_new_ratio("CiteSeer") == 0.3
    assert production_new_ratio("a-photo") == 0.1
