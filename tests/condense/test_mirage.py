import pytest
import torch
from torch_geometric.data import Batch

from gkd.condense import (
    ComputationTrees,
    EvalBatches,
    Mirage,
    StorageCount,
    random_subset,
    run_condensation,
    storage_bytes,
    summarize_condensation,
)
from gkd.condense.training import build_graph_model, graph_model_config, train_config
from gkd.errors import GkdError

HOPS = 2


@pytest.mark.parametrize("conv, pool", [("gin", "sum"), ("gin", "mean"), ("gat", "sum")])
def test_a_gnn_computes_the_same_root_outputs_on_tree_dags_as_on_real_graphs(
        tiny_task, conv, pool):
    trees = ComputationTrees(tiny_task, HOPS)
    model = build_graph_model(conv, tiny_task, HOPS, graph_model_config({"pool": pool})).eval()
    train = Batch.from_data_list(tiny_task.graphs("train"))
    codes = torch.from_numpy(trees.codes[-1])
    generator = torch.Generator().manual_seed(0)
    for size in (1, 2, 4):
        items = codes.unique()[torch.randperm(codes.unique().numel(), generator=generator)[:size]]
        graph = trees.materialise(tuple(items.tolist()), 0)
        # one real node per tree, pooled as a single graph
        mask = torch.zeros(train.num_nodes, dtype=torch.bool)
        for code in items:
            mask[(codes == code).nonzero()[0]] = True
        with torch.no_grad():
            real = model(train.x, train.edge_index, torch.zeros_like(train.batch),
                         train.edge_attr, root_mask=mask, num_graphs=1)
            dag = model(graph.x, graph.edge_index, torch.zeros(graph.num_nodes, dtype=torch.long),
                        graph.edge_attr, root_mask=graph.root_mask, num_graphs=1)
        assert torch.allclose(real, dag, atol=1e-5)
        assert graph.num_nodes < size * (1 + 4 + 16)  # shared subtrees are stored once


def test_distilled_set_is_small_and_counted(tiny_task):
    distilled = Mirage(HOPS, 0.3, itemsets="closed").condense(tiny_task)
    every = Mirage(HOPS, 0.3, itemsets="all").condense(tiny_task)
    assert 0 < len(distilled.graphs) <= len(every.graphs)
    assert distilled.num_bytes == storage_bytes(distilled.graphs) > 0
    assert distilled.info["min_support"] == {"0": 6, "1": 6}  # ceil(0.3 * 18) per class
    assert {int(g.y) for g in distilled.graphs} == {0, 1}
    for graph in distilled.graphs:  # roots first, edges point child -> parent
        roots = int(graph.root_mask.sum())
        assert graph.root_mask[:roots].all() and not graph.root_mask[roots:].any()
        assert not graph.root_mask[graph.edge_index[0]].any()


def test_random_subset_fits_the_budget(tiny_task):
    subset = random_subset(tiny_task, 500, seed=1)
    assert subset.num_bytes <= 500
    more = tiny_task.graphs(tiny_task.index["train"])
    assert len(subset.graphs) < len(more)
    assert abs(subset.info["per_class"][0] - subset.info["per_class"][1]) <= 1
    with pytest.raises(GkdError, match="no training graph fits"):
        random_subset(tiny_task, 10)
    one_graph = min(random_subset(tiny_task, 500, seed=1).graphs, key=lambda g: g.num_nodes)
    with pytest.raises(GkdError, match=r"holds no training graph of class\(es\) [01]; raise it"):
        random_subset(tiny_task, StorageCount().added(one_graph).bytes, seed=1)


