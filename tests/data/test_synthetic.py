import pytest
import torch
from torch_geometric.utils import is_undirected

from gkd.data import load_dataset
from gkd.data.synthetic import SYNTHETIC_PRESETS, synthetic_dataset
from gkd.errors import GkdError


def test_custom_synthetic_graphs_have_the_requested_shape():
    data = load_dataset("synthetic:nodes=2000,degree=10,features=24,classes=5,seed=3")
    assert data.num_nodes == 2000 and data.x.shape == (2000, 24)
    assert set(data.y.tolist()) == set(range(5))
    assert is_undirected(data.edge_index) and not (data.edge_index[0] == data.edge_index[1]).any()
    assert 9.0 < data.num_edges / data.num_nodes <= 10.0  # duplicates merged, self-loops gone
    same = data.y[data.edge_index[0]] == data.y[data.edge_index[1]]
    assert 0.75 < same.float().mean() < 0.9  # homophily 0.8 plus chance matches


def test_synthetic_graphs_are_seeded():
    a, b = synthetic_dataset("nodes=300,degree=4,features=8,classes=3"), \
        synthetic_dataset("synthetic:nodes=300,degree=4,features=8,classes=3")
    assert torch.equal(a.edge_index, b.edge_index) and torch.equal(a.x, b.x)
    c = synthetic_dataset("nodes=300,degree=4,features=8,classes=3,seed=1")
    assert not torch.equal(a.x, c.x)


def test_presets_cover_cora_to_products_size():
    assert SYNTHETIC_PRESETS["cora"]["nodes"] == 2708
    assert SYNTHETIC_PRESETS["products"]["nodes"] == 2_449_029
    data = synthetic_dataset("cora")
    assert data.x.shape == (2708, 1433) and int(data.y.max()) == 6


@pytest.mark.parametrize("spec, message", [
    ("synthetic:huge", "unknown synthetic dataset"),
    ("synthetic:nodes=10,degree=2", "lacks features, classes"),
    ("synthetic:nodes=ten,degree=2,features=3,classes=2", "nodes must be a number"),
    ("synthetic:nodes=300,degree=inf,features=3,classes=2", "degree must be finite, got inf"),
    ("synthetic:nodes=2.9,degree=2,features=3,classes=2", "nodes must be a whole number"),
    ("synthetic:nodes=30,degree=2,features=3,classes=2,seed=1.7", "seed must be a whole"),
    ("synthetic:nodes=30,degree=2,features=3,classes=2,homophily=nan", "homophily must be "
                                                                        "finite"),
    ("synthetic:nodes=30,degree=2,features=3,classes=2,homophily=2", r"homophily in \[0, 1\]"),
    ("synthetic:nodes=30,degree=2,features=3,classes=2,seed=-1", "non-negative seed"),
    ("synthetic:nodes=1,degree=2,features=3,classes=2", "at least 2 nodes"),
    ("synthetic:nodes=10,degree=2,features=3,classes=2,seed=1e20",
     r"seed must be below 2\*\*63, got 1e\+20"),
    ("synthetic:nodes=1e30,degree=2,features=3,classes=2", r"nodes must be below 2\*\*63"),
    ("synthetic:nodes=100,degree=1e18,features=1,classes=2",
     r"an average degree of 1e\+18 needs more than 100 nodes"),
])
def test_bad_synthetic_specs_are_named(spec, message):
    with pytest.raises(GkdError, match=message):
        load_dataset(spec)
