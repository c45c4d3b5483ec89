import pytest
import torch

from gkd.data.links import make_link_task, production_link_split, transductive_link_split
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