def test_a_gnn_trained_on_a_tiny_distilled_set_runs_end_to_end(tiny_task):
    config = {"model": graph_model_config({"hidden_channels": 16}),
              "train": train_config({"max_epochs": 3, "patience": 3}),
              "condenser": {"itemsets": "closed", "exclusive": False, "max_itemsets": 1000}}
    evaluation = EvalBatches(tiny_task)
    runs = [run_condensation(tiny_task, "mirage", "gin", HOPS, seed, supports=(0.3, 0.5),
                             config=config, evaluation=evaluation, full=True)
            for seed in range(2)]
    runs.append(run_condensation(tiny_task, "random", "gcn", HOPS, 0, supports=(), config=config,
                                 evaluation=evaluation, budget=2000))
    for run in runs:
        assert 0 <= run["condensed"]["test"] <= 100
        assert run["cost"]["distilled_bytes"] > 0
    assert len(runs[0]["distill"]["selection"]) == 2
    summary = summarize_condensation(runs[:2])
    assert set(summary) == {"condensed", "full", "distill_seconds", "distilled_bytes"}
    assert summary["condensed"]["test"]["std"] is not None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_condensation_trains_and_scores_on_the_evaluation_device(tiny_task):
    config = {"model": graph_model_config({"hidden_channels": 16}),
              "train": train_config({"max_epochs": 3, "patience": 3}),
              "condenser": {"itemsets": "closed", "exclusive": False, "max_itemsets": 1000}}
    runs = {device: run_condensation(tiny_task, "mirage", "gin", HOPS, 0, supports=(0.3,),
                                     config=config, evaluation=EvalBatches(tiny_task,
                                                                           device=device))
            for device in ("cpu", "cuda")}
    assert runs["cuda"]["distill"]["graphs"] == runs["cpu"]["distill"]["graphs"]
    assert 0 <= runs["cuda"]["condensed"]["test"] <= 100
    assert all(batch.x.is_cuda for batch in EvalBatches(tiny_task, device="cuda").batches["val"])


def test_bad_options_are_errors(tiny_task):
    with pytest.raises(GkdError, match="min_support"):
        Mirage(2, 0.0)
    with pytest.raises(GkdError, match="min_support .* got 0.1"):
        Mirage(2, "0.1")
    with pytest.raises(GkdError, match="num_hops must be an integer of at least 1; got 2.5"):
        Mirage(2.5, 0.3)
    with pytest.raises(GkdError, match="max_itemsets must be an integer of at least 1; got 0"):
        Mirage(2, 0.3, max_itemsets=0)
    with pytest.raises(GkdError, match="depth 2"):
        Mirage(3, 0.3).condense(tiny_task, ComputationTrees(tiny_task, 2))


def test_too_many_itemsets_name_the_class_and_its_support(tiny_task):
    with pytest.raises(GkdError, match=r"class 0, 18 training graphs, min_support 0.3 \(at "
                                       r"least 6 graphs\): more than 1 closed itemsets"):
        Mirage(HOPS, 0.3, max_itemsets=1).condense(tiny_task)


def test_training_without_graphs_or_with_empty_batches_is_named(tiny_task):
    from gkd.condense import train_on_graphs

    with pytest.raises(GkdError, match="batch_size must be an integer of at least 1; got 0"):
        EvalBatches(tiny_task, 0)
    model = build_graph_model("gin", tiny_task, HOPS, graph_model_config())
    with pytest.raises(GkdError, match="at least one training graph"):
        train_on_graphs(model, [], EvalBatches(tiny_task), train_config())


def test_trees_of_another_split_are_refused(tiny_task):
    # another split's training graphs would include this task's test graphs
    from gkd.data.graphsets import GraphSetTask

    index = tiny_task.index
    other = GraphSetTask(tiny_task.dataset, index["test"], index["val"], index["train"])
    with pytest.raises(GkdError, match="built from another task or split"):
        Mirage(2, 0.3).condense(tiny_task, ComputationTrees(other, 2))


def test_a_class_whose_graphs_have_no_edges_is_named():
    from torch_geometric.data import Data

    from gkd.data.graphsets import GraphSetTask

    triangle = torch.tensor([[0, 1, 2, 1, 2, 0], [1, 2, 0, 0, 1, 2]])
    graphs = [Data(x=torch.ones(3, 1), y=torch.tensor([i % 2]),
                   edge_index=triangle if i % 2 else torch.empty(2, 0, dtype=torch.long))
              for i in range(8)]
    task = GraphSetTask(graphs, torch.arange(4), torch.arange(4, 6), torch.arange(6, 8))
    with pytest.raises(GkdError, match="class 0's training graphs have no edges"):
        Mirage(2, 0.5).condense(task)


