import pytest
import torch

from gkd.data import make_node_task
from gkd.distill import KRD
from gkd.errors import GkdError
from gkd.experiment import run_node_distillation
from gkd.knowledge import Knowledge, teacher_knowledge
from gkd.nn import MLP
from gkd.teachers import teacher_config


def _config(**distiller):
    defaults = KRD.defaults("csbm")
    return {"teacher": teacher_config("sage", overrides={"hidden_channels": 32,
                                                         "max_epochs": 100}),
            "student": {**defaults["student"], "hidden_channels": 32},
            "distiller": {**defaults["distiller"], "max_epochs": 60, "warmup": 10, **distiller}}


@pytest.mark.parametrize("setting", ["transductive", "inductive"])
def test_krd_distils_structure_and_reports_alpha_and_pairs(csbm, setting):
    task = make_node_task(csbm, "cpf", setting=setting, seed=0)
    run = run_node_distillation(task, "sage", "krd", _config())
    metric = "test" if setting == "transductive" else "test_prod"
    assert run["student"][metric] > run["mlp"][metric] + 10
    details = run["details"]["student"]
    assert details["alpha"] > 0
    # every node keeps itself; the average degree of the graph is about 8
    assert 1.0 < details["pairs_per_node"] < 10.0


def test_krd_with_every_edge_always_kept_matches_the_warmup_pair_count(csbm):
    task = make_node_task(csbm, "cpf", seed=0)
    run = run_node_distillation(task, "sage", "krd", _config(warmup=1000, max_epochs=5))
    expected = (task.graph.num_edges + task.graph.num_nodes) / task.graph.num_nodes
    assert run["details"]["student"]["pairs_per_node"] == pytest.approx(expected, abs=1e-3)


def test_krd_is_deterministic_per_seed(csbm):
    task = make_node_task(csbm, "cpf", seed=1)
    config = _config(max_epochs=15, warmup=5)
    first = run_node_distillation(task, "sage", "krd", config)
    second = run_node_distillation(task, "sage", "krd", config)  # teacher from the cache
    assert first["student"] == second["student"]
    assert first["details"]["student"]["alpha"] == second["details"]["student"]["alpha"]


def test_krd_needs_the_teacher_model_and_valid_options(csbm):
    task = make_node_task(csbm, "cpf", seed=0)
    knowledge = teacher_knowledge(task, "sage", _config()["teacher"])
    assert knowledge.model is not None
    bare = Knowledge(knowledge.logits)
    with pytest.raises(GkdError, match="measures reliability with the teacher itself"):
        KRD(max_epochs=1).fit(MLP(task.num_features, 8, task.num_classes), task, bare)
    with pytest.raises(GkdError, match="lamb must lie in"):
        KRD(lamb=1.0)
    with pytest.raises(GkdError, match="resample_every"):
        KRD(resample_every=0)


def test_cached_knowledge_brings_back_the_trained_teacher(csbm):
    task = make_node_task(csbm, "cpf", seed=0)
    config = _config()["teacher"]
    fresh = teacher_knowledge(task, "sage", config)
    cached = teacher_knowledge(task, "sage", config)
    assert cached.meta["cached"]
    for a, b in zip(fresh.model.state_dict().values(), cached.model.state_dict().values()):
        assert torch.equal(a, b)
