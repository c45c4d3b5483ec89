import random

import pytest
import torch

from gkd.errors import GkdError
from gkd.ops.tree_hash import feature_labels, row_ids, tree_codes


def _canonical(node, depth, labels, edges):
    """The computation tree of node as nested sorted tuples (a brute-force oracle)."""
    if depth == 0:
        return (labels[node],)
    children = sorted((label, _canonical(u, depth - 1, labels, edges))
                      for u, label in edges.get(node, []))
    return (labels[node], tuple(children))


def _random_graph(rng, num_nodes, num_edges, num_labels, num_edge_labels):
    labels = [rng.randrange(num_labels) for _ in range(num_nodes)]
    pairs = {tuple(sorted(rng.sample(range(num_nodes), 2))) for _ in range(num_edges)}
    src, dst, edge_labels, edges = [], [], [], {}
    for u, v in sorted(pairs):
        label = rng.randrange(num_edge_labels)
        for a, b in ((u, v), (v, u)):
            src.append(a)
            dst.append(b)
            edge_labels.append(label)
            edges.setdefault(b, []).append((a, label))
    return labels, torch.tensor([src, dst]), torch.tensor(edge_labels), edges


@pytest.mark.parametrize("seed", range(3))
def test_codes_match_brute_force_tree_isomorphism(seed):
    rng = random.Random(seed)
    labels, edge_index, edge_labels, edges = _random_graph(rng, 40, 60, 3, 2)
    codes = tree_codes(torch.tensor(labels), edge_index, 3, edge_labels)
    for depth in range(4):
        trees = [_canonical(v, depth, labels, edges) for v in range(40)]
        for u in range(40):
            for v in range(40):
                same_code = bool(codes[depth, u] == codes[depth, v])
                assert same_code == (trees[u] == trees[v]), (depth, u, v)


def test_codes_of_a_hub_match_brute_force_tree_isomorphism():
    # a hub far wider than the other nodes: signatures of very unequal lengths
    rng = random.Random(3)
    labels, edge_index, edge_labels, edges = _random_graph(rng, 200, 100, 2, 2)
    leaves = [v for v in range(1, 200) if rng.random() < 0.8]
    hub_edges = torch.tensor([[0] * len(leaves) + leaves, leaves + [0] * len(leaves)])
    for v in leaves:
        edges.setdefault(0, []).append((v, 1))
        edges.setdefault(v, []).append((0, 1))
    codes = tree_codes(torch.tensor(labels), torch.cat([edge_index, hub_edges], 1), 2,
                       torch.cat([edge_labels, torch.ones(hub_edges.size(1), dtype=torch.long)]))
    for depth in range(3):
        trees = [_canonical(v, depth, labels, edges) for v in range(200)]
        for u in range(200):
            for v in range(u):
                assert bool(codes[depth, u] == codes[depth, v]) == (trees[u] == trees[v])


def test_isomorphic_trees_across_relabelled_graphs_share_codes():
    rng = random.Random(7)
    labels, edge_index, edge_labels, _ = _random_graph(rng, 20, 30, 4, 3)
    perm = torch.randperm(20, generator=torch.Generator().manual_seed(0))
    # the same graph again with its nodes renumbered, as a second component
    relabelled = perm[edge_index] + 20
    all_labels = torch.cat([torch.tensor(labels), torch.empty(20, dtype=torch.long)])
    all_labels[perm + 20] = torch.tensor(labels)
    codes = tree_codes(all_labels, torch.cat([edge_index, relabelled], 1), 3,
                       torch.cat([edge_labels, edge_labels]))
    assert torch.equal(codes[:, :20], codes[:, 20 + perm])


def _concatenated_code(node, depth, labels, edges):
    """The reference's Python encoding: digits concatenated into one integer."""
    if depth == 0 or node not in edges:
        return int(f"1{labels[node] + 2}0")
    children = sorted(str(_concatenated_code(u, depth - 1, labels, edges)) + str(label + 2)
                      for u, label in edges[node])
    return int(f"1{labels[node] + 2}{''.join(children)}0")


def test_trees_that_collide_under_digit_concatenation_get_different_codes():
    # node 0: a lone node labelled 21200; nodes 1-2: label 0 with one child labelled 0
    labels = [21200, 0, 0]
    edges = {1: [(2, 0)], 2: [(1, 0)]}
    assert (_concatenated_code(0, 1, labels, edges)
            == _concatenated_code(1, 1, labels, edges))  # the reference collides
    codes = tree_codes(torch.tensor(labels), torch.tensor([[2, 1], [1, 2]]), 1)
    assert codes[1, 0] != codes[1, 1]
    assert codes[1, 1] == codes[1, 2]


def test_edge_labels_and_multiplicities_matter():
    # star centres: two children with edge labels (0, 1) vs (1, 1) vs a single child
    edge_index = torch.tensor([[1, 2, 4, 5, 7], [0, 0, 3, 3, 6]])
    edge_labels = torch.tensor([0, 1, 1, 1, 1])
    codes = tree_codes(torch.zeros(8, dtype=torch.long), edge_index, 1, edge_labels)
    assert len({int(codes[1, 0]), int(codes[1, 3]), int(codes[1, 6])}) == 3


def test_row_ids_equal_unique_rows():
    rows = torch.randint(0, 4, (500, 5), generator=torch.Generator().manual_seed(0))
    expected = torch.unique(rows, dim=0, return_inverse=True)[1]
    assert torch.equal(row_ids(rows), expected)


def test_feature_labels_of_one_hot_and_integer_rows():
    x = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert feature_labels(x, 3).tolist() == [0, 1, 0]
    assert feature_labels(None, 2).tolist() == [0, 0]
    with pytest.raises(GkdError, match="discrete"):
        feature_labels(torch.tensor([[0.5]]), 1)
