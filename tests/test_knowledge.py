import os

import pytest
import torch

from gkd.data import cache_dir, make_node_task
from gkd.errors import GkdError
from gkd.knowledge import Knowledge, extract_knowledge, teacher_knowledge
from gkd.teachers import teacher_config

SMALL = {"hidden_channels": 16, "max_epochs": 30, "patience": 10}


def test_save_load_round_trip(tmp_path):
    knowledge = Knowledge(torch.randn(5, 3), torch.randn(5, 4), {"teacher": "sage", "seed": 1})
    old_mask = os.umask(0o022)
    try:
        path = knowledge.save(tmp_path / "k.pt")
    finally:
        os.umask(old_mask)
    loaded = Knowledge.load(path)
    assert torch.equal(loaded.logits, knowledge.logits)
    assert torch.equal(loaded.embeddings, knowledge.embeddings)
    assert loaded.meta == knowledge.meta
    assert not list(tmp_path.glob(".*tmp"))  # the atomic write left no temporary file
    assert path.stat().st_mode & 0o777 == 0o644  # the umask's mode, as with a plain open()
    assert torch.allclose(loaded.soft_labels(2.0).sum(-1), torch.ones(5))


def test_load_rejects_missing_and_foreign_files(tmp_path):
    with pytest.raises(GkdError, match="does not exist"):
        Knowledge.load(tmp_path / "nope.pt")
    torch.save({"something": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(GkdError, match="not a gkd knowledge file"):
        Knowledge.load(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(GkdError, match="not a readable knowledge file"):
        Knowledge.load(tmp_path / "junk.pt")


def test_check_names_mismatched_nodes_and_classes(csbm):
    task = make_node_task(csbm, "cpf")
    with pytest.raises(GkdError, match="covers 5 nodes"):
        Knowledge(torch.randn(5, 3)).check(task)
    with pytest.raises(GkdError, match="has 4 classes but the task has 3"):
        Knowledge(torch.randn(600, 4)).check(task)


def test_check_warns_of_probabilities_given_as_logits(csbm):
    import warnings

    task = make_node_task(csbm, "cpf")
    logits = torch.randn(task.graph.num_nodes, 3)
    with pytest.warns(UserWarning, match="look like probabilities"):
        Knowledge(logits.softmax(-1)).check(task)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Knowledge(logits).check(task)
        Knowledge(logits.log_softmax(-1)).check(task)  # log-probabilities are logits


def test_extract_captures_the_input_of_a_module(csbm):
    from torch_geometric.nn.models import GraphSAGE

    model = GraphSAGE(16, 8, 2, 3)
    knowledge = extract_knowledge(model, csbm.x, csbm.edge_index, embedding_module=model.convs[-1])
    assert knowledge.logits.shape == (600, 3) and knowledge.embeddings.shape == (600, 8)
    assert not model.convs[-1]._forward_pre_hooks  # the hook is removed
    assert not knowledge.embeddings.is_inference() and not knowledge.logits.is_inference()
    target = torch.nn.Linear(16, 8)  # embeddings serve as a target of a trained map
    torch.nn.functional.mse_loss(target(csbm.x), knowledge.embeddings).backward()


def test_extract_names_a_model_that_returns_no_tensor(csbm):
    class Pair(torch.nn.Module):
        def forward(self, x, edge_index):
            return x, edge_index

    with pytest.raises(GkdError, match="must return a logits tensor .* returned tuple"):
        extract_knowledge(Pair(), csbm.x, csbm.edge_index)


def test_teacher_knowledge_is_cached_per_task_and_config(csbm):
    task = make_node_task(csbm, "cpf", seed=0, info={"dataset": "csbm"})
    config = teacher_config("gcn", overrides=SMALL)
    first = teacher_knowledge(task, "gcn", config)
    again = teacher_knowledge(task, "gcn", config)
    assert not first.meta["cached"] and again.meta["cached"]
    assert torch.equal(first.logits, again.logits)
    assert again.meta["metrics"] == first.meta["metrics"]
    other_seed = make_node_task(csbm, "cpf", seed=1, info={"dataset": "csbm"})
    assert not teacher_knowledge(other_seed, "gcn", config).meta["cached"]
    other_config = teacher_config("gcn", overrides={**SMALL, "hidden_channels": 8})
    assert not teacher_knowledge(task, "gcn", other_config).meta["cached"]


def test_inductive_knowledge_covers_only_observed_nodes(csbm):
    task = make_node_task(csbm, "cpf", setting="inductive", seed=0)
    knowledge = teacher_knowledge(task, "sage", teacher_config("sage", overrides=SMALL),
                                  use_cache=False)
    assert knowledge.logits.size(0) == task.graph.num_nodes < csbm.num_nodes
    assert set(knowledge.meta["metrics"]) == {"val", "test_tran", "test_ind", "test_prod"}


def test_cache_tells_different_graphs_of_equal_size_apart(csbm):
    from gkd.data.synthetic import contextual_sbm

    other = contextual_sbm(600, num_classes=3, avg_degree=8, num_features=16, homophily=0.8,
                           signal=0.35, seed=1)
    config = teacher_config("gcn", overrides=SMALL)
    first = teacher_knowledge(make_node_task(csbm, "cpf", seed=0), "gcn", config)
    second = teacher_knowledge(make_node_task(other, "cpf", seed=0), "gcn", config)
    assert not second.meta["cached"]
    assert not torch.equal(first.logits, second.logits)


def test_check_refuses_the_knowledge_of_another_seeds_split(csbm):
    config = teacher_config("gcn", overrides=SMALL)
    knowledge = teacher_knowledge(make_node_task(csbm, "cpf", seed=0), "gcn", config)
    knowledge.check(make_node_task(csbm, "cpf", seed=0))
    # seed 1's split has other training nodes: seed 0's teacher saw labels of its test nodes
    with pytest.raises(GkdError, match="trained on another task"):
        knowledge.check(make_node_task(csbm, "cpf", seed=1))
    Knowledge(knowledge.logits).check(make_node_task(csbm, "cpf", seed=1))  # a user's own


@pytest.mark.parametrize("damage", ["garbage", "other model"])
def test_a_corrupt_or_foreign_cached_teacher_is_trained_again_and_replaced(csbm, damage):
    task = make_node_task(csbm, "cpf", seed=0)
    config = teacher_config("gcn", overrides=SMALL)
    first = teacher_knowledge(task, "gcn", config)
    [weights] = (cache_dir() / "knowledge").glob("*.teacher.pt")
    if damage == "garbage":
        weights.write_bytes(b"garbage")
    else:
        torch.save({"lin.weight": torch.zeros(2, 2)}, weights)
    with pytest.warns(UserWarning, match="the cached model .* cannot be loaded .*training "
                                         "it again"):
        again = teacher_knowledge(task, "gcn", config)
    assert not again.meta["cached"] and torch.equal(again.logits, first.logits)
    assert teacher_knowledge(task, "gcn", config).meta["cached"]


def test_cached_knowledge_with_damaged_metadata_is_trained_again(csbm):
    task = make_node_task(csbm, "cpf", seed=0)
    config = teacher_config("gcn", overrides=SMALL)
    teacher_knowledge(task, "gcn", config)
    [path] = (p for p in (cache_dir() / "knowledge").glob("*.pt")
              if not p.name.endswith(".teacher.pt"))
    knowledge = Knowledge.load(path)
    del knowledge.meta["metrics"]
    knowledge.save(path)
    with pytest.warns(UserWarning, match="cannot be loaded .*lacks numeric metrics"):
        assert not teacher_knowledge(task, "gcn", config).meta["cached"]
    assert "metrics" in Knowledge.load(path).meta


def test_a_cache_entry_of_another_task_is_not_served(csbm):
    import shutil

    config = teacher_config("gcn", overrides=SMALL)
    task0, task1 = (make_node_task(csbm, "cpf", seed=s) for s in (0, 1))
    folder = cache_dir() / "knowledge"
    teacher_knowledge(task0, "gcn", config)
    entry0 = set(folder.glob("*.pt"))
    teacher_knowledge(task1, "gcn", config)
    for path in set(folder.glob("*.pt")) - entry0:  # seed 1's entry under seed 0's key
        target = next(p for p in entry0 if p.name.endswith(".teacher.pt")
                      == path.name.endswith(".teacher.pt"))
        shutil.copyfile(path, target)
    with pytest.warns(UserWarning, match="cannot be loaded .*trained on another task"):
        knowledge = teacher_knowledge(task0, "gcn", config)
    assert not knowledge.meta["cached"]
    knowledge.check(task0)


def test_the_cache_key_changes_with_gkds_source_code(monkeypatch):
    import gkd.knowledge as knowledge

    key = knowledge.cache_key("task", 0, "sage", {"lr": 0.01})
    monkeypatch.setattr(knowledge, "source_digest", lambda: "edited")
    assert knowledge.cache_key("task", 0, "sage", {"lr": 0.01}) != key


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("method", ["glnn", "krd", "vqgraph"])
def test_node_distillation_on_cuda_caches_teachers_a_cpu_run_can_load(csbm, method):
    from gkd.experiment import node_config, run_node_distillation

    fast = {"teacher": {"max_epochs": 20}, "distiller": {"max_epochs": 20}}
    if method == "krd":
        fast["distiller"]["warmup"] = 1  # reach the resampling (α fit, pair draws) on CUDA
    config = node_config("csbm", "sage", method, fast)
    task = make_node_task(csbm, "cpf", seed=0)
    run = run_node_distillation(make_node_task(csbm.to("cuda"), "cpf", seed=0), "sage",
                                method, config)
    assert all(0 <= value <= 100 for value in run["student"].values())
    again = run_node_distillation(task, "sage", method, config)
    assert again["details"]["teacher"]["cached"] and again["teacher"] == run["teacher"]


@pytest.mark.parametrize("content, message", [
    ({"format": 1}, "damaged knowledge file .*KeyError"),
    ({"format": 1, "logits": torch.ones(2, 2), "embeddings": None, "codebook": None,
      "meta": "{not json"}, "damaged knowledge file .*JSONDecodeError"),
    ({"format": 1, "logits": [1, 2], "embeddings": None, "codebook": None, "meta": "{}"},
     "logits of the wrong type"),
])
def test_load_names_damaged_files(tmp_path, content, message):
    from gkd.io import save_torch

    path = save_torch(tmp_path / "k.pt", content)
    with pytest.raises(GkdError, match=message):
        Knowledge.load(path)


def test_check_names_embeddings_of_other_nodes_and_zero_temperatures(csbm):
    task = make_node_task(csbm, "random")
    n, c = task.graph.num_nodes, task.num_classes
    knowledge = Knowledge(torch.randn(n, c), embeddings=torch.randn(5, 4))
    with pytest.raises(GkdError, match=f"one row per observed node \\({n}\\); got "
                                       r"torch.float32 of shape \(5, 4\)"):
        knowledge.check(task)
    for temperature in (0.0, -1.0):
        with pytest.raises(GkdError, match="temperature must be positive"):
            knowledge.soft_labels(temperature)


def test_the_callers_random_state_does_not_depend_on_the_cache(csbm, tmp_path):
    import random

    import numpy as np

    def draws():
        return torch.rand(3).tolist(), float(np.random.rand()), random.random()

    task = make_node_task(csbm, "cpf", seed=3)
    config = teacher_config("gcn", overrides=SMALL)
    seen = []
    for _ in range(2):  # trained, then from the cache
        torch.manual_seed(0), np.random.seed(0), random.seed(0)
        knowledge = teacher_knowledge(task, "gcn", config, cache=tmp_path)
        seen.append((knowledge.meta["cached"], draws()))
    torch.manual_seed(0), np.random.seed(0), random.seed(0)
    expected = draws()
    assert seen == [(False, expected), (True, expected)]


def test_knowledge_detaches_a_teachers_training_output(tmp_path):
    logits = torch.randn(5, 3, requires_grad=True) * 2
    knowledge = Knowledge(logits)
    assert not knowledge.logits.requires_grad
    assert not Knowledge.load(knowledge.save(tmp_path / "k.pt")).logits.requires_grad


def test_save_names_meta_that_is_not_json_and_a_folder(tmp_path):
    with pytest.raises(GkdError, match="knowledge meta must hold JSON values"):
        Knowledge(torch.randn(5, 3), meta={"acc": torch.tensor(0.8)}).save(tmp_path / "k.pt")
    with pytest.raises(GkdError, match="it is a folder"):
        Knowledge(torch.randn(5, 3)).save(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_teachers_that_cannot_take_the_adjacency_or_return_no_logits_are_named(csbm):
    from gkd.teachers import train_teacher

    task = make_node_task(csbm, "cpf", seed=0)
    config = teacher_config("gcn", overrides={"max_epochs": 2})

    class EdgeIndexTeacher(torch.nn.Module):  # indexes edge_index: fails on an adjacency
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(task.num_features, task.num_classes)

        def forward(self, x, edge_index):
            return self.lin(x[edge_index[0]])

    class TupleTeacher(EdgeIndexTeacher):
        def forward(self, x, adj):
            return self.lin(x), x

    with pytest.raises(GkdError, match=r"train_teacher calls the teacher as model\(x, adj\)"):
        train_teacher(EdgeIndexTeacher(), task, config)
    with pytest.raises(GkdError, match=r"logits \(N, C\); for \d+ nodes it returned tuple"):
        train_teacher(TupleTeacher(), task, config)


def test_a_teacher_on_another_device_is_named(csbm):
    from gkd.teachers import build_teacher, train_teacher

    task = make_node_task(csbm, "cpf", seed=0)
    config = teacher_config("gcn", overrides={"max_epochs": 2})
    teacher = build_teacher("gcn", task.num_features, task.num_classes, config).to("meta")
    with pytest.raises(GkdError, match=r"teacher's parameters are on meta and the data on cpu"):
        train_teacher(teacher, task, config)
    with pytest.raises(GkdError, match=r"model's parameters are on meta and the data on cpu"):
        extract_knowledge(teacher, task.graph.x, task.graph.edge_index)
