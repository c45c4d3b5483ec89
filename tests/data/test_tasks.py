import pytest
import torch
from torch_geometric.data import Data

from gkd.data import NodeTask, load_node_task, make_node_task
from gkd.errors import GkdError


def test_transductive_task_sees_the_whole_graph(csbm):
    task = make_node_task(csbm, "cpf", seed=0)
    assert task.graph is task.full_graph
    assert set(task.eval_sets()) == {"val", "test"}
    assert task.sizes()["train"] == 60 and task.sizes()["val"] == 90


@pytest.mark.parametrize("seed", [0, 3])
def test_inductive_observed_graph_hides_held_out_nodes(csbm, seed):
    task = make_node_task(csbm, "cpf", setting="inductive", seed=seed)
    held_out = task.test_ind_idx
    assert held_out.numel() == int(0.2 * (task.full_graph.num_nodes - 150))
    # no observed node is a held-out node, and the observed graph has no edge touching one
    assert not torch.isin(task.observed_nodes, held_out).any()
    observed_edges = task.observed_nodes[task.graph.edge_index]
    assert not torch.isin(observed_edges, held_out).any()
    # every full-graph edge between observed nodes survives
    full = task.full_graph.edge_index
    kept = ~torch.isin(full, held_out).any(dim=0)
    assert observed_edges.size(1) == int(kept.sum())
    # local indices point at the same nodes as the global split
    assert torch.equal(task.graph.x[task.train_idx], csbm.x[task.observed_nodes[task.train_idx]])
    assert set(task.eval_sets()) == {"val", "test_tran", "test_ind"}
    assert task.eval_sets()["test_ind"].graph is task.full_graph
    # the training mask marks exactly the training nodes of the observed graph
    assert task.train_mask.shape == (task.graph.num_nodes,)
    assert torch.equal(task.train_mask.nonzero().view(-1), task.train_idx.sort().values)


def test_public_protocol_uses_masks():
    data = Data(x=torch.randn(6, 2), y=torch.tensor([0, 1, 0, 1, 0, 1]),
                edge_index=torch.tensor([[0, 1], [1, 0]]))
    data.train_mask = torch.tensor([1, 1, 0, 0, 0, 0], dtype=torch.bool)
    data.val_mask = torch.tensor([0, 0, 1, 1, 0, 0], dtype=torch.bool)
    data.test_mask = torch.tensor([0, 0, 0, 0, 1, 1], dtype=torch.bool)
    task = make_node_task(data, "public")
    assert task.train_idx.tolist() == [0, 1] and task.test_idx.tolist() == [4, 5]


def test_lcc_is_kept_and_classes_renumbered(triangle_plus_one):
    data = triangle_plus_one
    data.x = torch.randn(6, 3)
    data.y = torch.tensor([0, 0, 2, 2, 1, 1])  # nodes 4, 5 are isolated
    from gkd.data import largest_connected_component

    lcc = largest_connected_component(data)
    assert lcc.num_nodes == 4 and lcc.y.tolist() == [0, 0, 1, 1]


@pytest.mark.parametrize("change, message", [
    (lambda d: setattr(d, "x", torch.full_like(d.x, float("nan"))), "NaN"),
    (lambda d: setattr(d, "y", d.y[:-1]), "labels must have shape"),
    (lambda d: setattr(d, "edge_index", torch.tensor([[0], [99]])), r"node ids must be in \[0, "),
    (lambda d: setattr(d, "x", d.x[0]), "node features must have shape"),
    (lambda d: setattr(d, "x", d.x.long()), "node features must be torch.float32, the "
                                            "models' dtype; got torch.int64"),
    (lambda d: setattr(d, "x", d.x.double()), r"got torch.float64 \(use x.float\(\)\)"),
    (lambda d: setattr(d, "edge_index", torch.cat([d.edge_index, torch.tensor([[3], [3]])], 1)),
     r"the graph has 1 self-loop\(s\)"),
    (lambda d: setattr(d, "edge_index", d.edge_index.repeat(1, 2)), "has 8 repeated edge"),
    (lambda d: setattr(d, "edge_index", d.edge_index[:, 1:]), "the graph is directed"),
    (lambda d: setattr(d, "num_nodes", 6), "declares 6 nodes .* but x has 4 rows"),
    (lambda d: setattr(d, "x", d.x.to_sparse()), "must be a dense tensor"),
    (lambda d: setattr(d, "x", d.x[:, :0]), r"at least one feature; got \(4, 0\)"),
    (lambda d: setattr(d, "x", d.x.requires_grad_()), r"require grad .* pass x.detach\(\)"),
])
def test_bad_graphs_are_rejected_with_a_message(triangle_plus_one, change, message):
    change(triangle_plus_one)
    with pytest.raises(GkdError, match=message):
        NodeTask(triangle_plus_one, torch.tensor([0]), torch.tensor([1]), torch.tensor([2]))