def test_storage_bytes_of_a_hand_made_set():
    from torch_geometric.data import Data

    graphs = [Data(x=torch.tensor([[0.0, 1.0], [1.0, 0.0]]), edge_index=torch.tensor([[0], [1]]),
                   y=torch.tensor([0])),
              Data(x=torch.tensor([[0.0, 1.0]]), edge_index=torch.zeros(2, 0, dtype=torch.long),
                   y=torch.tensor([1]))]
    # 2 distinct rows x 2 one-byte cells + 3 one-byte row indices, 2 one-byte endpoints,
    # per graph one byte each for nodes, edges and class
    assert storage_bytes(graphs) == 4 + 3 + 2 + 2 * 3
    for graph in graphs:
        graph.root_mask = torch.ones(graph.num_nodes, dtype=torch.bool)
    assert storage_bytes(graphs) == 4 + 3 + 2 + 2 * 4


def test_storage_indices_take_one_byte_up_to_256_rows_and_nodes():
    from torch_geometric.data import Data

    def path(num_nodes: int) -> Data:  # distinct feature rows 0..n-1, one edge 0 -> n-1
        return Data(x=torch.arange(num_nodes).view(-1, 1), y=torch.tensor([0]),
                    edge_index=torch.tensor([[0], [num_nodes - 1]]))

    # n rows of cell width w, n row indices of width i, 2 endpoints of width i, and per
    # graph the node count (width c), one edge and the class
    def expected(n: int, w: int, i: int, c: int) -> int:
        return n * w + n * i + 2 * i + c + 1 + 1

    assert storage_bytes([path(256)]) == expected(256, 1, 1, 2)  # ids 0..255 fit a byte
    assert storage_bytes([path(257)]) == expected(257, 2, 2, 2)


def test_an_undirected_graph_stores_each_edge_once():
    from torch_geometric.data import Data

    one_way = Data(x=torch.eye(3), edge_index=torch.tensor([[0, 1], [1, 2]]),
                   edge_attr=torch.tensor([[1.0], [2.0]]), y=torch.tensor([0]))
    both_ways = Data(x=torch.eye(3), edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]),
                     edge_attr=torch.tensor([[1.0], [1.0], [2.0], [2.0]]), y=torch.tensor([0]))
    assert storage_bytes([both_ways]) == storage_bytes([one_way])
    both_ways.edge_attr[1] = 3.0  # the two directions differ: both are stored
    assert storage_bytes([both_ways]) > storage_bytes([one_way])


def test_storage_of_graphs_without_edges_but_with_edge_features():
    from torch_geometric.data import Data

    graph = Data(x=torch.ones(3, 2), edge_index=torch.zeros(2, 0, dtype=torch.long),
                 edge_attr=torch.zeros(0, 3), y=torch.tensor([0]))
    # one distinct row of two cells, three row indices, per graph nodes, edges and class
    assert storage_bytes([graph]) == 2 + 3 + 3


def test_supports_that_drop_a_class_are_skipped_in_selection(tiny_task):
    # only class-1 graphs share their pendant trees in every graph: at support 1.0 class 0
    # has no itemsets
    with pytest.raises(GkdError, match="no frequent itemsets for class"):
        Mirage(HOPS, 1.0).condense(tiny_task)
    config = {"model": graph_model_config({"hidden_channels": 8}),
              "train": train_config({"max_epochs": 1, "patience": 1}),
              "condenser": {"itemsets": "closed", "exclusive": False, "max_itemsets": 1000}}
    run = run_condensation(tiny_task, "mirage", "gin", HOPS, 0, supports=(1.0, 0.3),
                           config=config, evaluation=EvalBatches(tiny_task))
    assert run["distill"]["support"] == 0.3
    assert run["distill"]["selection"][-1]["support"] == 1.0


