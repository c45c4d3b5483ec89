import os
from pathlib import Path

import pytest
import torch

from gkd.data import make_node_task
from gkd.data.synthetic import contextual_sbm
from gkd.evaluation import HEADLINE_METRIC
from gkd.experiment import run_node_distillation

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
DATA_ROOT = Path(os.environ.get("GKD_DATA_ROOT") or SHARED)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own cache dir; none writes to the user's."""
    monkeypatch.setenv("GKD_CACHE_DIR", str(tmp_path / "cache"))
    torch.manual_seed(0)


@pytest.fixture
def data_root():
    """The benchmark data root; tests using it are skipped when it is absent."""
    if not (DATA_ROOT / "npz" / "cora.npz").is_file():
        pytest.skip(f"benchmark data not found under {DATA_ROOT} (set GKD_DATA_ROOT)")
    return DATA_ROOT


@pytest.fixture
def csbm():
    """A small graph on which the structure matters: weak features, strong homophily."""
    return contextual_sbm(600, num_classes=3, avg_degree=8, num_features=16, homophily=0.8,
                          signal=0.35, seed=0)


@pytest.fixture
def distil_csbm(csbm):
    """Distil a SAGE teacher into an MLP on ``csbm`` with ``method`` and ``config``.

    Returns the run record and the setting's headline test metric.
    """

    def distil(method: str, config: dict, setting: str = "transductive"):
        task = make_node_task(csbm, "cpf", setting=setting, seed=0)
        return run_node_distillation(task, "sage", method, config), HEADLINE_METRIC[setting]

    return distil


@pytest.fixture
def triangle_plus_one():
    """Nodes 0-1-2 form a triangle; node 3 hangs off node 2."""
    from torch_geometric.data import Data

    edge_index = torch.tensor([[0, 1, 1, 2, 0, 2, 2, 3], [1, 0, 2, 1, 2, 0, 3, 2]])
    return Data(x=torch.eye(4), y=torch.tensor([0, 0, 1, 1]), edge_index=edge_index)
