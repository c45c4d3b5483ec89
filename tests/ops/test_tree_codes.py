import pytest
import torch

from gkd.errors import GkdError
from gkd.ops import row_ids, tree_codes
from gkd.ops.tree_hash import sequence_ids


def _stars():
    """Centres 0 and 3 with two leaves each, then an isolated node 6."""
    return torch.tensor([[1, 2, 4, 5], [0, 0, 3, 3]])


def test_edge_labels_are_ranked_so_only_their_equality_matters():
    labels = torch.tensor([0, 1, 1, 0, 1, 1, 0])
    edge_labels = torch.tensor([0, 2, 2, 2])
    codes = tree_codes(labels, _stars(), 2, edge_labels)
    for relabelled in (edge_labels * 1000 + 7, edge_labels - 1, edge_labels - 2**40):
        assert torch.equal(tree_codes(labels, _stars(), 2, relabelled), codes)


def test_a_negative_edge_label_does_not_look_like_an_empty_slot():
    # with label -1 the key of a child used to be 0, the marker of an empty slot
    codes = tree_codes(torch.zeros(7, dtype=torch.long), _stars(), 1,
                       torch.tensor([-1, -1, 0, 0]))
    assert len({int(codes[1, 0]), int(codes[1, 3]), int(codes[1, 6])}) == 3


def test_an_empty_graph_has_no_codes():
    codes = tree_codes(torch.zeros(0, dtype=torch.long), torch.zeros(2, 0, dtype=torch.long), 2)
    assert codes.shape == (3, 0) and codes.dtype == torch.long


@pytest.mark.parametrize("edge_index, edge_labels, message", [
    (_stars(), torch.tensor([0, 1]), "edge label per edge; got 2 torch.int64 labels for 4 edges"),
    (torch.tensor([[1, 7], [0, 0]]), None, r"in \[0, 7\); edge_index holds ids from 0 to 7"),
    (torch.tensor([[-1], [0]]), None, r"edge_index holds ids from -1 to 0"),
])
def test_bad_edges_are_named(edge_index, edge_labels, message):
    with pytest.raises(GkdError, match=message):
        tree_codes(torch.zeros(7, dtype=torch.long), edge_index, 1, edge_labels)


def test_row_ids_reject_negative_entries():
    # folded as id * base + column, rows (0, -1) and (-1, 1) would share an id
    with pytest.raises(GkdError, match="non-negative entries; got -1"):
        row_ids(torch.tensor([[0, -1], [-1, 1]]))


def test_row_ids_rank_entries_too_wide_to_fold_without_collisions():
    rows = torch.tensor([[0, 0], [2**62, 0], [2**63 - 1, 3], [2**62, 0]])
    assert row_ids(rows).tolist() == [0, 1, 2, 1]  # (2**63 - 1) + 1 used to wrap around


def test_feature_labels_refuse_non_finite_features():
    from gkd.ops.tree_hash import feature_labels

    with pytest.raises(GkdError, match="finite node and edge labels; got NaN or infinite"):
        feature_labels(torch.tensor([[0.0], [float("inf")]]), 2)


def test_feature_labels_of_no_rows_or_no_columns():
    from gkd.ops.tree_hash import feature_labels

    assert feature_labels(torch.zeros(0, 3), 0).numel() == 0
    assert feature_labels(torch.zeros(4, 0), 4).tolist() == [0, 0, 0, 0]


def test_sequence_ids_rank_variable_length_sequences_lexicographically():
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(0, 40, (300,), generator=generator)
    lengths[:3] = torch.tensor([0, 0, 39])
    values = torch.randint(0, 3, (int(lengths.sum()),), generator=generator) * 10 - 5
    ptr = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(lengths, 0)])
    sequences = [tuple(values[ptr[i]:ptr[i + 1]].tolist()) for i in range(300)]
    rank = {sequence: i for i, sequence in enumerate(sorted(set(sequences)))}
    assert sequence_ids(values, ptr).tolist() == [rank[s] for s in sequences]


def test_sequence_ids_put_a_prefix_before_its_extensions():
    values = torch.tensor([1, 0, 1, 0, 0, 1, 0])
    ptr = torch.tensor([0, 2, 3, 3, 6, 7])  # (1, 0), (1,), (), (0, 0, 1), (0,)
    assert sequence_ids(values, ptr).tolist() == [4, 3, 0, 2, 1]


@pytest.mark.parametrize("labels, hops, message", [
    (torch.tensor([0.0, 0.5, 1.0, 0, 0, 0, 0]), 1, "one integer label per node"),
    (torch.eye(7, dtype=torch.long), 1, r"got torch.int64 of shape \(7, 7\)"),
    (torch.zeros(7, dtype=torch.long), 1.5, "num_hops must be an integer of at least 0; got 1.5"),
    (torch.zeros(7, dtype=torch.long), -1, "got -1"),
])
def test_labels_that_are_not_one_integer_per_node_are_refused(labels, hops, message):
    with pytest.raises(GkdError, match=message):
        tree_codes(labels, _stars(), hops)


@pytest.mark.parametrize("ptr, message", [
    (torch.tensor([0, 2, 4]), "must rise from 0 to 5"),
    (torch.tensor([0, 3, 2, 5]), "without decreasing"),
])
def test_sequence_ids_name_bad_offsets(ptr, message):
    with pytest.raises(GkdError, match=message):
        sequence_ids(torch.arange(5), ptr)


def test_row_ids_of_no_rows_are_long_and_no_columns_are_refused():
    assert row_ids(torch.zeros(0, 3, dtype=torch.int32)).dtype == torch.long
    with pytest.raises(GkdError, match="at least one column"):
        row_ids(torch.zeros(4, 0, dtype=torch.long))


def test_int32_edges_give_the_codes_of_int64_ones():
    torch.manual_seed(0)
    n, e = 1000, 2000
    edges = torch.randint(n, (2, e))
    copies = torch.cat([edges + i * n for i in range(3)], 1)  # three identical graphs
    labels, edge_labels = torch.arange(n).repeat(3), torch.arange(e).repeat(3)
    codes = tree_codes(labels, copies, 1, edge_labels)
    assert torch.equal(tree_codes(labels, copies.int(), 1, edge_labels), codes)
    assert torch.equal(codes[:, :n], codes[:, n:2 * n])  # isomorphic trees, equal codes


def test_feature_labels_keep_values_beyond_int64_apart():
    from gkd.ops.tree_hash import feature_labels, row_ids

    assert feature_labels(torch.tensor([[1e20], [2e20], [-3e19], [1e20]]), 4).tolist() == \
        [1, 2, 0, 1]
    wide = torch.tensor([[-2**63, 0], [2**63 - 1, 0], [-2**63, 0]])
    assert feature_labels(wide, 3).tolist() == [0, 1, 0]
    assert row_ids(torch.tensor([[0, 2**61], [2, 0]])).tolist() == [0, 1]