def test_hetero_data_is_rejected():
    from torch_geometric.data import HeteroData

    with pytest.raises(GkdError, match="HeteroData"):
        NodeTask(HeteroData(), torch.tensor([0]), torch.tensor([1]), torch.tensor([2]))


def test_bad_splits_are_rejected(triangle_plus_one):
    empty, one = torch.tensor([], dtype=torch.long), torch.tensor([0])
    with pytest.raises(GkdError, match="val split is empty"):
        NodeTask(triangle_plus_one, one, empty, torch.tensor([2]))
    with pytest.raises(GkdError, match="overlaps"):
        NodeTask(triangle_plus_one, one, one, torch.tensor([2]))
    with pytest.raises(GkdError, match="unknown setting"):
        NodeTask(triangle_plus_one, one, torch.tensor([1]), torch.tensor([2]), setting="x")


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int16, torch.int32])
def test_narrow_integer_indices_are_node_ids(csbm, dtype):
    splits = [torch.arange(0, 60), torch.arange(60, 120), torch.arange(120, 250)]
    held_out = torch.arange(200, 250)
    reference = NodeTask(csbm, *splits, setting="inductive", held_out=held_out)
    task = NodeTask(csbm, *(idx.to(dtype) for idx in splits), setting="inductive",
                    held_out=held_out.to(dtype))
    for name in ("train_idx", "val_idx", "test_idx", "test_ind_idx"):
        assert torch.equal(getattr(task, name), getattr(reference, name)), name
    assert task.fingerprint() == reference.fingerprint()


def test_ids_beyond_a_narrow_dtype_are_compared_as_numbers():
    from gkd.data.splits import check_split_index

    check_split_index("train", torch.tensor([5, 6], dtype=torch.int16), 40_000)
    with pytest.raises(GkdError, match="outside 0..39999"):
        check_split_index("train", torch.tensor([5, 40_000], dtype=torch.int32), 40_000)


@pytest.mark.parametrize("seed", ["1", -1, 1.0, True])
def test_the_split_seed_must_be_a_non_negative_integer(csbm, seed):
    with pytest.raises(GkdError, match=r"split seed must be an integer in \[0, 2\*\*32\)"):
        make_node_task(csbm, "cpf", seed=seed)


def test_teacher_training_names_a_model_of_the_wrong_size(csbm):
    from gkd.teachers import build_teacher, teacher_config, train_teacher

    task, config = make_node_task(csbm, "cpf"), teacher_config("sage")
    with pytest.raises(GkdError, match="the teacher's out_channels is 2 but the task has 3"):
        train_teacher(build_teacher("sage", 16, 2, config), task, config)


def test_protocol_dataset_mismatch_is_named():
    with pytest.raises(GkdError, match="not ogbn"):
        load_node_task("cora", "ogb")
    with pytest.raises(GkdError, match="not one of"):
        load_node_task("a-photo", "public")
    with pytest.raises(GkdError, match="unknown protocol"):
        make_node_task(Data(x=torch.zeros(2, 1), y=torch.zeros(2, dtype=torch.long),
                            edge_index=torch.zeros(2, 0, dtype=torch.long)), "nope")


@pytest.mark.datasets
@pytest.mark.parametrize("name, nodes, edges", [("citeseer", 2110, 3668),
                                                ("a-photo", 7487, 119043)])
def test_cpf_statistics_match_the_protocol(data_root, name, nodes, edges):
    from gkd.errors import DatasetNotFoundError

    try:
        task = load_node_task(name, "cpf", root=data_root)
    except DatasetNotFoundError:
        pytest.skip(f"{name} is not in the data root")
    assert (task.sizes()["num_nodes"], task.sizes()["num_edges"]) == (nodes, edges)


