import math
import re

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from gkd.errors import GkdError
from gkd.nn import GraphTokenizer
from gkd.ops import adjacency
from gkd.teachers import TEACHERS
from gkd.tokenizer import TOKENIZER_DEFAULTS, build_tokenizer, tokenizer_config


def _graph(n=30, f=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    src, dst = torch.randint(n, (2, 90), generator=g)
    keep = src != dst
    edge_index = to_undirected(torch.stack([src[keep], dst[keep]]), num_nodes=n)
    return Data(x=torch.randn(n, f, generator=g), edge_index=edge_index)


def _tokenizer(teacher="sage", **options):
    config = tokenizer_config(teacher, overrides={"hidden_channels": 16, "num_codes": 8,
                                                  "code_dim": 4, **options})
    return build_tokenizer(teacher, 8, 3, config)


@pytest.mark.parametrize("name", TEACHERS)
def test_every_teacher_kind_builds_a_tokenizer(name):
    data = _graph()
    model = _tokenizer(name)
    assert isinstance(model, GraphTokenizer)
    out = model.encode(data.x, adjacency(data.edge_index, data.num_nodes))
    assert out.logits.shape == (30, 3) and out.embedding.shape == (30, 4)
    assert out.vq.scores.shape == (30, 8) and out.vq.indices.shape == (30,)


def test_gradients_reach_the_encoder_through_the_quantiser():
    data = _graph()
    model = _tokenizer(kmeans_init=False)
    out = model.encode(data.x, data.edge_index)
    out.logits.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.encoder.parameters())


def test_a_graph_without_edges_trains_a_tokenizer_without_the_edge_term(csbm):
    from gkd.data import make_node_task
    from gkd.tokenizer import train_tokenizer

    edgeless = csbm.clone()
    edgeless.edge_index = torch.empty(2, 0, dtype=torch.long)
    task = make_node_task(edgeless, "random", seed=0)  # cpf would keep the largest component
    config = tokenizer_config("sage", overrides={"hidden_channels": 16, "num_codes": 8,
                                                 "code_dim": 4, "max_epochs": 2})
    model = build_tokenizer("sage", task.num_features, task.num_classes, config)
    assert train_tokenizer(model, task, config).epochs == 2  # the edge BCE of no pair: NaN


def test_edge_loss_is_the_bce_of_decoded_inner_products():
    model = _tokenizer(similarity="euclidean", kmeans_init=False, dropout=0.0).eval()
    with torch.no_grad():
        model.edge_decoder.weight.copy_(torch.eye(4))
        model.edge_decoder.bias.zero_()
        model.quantizer.set_codebook(torch.tensor([[1.0, 0, 0, 0], [0, 2.0, 0, 0],
                                                   [0, 0, 1.0, 1.0], [-1.0, 0, 0, 0],
                                                   *[[9.0, 9, 9, 9]] * 4]))
    data = _graph()
    with torch.no_grad():
        out = model.encode(data.x, data.edge_index)
    q = out.vq.quantized
    edges, non_edges = torch.tensor([[0, 1], [2, 3]]), torch.tensor([[4], [5]])
    scores = [float(q[0] @ q[2]), float(q[1] @ q[3]), float(q[4] @ q[5])]
    expected = (math.log1p(math.exp(-scores[0])) + math.log1p(math.exp(-scores[1]))
                + math.log1p(math.exp(scores[2]))) / 3
    assert model.edge_loss(out, edges, non_edges).item() == pytest.approx(expected, rel=1e-5)
    decoded = model.feature_decoder(q)
    assert model.feature_loss(out, data.x).item() == pytest.approx(
        (decoded - data.x).pow(2).mean().item(), rel=1e-6)


@pytest.mark.parametrize("options, message", [
    ({"similarity": "dot"}, "similarity must be one of euclidean, cosine"),
    ({"num_codes": 0}, "teacher sage option num_codes must be at least 1; got 0"),
    ({"edge_weight": -1.0}, "teacher sage option edge_weight must be non-negative; got -1.0"),
    ({"decay": 1.0}, "teacher sage option decay must be in [0, 1); got 1.0"),
    ({"batch_size": 64, "fanouts": [5, 5]}, "trains full-batch"),
    ({"codes": 8}, "unknown teacher sage option(s) codes"),
])
def test_tokenizer_options_are_checked(options, message):
    with pytest.raises(GkdError, match=re.escape(message)):
        tokenizer_config("sage", overrides=options)


def test_tokenizer_config_adds_its_options_to_the_teachers():
    config = tokenizer_config("gcn", "cora", {"num_codes": 64})
    assert config["num_codes"] == 64 and config["hidden_channels"] == 64  # gcn's default
    assert set(TOKENIZER_DEFAULTS) <= set(config)


def test_tokenizer_dataset_defaults_yield_to_overrides():
    default = TOKENIZER_DEFAULTS["feature_weight"]
    assert default > 0 and tokenizer_config("sage", "cora")["feature_weight"] == default
    assert tokenizer_config("sage", "a-computer")["feature_weight"] == 0.0
    assert tokenizer_config("sage", "a-photo")["feature_weight"] == 0.0
    assert tokenizer_config("sage", "a-computer", {"feature_weight": 1.0})["feature_weight"] == 1.0
