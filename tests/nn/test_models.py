import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from gkd.errors import GkdError
from gkd.nn import APPNP, GAT, MLP
from gkd.ops import adjacency
from gkd.teachers import TEACHERS, build_teacher, teacher_config


def _graph(n=30, f=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(n, (90,), generator=g)
    dst = torch.randint(n, (90,), generator=g)
    keep = src != dst
    edge_index = to_undirected(torch.stack([src[keep], dst[keep]]), num_nodes=n)  # coalesced
    return Data(x=torch.randn(n, f, generator=g), edge_index=edge_index)


def test_mlp_shapes_hidden_and_norm():
    mlp = MLP(8, 16, 3, num_layers=3, dropout=0.5)
    out, hidden = mlp(torch.randn(5, 8), return_hidden=True)
    assert out.shape == (5, 3) and [h.shape for h in hidden] == [(5, 16), (5, 16)]
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in mlp.modules())
    assert repr(mlp) == "MLP(8, 16, 3, num_layers=3)"
    normed = MLP(8, 16, 3, norm="batch_norm")
    assert any("BatchNorm" in type(m).__name__ for m in normed.modules())
    with pytest.raises(ValueError, match="num_layers"):
        MLP(8, 16, 3, num_layers=0)


@pytest.mark.parametrize("options, message", [
    ({"hidden_channels": 0}, "MLP hidden_channels must be an integer of at least 1; got 0"),
    ({"in_channels": 8.0}, "MLP in_channels must be an integer of at least 1; got 8.0"),
    ({"dropout": 1.5}, r"MLP dropout must be in \[0, 1\); got 1.5"),
    ({"norm": "batch"}, "MLP norm must be one of null"),
])
def test_mlp_names_bad_sizes_and_options(options, message):
    with pytest.raises(GkdError, match=message):
        MLP(**{"in_channels": 8, "hidden_channels": 16, "out_channels": 3, **options})


def test_a_layer_norm_mlp_keeps_each_nodes_output_to_itself():
    mlp = MLP(8, 16, 3, norm="layer_norm").eval()
    x = torch.randn(10, 8)
    assert torch.allclose(mlp(x)[:1], mlp(x[:1]), atol=1e-6)


def test_gat_attention_dropout_is_separate():
    gat = GAT(8, 16, 2, 3, heads=4, dropout=0.6, attn_dropout=0.3)
    assert gat.dropout.p == 0.6
    assert [conv.dropout for conv in gat.convs] == [0.3, 0.3]
    assert [conv.dropout for conv in GAT(8, 16, 2, 3, dropout=0.6).convs] == [0.6, 0.6]


def test_gat_can_have_one_output_head_and_input_dropout_as_the_original():
    x, edge_index = torch.randn(6, 8), torch.tensor([[0, 1, 2], [1, 2, 0]])
    gat = GAT(8, 16, 2, 3, heads=4, out_heads=1, input_dropout=0.5)
    assert [(conv.heads, conv.concat) for conv in gat.convs] == [(4, True), (1, False)]
    assert [conv.heads for conv in GAT(8, 16, 2, 3, heads=4).convs] == [4, 4]  # PyG's
    gat.train()
    assert not torch.equal(gat(x, edge_index), gat(x, edge_index))  # only the input drops
    gat.eval()
    assert torch.equal(gat(x, edge_index), gat(x, edge_index))
    gat.input_dropout = 0.0
    gat.train()
    assert torch.equal(gat(x, edge_index), gat(x, edge_index))


def test_gat_names_a_width_its_heads_do_not_divide():
    with pytest.raises(GkdError, match="hidden_channels 10 .* not divisible by heads 4"):
        GAT(8, 10, 2, 3, heads=4)
    assert GAT(8, 10, 2, 3, heads=4, concat=False).convs[0].out_channels == 10


@pytest.mark.parametrize("name", TEACHERS)
def test_teachers_agree_on_edge_index_and_sparse_adjacency(name):
    data = _graph()
    model = build_teacher(name, 8, 3, teacher_config(name))
    model.eval()
    dense = model(data.x, data.edge_index)
    sparse = model(data.x, adjacency(data.edge_index, data.num_nodes))
    assert dense.shape == (30, 3)
    assert torch.allclose(dense, sparse, atol=1e-5)