@pytest.mark.parametrize("labels, message", [
    (torch.tensor([0.0, 0.0, 1.0, 1.0]), "integer class indices"),
    (torch.tensor([0, -1, 1, 1]), "on the split nodes; 1 of them have a negative label"),
    (torch.tensor([0, 0, 1, 1], dtype=torch.int32), r"got torch.int32 \(use y.long\(\)\)"),
])
def test_labels_must_be_class_indices(triangle_plus_one, labels, message):
    triangle_plus_one.y = labels
    with pytest.raises(GkdError, match=message):
        NodeTask(triangle_plus_one, torch.tensor([0]), torch.tensor([1]), torch.tensor([2]))


@pytest.mark.parametrize("protocol", ["cpf", "random"])
def test_bad_labels_are_named_before_splitting(csbm, protocol):
    csbm.y[:10] = -1  # would reach numpy's bincount in the per-class split
    with pytest.raises(GkdError, match="negative label"):
        make_node_task(csbm, protocol)


@pytest.mark.parametrize("train, message", [
    (torch.tensor([True, False, False]), r"boolean mask; .*mask\.nonzero\(\)\.view\(-1\)"),
    (torch.tensor([False, False, False, False]), "the train split is empty"),
    (torch.tensor([0.0]), "1-D integer index tensor; got dtype torch.float32"),
    (torch.tensor([[0]]), "1-D integer index tensor; got dtype torch.int64 and shape"),
    (torch.tensor([0, 0]), r"train split lists nodes more than once \(1 repeats\)"),
])
def test_split_indices_must_be_distinct_node_ids(triangle_plus_one, train, message):
    with pytest.raises(GkdError, match=message):
        NodeTask(triangle_plus_one, train, torch.tensor([1]), torch.tensor([2]))


def test_a_class_without_training_nodes_is_warned_of(csbm):
    train = (csbm.y != 2).nonzero().view(-1)[:20]
    rest = (csbm.y == 2).nonzero().view(-1)
    with pytest.warns(UserWarning, match=r"no training node of class\(es\) \[2\]"):
        NodeTask(csbm, train, rest[:10], rest[10:20])


def test_too_few_test_nodes_to_hold_out_are_named(triangle_plus_one):
    with pytest.raises(GkdError, match="rate 0.2 of 2 test nodes rounds down to 0"):
        NodeTask(triangle_plus_one, torch.tensor([0]), torch.tensor([1]), torch.tensor([2, 3]),
                 setting="inductive")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
@pytest.mark.parametrize("setting", ["transductive", "inductive"])
def test_a_task_on_the_gpu_keeps_its_tensors_there_and_its_fingerprint(csbm, setting):
    on_cpu = make_node_task(csbm, "cpf", setting=setting, seed=0)
    task = make_node_task(csbm.to("cuda"), "cpf", setting=setting, seed=0)
    assert task.fingerprint() == on_cpu.fingerprint()
    tensors = [task.train_idx, task.val_idx, task.test_idx, task.observed_nodes,
               task.train_mask, task.graph.x, task.graph.edge_index]
    assert all(tensor.is_cuda for tensor in tensors)
    assert torch.equal(task.train_mask.cpu(), on_cpu.train_mask)


def test_ogbn_datasets_default_to_their_official_split():
    from gkd.data.tasks import default_protocol

    assert default_protocol("ogbn-arxiv") == default_protocol("OGBN-Products") == "ogb"
    assert default_protocol("cora") == default_protocol("synthetic:cora") == "cpf"


def test_split_indices_may_be_lists_or_numpy_arrays(triangle_plus_one):
    import numpy as np

    task = NodeTask(triangle_plus_one, [0], np.array([1]), torch.tensor([2]))
    assert [t.tolist() for t in (task.train_idx, task.val_idx, task.test_idx)] == [[0], [1], [2]]


def test_split_arguments_are_checked_and_numpy_seeds_accepted(csbm):
    import numpy as np

    assert make_node_task(csbm, "random", seed=np.int64(1)).seed == 1
    for fractions in ((0.6, 0.2, 0.2), 0.5):
        with pytest.raises(GkdError, match="fractions are the \\(train, val\\) shares"):
            make_node_task(csbm, "random", fractions=fractions)
    for count in (-5, 2.5):
        with pytest.raises(GkdError, match="num_train_per_class must be an integer of at least 0"):
            make_node_task(csbm, "cpf", train_per_class=count)
    index = torch.arange(600)
    for seed in (-1, 1.5):
        with pytest.raises(GkdError, match=r"split seed must be an integer in \[0, 2\*\*32\)"):
            NodeTask(csbm, index[:100], index[100:200], index[200:], setting="inductive",
                     seed=seed)