@pytest.mark.parametrize("supports", [(0.2, 0.5), (0.5, 0.2)])
def test_a_validation_tie_keeps_the_smaller_set_whatever_the_order(tiny_task, monkeypatch,
                                                                   supports):
    import gkd.condense.experiment as experiment

    monkeypatch.setattr(experiment, "_train", lambda *args: ({"val": 50.0, "test": 50.0}, {}))
    config = {"model": graph_model_config(), "train": train_config(),
              "condenser": {"itemsets": "closed", "exclusive": False, "max_itemsets": 1000}}
    run = run_condensation(tiny_task, "mirage", "gin", HOPS, 0, supports=supports,
                           config=config, evaluation=EvalBatches(tiny_task))
    sizes = {c["support"]: c["bytes"] for c in run["distill"]["selection"]}
    assert sizes[0.5] < sizes[0.2] and run["distill"]["support"] == 0.5


def test_the_support_threshold_is_exact_and_bad_options_are_named(tiny_task):
    from gkd.condense.mirage import Mirage, support_threshold

    assert [support_threshold(0.07, n) for n in (100, 101, 200, 5)] == [7, 8, 14, 1]
    assert support_threshold(0.05, 31669) == 1584  # molhiv's class 0
    with pytest.raises(GkdError, match="min_support is a share"):
        Mirage(HOPS, True)
    with pytest.raises(GkdError, match="exclusive takes True or False; got 'no'"):
        Mirage(HOPS, 0.3, exclusive="no")
    with pytest.raises(GkdError, match="at least one support"):
        run_condensation(tiny_task, "mirage", "gin", HOPS, 0, supports=[],
                         config={"model": graph_model_config(), "train": train_config(),
                                 "condenser": {}}, evaluation=EvalBatches(tiny_task))


def test_graph_gnn_names_missing_edge_features_and_bad_sizes():
    from gkd.nn.graph_gnn import GraphGNN

    model = GraphGNN(3, 8, 2, 1, conv="gin", edge_dim=2)
    x, edge_index, batch = torch.randn(3, 3), torch.tensor([[0, 1], [1, 0]]), torch.zeros(3).long()
    with pytest.raises(GkdError, match="built with edge features .* pass edge_attr"):
        model(x, edge_index, batch)
    with pytest.raises(GkdError, match="heads must be an integer of at least 1; got 0"):
        GraphGNN(3, 8, 2, 2, conv="gat", heads=0)
    with pytest.raises(GkdError, match="num_layers must be an integer of at least 1; got 2.5"):
        GraphGNN(3, 8, 2, 2.5)


def test_exclusive_drops_itemsets_frequent_in_another_class():
    from gkd.condense.mirage import _exclusive

    # transactions as bitsets per item; class 0 needs 2 of its graphs, class 1 needs 3
    bitsets = {0: {1: 0b111, 2: 0b011}, 1: {1: 0b1111, 3: 0b0011}}
    mined = {0: [((1,), 3), ((2,), 2), ((1, 2), 2)], 1: [((1,), 4), ((3,), 2)]}
    kept = _exclusive(mined, bitsets, {0: 2, 1: 3})
    # item 1 is in 4 >= 3 graphs of class 1 and in 3 >= 2 of class 0: dropped from both
    assert kept == {0: [((2,), 2), ((1, 2), 2)], 1: [((3,), 2)]}
    # both items are frequent in class 1, but never in the same graph: the pair stays
    pair = {0: [((1, 2), 2)], 1: []}
    assert _exclusive(pair, {0: {1: 0b11, 2: 0b11}, 1: {1: 0b0011, 2: 0b1100}},
                      {0: 2, 1: 2}) == pair


def test_each_distilled_graph_carries_its_itemsets_support(tiny_task):
    distilled = Mirage(HOPS, 0.3).condense(tiny_task)
    train = tiny_task.index["train"]
    for graph in distilled.graphs:
        label = int(graph.y)
        count = int((tiny_task.y[train] == label).sum())
        assert 0.3 * count <= int(graph.support) <= count