@pytest.mark.parametrize("name", TEACHERS)
def test_teachers_train_on_sparse_adjacency(name):
    data = _graph()
    model = build_teacher(name, 8, 3, teacher_config(name))
    model.train()
    out = model(data.x, adjacency(data.edge_index, data.num_nodes))
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_appnp_matches_pyg_propagation_in_eval():
    from torch_geometric.nn.conv import APPNP as PyGAPPNP

    data = _graph()
    model = APPNP(8, 16, 2, 3, K=5, alpha=0.2, edge_dropout=0.5)
    model.eval()
    expected = PyGAPPNP(5, 0.2)(model.mlp(data.x), data.edge_index)
    assert torch.allclose(model(data.x, data.edge_index), expected, atol=1e-6)
    assert torch.allclose(model(data.x, adjacency(data.edge_index, 30)), expected, atol=1e-6)
    out = model.double()(data.x.double(), data.edge_index)
    assert out.dtype == torch.float64 and torch.allclose(out.float(), expected, atol=1e-5)


def test_appnp_edge_dropout_does_not_compound():
    """Each step drops from the original weights, so the expectation over masks stays at
    the eval output (PyG's layer compounds the dropout and diverges)."""
    data = _graph()
    model = APPNP(8, 16, 2, 3, K=10, alpha=0.1, edge_dropout=0.5)
    model.eval()
    expected = model(data.x, data.edge_index)
    model.train()
    model.mlp.eval()  # no feature dropout: only the edges are random
    draws = torch.stack([model(data.x, data.edge_index) for _ in range(400)])
    assert (draws.mean(0) - expected).abs().mean() < 0.05 * expected.abs().mean()


def test_teacher_config_overrides_are_checked():
    from gkd.errors import GkdError

    assert teacher_config("gcn", overrides={"hidden_channels": 32})["hidden_channels"] == 32
    with pytest.raises(GkdError, match="unknown teacher gcn option"):
        teacher_config("gcn", overrides={"heads": 2})
    with pytest.raises(GkdError, match="takes an integer"):
        teacher_config("gcn", overrides={"num_layers": 2.5})
    with pytest.raises(GkdError, match="unknown teacher 'gine'"):
        teacher_config("gine")
    with pytest.raises(GkdError, match="aggr do not apply to teacher gcn"):
        build_teacher("gcn", 8, 3, teacher_config("sage"))
    with pytest.raises(GkdError, match="the teacher sage configuration lacks num_layers"):
        build_teacher("sage", 8, 3, {"hidden_channels": 16})


def test_teacher_training_names_a_partial_configuration(csbm):
    from gkd.data import make_node_task
    from gkd.teachers import train_teacher

    task = make_node_task(csbm, "cpf", seed=0)
    model = build_teacher("gcn", task.num_features, task.num_classes, teacher_config("gcn"))
    with pytest.raises(GkdError, match="teacher training configuration lacks patience, "
                                       "batch_size, fanouts;"):
        train_teacher(model, task, {"lr": 0.01, "weight_decay": 0.0, "max_epochs": 5})
    training = {"lr": 0.01, "weight_decay": 0.0, "max_epochs": 2, "patience": 2,
                "batch_size": None, "fanouts": None}
    train_teacher(model, task, training)  # full-batch training needs no num_layers
    with pytest.raises(GkdError, match="sampled teacher training configuration lacks num_lay"):
        train_teacher(model, task, {**training, "batch_size": 8, "fanouts": [2, 2]})


@pytest.mark.parametrize("sparse", [False, True])
def test_sage_gcn_aggregator_matches_hand_computation(sparse):
    """GLNN's SAGE on the path 0-1-2: W (sum of neighbours + 2 h_v) / (deg + 2), W = 1."""
    from gkd.nn import SAGE

    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    x = torch.tensor([[1.0], [2.0], [4.0]])
    model = SAGE(1, 1, 1, aggr="gcn")
    torch.nn.init.ones_(model.convs[0].lin.weight)
    torch.nn.init.zeros_(model.convs[0].lin.bias)
    graph = adjacency(edge_index, 3) if sparse else edge_index
    expected = torch.tensor([(2 + 2 * 1) / 3, (1 + 4 + 2 * 2) / 4, (2 + 2 * 4) / 3])
    assert torch.allclose(model(x, graph).view(-1), expected)
    assert not hasattr(model.convs[0], "lin_r")  # no separate root weight