def _planetoid_like():
    """Eight nodes: train 0-1, val 2-3, test 4-5, unlabelled 6, a placeholder 7."""
    data = Data(x=torch.arange(1.0, 17.0).view(8, 2), y=torch.tensor([0, 1] * 4),
                edge_index=torch.tensor([[0, 4, 1, 5, 2, 6], [4, 0, 5, 1, 6, 2]]))
    for name, nodes in (("train_mask", [0, 1]), ("val_mask", [2, 3]), ("test_mask", [4, 5]),
                        ("placeholder_mask", [7])):
        data[name] = torch.zeros(8, dtype=torch.bool)
        data[name][nodes] = True
    return data


def test_krd_protocol_on_planetoid_holds_out_the_whole_test_set():
    from gkd.evaluation import headline_metric

    data = _planetoid_like()
    task = make_node_task(data, "krd")
    assert task.test_idx.tolist() == [4, 5]  # the public split
    torch.testing.assert_close(task.graph.x.sum(1), torch.ones(8))  # row-normalised
    assert data.x[0].tolist() == [1.0, 2.0]  # the caller's graph is left alone
    inductive = make_node_task(data, "krd", setting="inductive")
    assert inductive.test_ind_idx.tolist() == [4, 5]
    assert inductive.observed_nodes[inductive.test_idx].tolist() == [6]  # no placeholder
    assert inductive.info["split_rate"] == 2 / 3  # held-out share of the test nodes
    assert headline_metric("krd", "inductive") == "test_ind"
    assert headline_metric("cpf", "inductive") == "test_prod"


def test_krd_protocol_without_masks_is_cpf_with_a_tenth_held_out(csbm):
    krd = make_node_task(csbm, "krd", setting="inductive", seed=1)
    cpf = make_node_task(csbm, "cpf", setting="inductive", seed=1, split_rate=0.1)
    assert krd.fingerprint() == cpf.fingerprint() and krd.info["split_rate"] == 0.1


@pytest.mark.parametrize("protocol, setting, options, unused", [
    ("cpf", "transductive", {"split_rate": 0.3}, "split_rate"),
    ("random", "inductive", {"train_per_class": 5}, "train_per_class / val_per_class"),
    ("cpf", "inductive", {"fractions": (0.5, 0.2)}, "fractions"),
])
def test_split_arguments_the_protocol_ignores_are_refused(csbm, protocol, setting, options,
                                                          unused):
    with pytest.raises(GkdError, match=f"the {protocol} protocol \\({setting}\\) does not "
                                       f"use {unused}"):
        make_node_task(csbm, protocol, setting=setting, **options)


def test_krd_on_a_graph_with_masks_refuses_a_hold_out_share():
    data = _planetoid_like()
    with pytest.raises(GkdError, match="the krd protocol \\(inductive\\) does not use "
                                       "split_rate"):
        make_node_task(data, "krd", setting="inductive", split_rate=0.3)


def test_a_given_hold_out_must_be_test_nodes_of_an_inductive_task():
    data = _planetoid_like()
    index = [torch.tensor(n) for n in ([0, 1], [2, 3], [4, 5, 6])]
    with pytest.raises(GkdError, match="transductive setting holds no node out"):
        NodeTask(data, *index, held_out=torch.tensor([4]))
    with pytest.raises(GkdError, match="held_out must be test nodes"):
        NodeTask(data, *index, setting="inductive", held_out=torch.tensor([3]))
    with pytest.raises(GkdError, match=r"takes every test node: no transductive test node"):
        NodeTask(data, *index, setting="inductive", held_out=index[2])


def test_the_krd_protocol_leaves_ogb_datasets_to_the_ogb_protocol():
    from gkd.data.tasks import dataset_for_protocol

    with pytest.raises(GkdError, match="use 'ogb' for 'ogbn-arxiv'"):
        dataset_for_protocol("ogbn-arxiv", "krd")
    assert dataset_for_protocol("Cora", "krd") == "cora"  # Planetoid, not the CPF copy