def test_sage_gcn_aggregator_refuses_layer_options_it_would_ignore():
    from gkd.nn import SAGE

    with pytest.raises(GkdError, match="aggr='gcn' builds GCNAggregatorConv layers.*bias"):
        SAGE(4, 8, 2, 3, aggr="gcn", bias=False)


def test_input_cache_recomputes_on_new_or_modified_input():
    from gkd.nn.sage import GCNAggregatorConv

    data = _graph()
    conv = GCNAggregatorConv(8, 4)
    conv.set_input_cache(True)
    x = data.x.clone()
    first = conv(x, data.edge_index)
    assert torch.equal(conv(x, data.edge_index), first)
    x.mul_(2)  # in place: the cached aggregation is stale
    torch.testing.assert_close(conv(x, data.edge_index) - conv.lin.bias,
                               2 * (first - conv.lin.bias))
    conv.set_input_cache(False)
    assert conv._cache is None


def test_teacher_training_with_the_input_cache_is_bit_identical(csbm, monkeypatch):
    from gkd.data import make_node_task
    from gkd.nn.sage import GCNAggregatorConv
    from gkd.teachers import train_teacher

    task = make_node_task(csbm, "cpf", seed=0)
    config = teacher_config("sage", overrides={"max_epochs": 25})
    states = []
    for cached in (True, False):
        if not cached:
            monkeypatch.setattr(GCNAggregatorConv, "set_input_cache", lambda self, on: None)
        torch.manual_seed(0)
        model = build_teacher("sage", task.num_features, task.num_classes, config)
        train_teacher(model, task, config)
        states.append(model.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


@pytest.mark.parametrize("conv", ["gin", "gat"])
def test_graph_gnn_reads_a_one_dimensional_edge_feature_as_one_column(conv):
    from gkd.nn.graph_gnn import GraphGNN

    graph = _graph()
    weight = torch.rand(graph.edge_index.size(1))
    model = GraphGNN(8, 16, 2, num_layers=2, conv=conv, edge_dim=1).eval()
    batch = torch.zeros(graph.num_nodes, dtype=torch.long)
    out = model(graph.x, graph.edge_index, batch, weight)
    assert torch.equal(out, model(graph.x, graph.edge_index, batch, weight.view(-1, 1)))


@pytest.mark.parametrize("conv", ["gin", "gat"])
def test_graph_gnn_takes_one_dimensional_edge_features_of_no_edges(conv):
    from gkd.nn.graph_gnn import GraphGNN

    model = GraphGNN(3, 8, 2, 1, conv=conv, edge_dim=1).eval()
    x, batch = torch.randn(3, 3), torch.zeros(3, dtype=torch.long)
    out = model(x, torch.empty(2, 0, dtype=torch.long), batch, torch.empty(0))
    assert out.shape == (1, 2) and torch.isfinite(out).all()


def test_graph_gnn_refuses_an_integer_root_mask():
    from gkd.nn.graph_gnn import GraphGNN

    model = GraphGNN(3, 8, 2, num_layers=1)
    x, edge_index = torch.randn(5, 3), torch.tensor([[0, 1, 3, 4], [1, 0, 4, 3]])
    batch = torch.tensor([0, 0, 0, 1, 1])
    with pytest.raises(GkdError, match="root_mask must be a boolean vector of the 5 nodes"):
        model(x, edge_index, batch, root_mask=torch.tensor([1, 0, 0, 1, 0]))
    assert model(x, edge_index, batch,
                 root_mask=torch.tensor([True, False, False, True, False])).shape == (2, 2)
    # the last graph has no root: it is still a row of the output
    assert model(x, edge_index, batch,
                 root_mask=torch.tensor([True, False, False, False, False])).shape == (2, 2)


def test_max_and_min_aggregation_are_refused_off_the_cpu():
    from gkd.teachers import check_aggregation_device, teacher_config

    config = teacher_config("sage", overrides={"aggr": "max"})
    check_aggregation_device(config, torch.device("cpu"))
    with pytest.raises(GkdError, match="aggr=max needs the CPU"):
        check_aggregation_device(config, torch.device("meta"))  # stands in for a GPU
    check_aggregation_device(teacher_config("sage"), torch.device("meta"))  # gcn is fine