def test_edge_attributes_are_named_as_ignored(triangle_plus_one):
    triangle_plus_one.edge_weight = torch.rand(triangle_plus_one.num_edges)
    with pytest.warns(UserWarning, match="keeps only edge_index: edge_weight ignored"):
        NodeTask(triangle_plus_one, torch.tensor([0]), torch.tensor([1]), torch.tensor([2]))


def test_int32_edges_of_a_large_graph_are_checked_in_64_bits():
    # Pair keys u * N + v of 70,000 nodes overflow 32 bits.
    n = 70_000
    edges = torch.tensor([[61_357, 0, 0, 22_704], [0, 61_357, 22_704, 0]], dtype=torch.int32)
    data = Data(x=torch.zeros(n, 1), y=torch.arange(n) % 2, edge_index=edges)
    task = NodeTask(data, torch.tensor([0]), torch.tensor([1]), torch.tensor([2]))
    assert task.graph.num_edges == 4


@pytest.mark.parametrize("change, message", [
    (lambda d: setattr(d, "val_mask", d.val_mask.nonzero().view(-1)),
     r"val_mask must be a boolean mask of shape \[6\] .*got torch.int64 of shape \(2,\)"),
    (lambda d: setattr(d, "test_mask", d.test_mask[:5]), r"got torch.bool of shape \(5,\)"),
    (lambda d: delattr(d, "val_mask"), "the graph has no val_mask"),
])
def test_official_masks_are_checked(change, message):
    data = Data(x=torch.randn(6, 2), y=torch.tensor([0, 1, 0, 1, 0, 1]),
                edge_index=torch.tensor([[0, 1], [1, 0]]))
    for name, nodes in (("train_mask", [0, 1]), ("val_mask", [2, 3]), ("test_mask", [4, 5])):
        data[name] = torch.zeros(6, dtype=torch.bool)
        data[name][nodes] = True
    change(data)
    with pytest.raises(GkdError, match=message):
        make_node_task(data, "public")


def test_uint8_official_masks_give_the_boolean_split():
    data = Data(x=torch.randn(6, 2), y=torch.tensor([0, 1, 0, 1, 0, 1]),
                edge_index=torch.tensor([[0, 1], [1, 0]]))
    for name, nodes in (("train_mask", [0, 1]), ("val_mask", [2, 3]), ("test_mask", [4, 5])):
        data[name] = torch.zeros(6, dtype=torch.uint8)
        data[name][nodes] = 1
    task = make_node_task(data, "public")
    assert task.train_idx.tolist() == [0, 1] and task.test_idx.tolist() == [4, 5]


def test_pyg_masks_and_ogb_labels_give_the_task_of_their_indices(csbm):
    perm = torch.randperm(csbm.num_nodes, generator=torch.Generator().manual_seed(0))
    splits = perm[:20].sort().values, perm[20:40].sort().values, perm[40:].sort().values
    masks = [torch.zeros(csbm.num_nodes, dtype=torch.bool).index_fill_(0, idx, True)
             for idx in splits]
    by_index = NodeTask(csbm, *splits)
    ogb = csbm.clone()
    ogb.y = ogb.y.view(-1, 1)
    by_mask = NodeTask(ogb, *masks)
    assert by_mask.fingerprint() == by_index.fingerprint()
    assert torch.equal(by_mask.train_idx, splits[0])
    assert ogb.y.shape == (csbm.num_nodes, 1)  # the caller's graph is left as it was


def test_unlabelled_nodes_may_lie_outside_the_splits_only(triangle_plus_one):
    triangle_plus_one.y = torch.tensor([0, 1, 1, -1])
    task = NodeTask(triangle_plus_one, torch.tensor([0]), torch.tensor([1]), torch.tensor([2]))
    assert task.num_classes == 2
    with pytest.raises(GkdError, match="on the split nodes; 1 of them have a negative label"):
        NodeTask(triangle_plus_one, torch.tensor([0]), torch.tensor([1]), torch.tensor([3]))


def test_a_single_class_is_refused(triangle_plus_one):
    triangle_plus_one.y = torch.zeros(4, dtype=torch.long)
    with pytest.raises(GkdError, match="the labels hold a single class"):
        NodeTask(triangle_plus_one, torch.tensor([0]), torch.tensor([1]), torch.tensor([2]))
