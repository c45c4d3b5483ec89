import json
import math

import pytest
import torch

from gkd.cli import main
from gkd.data import make_node_task
from gkd.distill import VQGraph
from gkd.errors import GkdError
from gkd.experiment import node_config, run_node_distillation
from gkd.knowledge import Knowledge, teacher_knowledge
from gkd.losses import kl_divergence
from gkd.nn import MLP, code_scores
from gkd.ops import adjacency
from gkd.teachers import teacher_config
from gkd.tokenizer import tokenizer_config, tokenizer_knowledge

SMALL = {"hidden_channels": 32, "max_epochs": 100, "num_codes": 64, "code_dim": 16}


def _config(teacher="sage", **distiller):
    return node_config("csbm", teacher, "vqgraph", {
        "teacher": SMALL, "student": {"hidden_channels": 32},
        "distiller": {"max_epochs": 100, **distiller}})


def _softmax(row, t):
    exps = [math.exp(v / t) for v in row]
    return [e / sum(exps) for e in exps]


def test_soft_assignment_kl_matches_a_hand_computed_value():
    codebook = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    teacher = Knowledge(torch.zeros(2, 2), torch.tensor([[1.0, 0.0], [0.0, 2.0]]),
                        codebook=codebook, similarity="cosine")
    student = torch.tensor([[1.0, 1.0], [0.0, -3.0]])  # projected student hidden vectors
    t = 0.5
    r = 1 / math.sqrt(2)
    teacher_cos, student_cos = [[1, 0, -1], [0, 1, 0]], [[r, r, -r], [0, -1, 0]]
    kl = 0.0
    for p_row, q_row in zip(teacher_cos, student_cos):
        p, q = _softmax(p_row, t), _softmax(q_row, t)
        kl += sum(pk * math.log(pk / qk) for pk, qk in zip(p, q))
    expected = t * t * kl / 2
    loss = kl_divergence(code_scores(student, codebook), teacher.code_scores(), t)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    assert teacher.code_assignments(t)[0].tolist() == pytest.approx(_softmax([1, 0, -1], t))
    assert teacher.code_scores(torch.tensor([1]))[0].tolist() == pytest.approx([0.0, 1.0, 0.0])


def test_tokenizer_knowledge_holds_the_codebook_and_round_trips(csbm, tmp_path):
    task = make_node_task(csbm, "cpf", seed=0)
    config = tokenizer_config("sage", overrides=SMALL)
    knowledge = tokenizer_knowledge(task, "sage", config)
    assert knowledge.meta["metrics"]["val"] > 90 and not knowledge.meta["cached"]
    assert knowledge.codebook.shape == (64, 16) and knowledge.embeddings.shape == (600, 16)
    assert knowledge.meta["codebook"]["num_codes"] == 64
    assert knowledge.meta["codebook"]["perplexity"] > 2
    model, graph = knowledge.model, task.graph
    with torch.no_grad():
        out = model.encode(graph.x, adjacency(graph.edge_index, graph.num_nodes))
    torch.testing.assert_close(knowledge.code_scores(), out.vq.scores)
    loaded = Knowledge.load(knowledge.save(tmp_path / "k.pt"))
    assert torch.equal(loaded.codebook, knowledge.codebook) and loaded.similarity == "cosine"
    torch.testing.assert_close(loaded.code_assignments(4.0), knowledge.code_assignments(4.0))
    cached = tokenizer_knowledge(task, "sage", config)
    assert cached.meta["cached"] and torch.equal(cached.codebook, knowledge.codebook)
    assert torch.equal(cached.model.quantizer.codebook, knowledge.codebook)


def test_inductive_tokenizer_never_sees_held_out_nodes(csbm):
    task = make_node_task(csbm, "cpf", setting="inductive", seed=0)
    changed = csbm.clone()
    changed.x = changed.x.clone()
    changed.x[task.test_ind_idx] = torch.randn(task.test_ind_idx.numel(), csbm.num_features)
    other = make_node_task(changed, "cpf", setting="inductive", seed=0)
    assert torch.equal(other.test_ind_idx, task.test_ind_idx)
    config = tokenizer_config("gcn", overrides={**SMALL, "max_epochs": 20})
    first = tokenizer_knowledge(task, "gcn", config, use_cache=False)
    second = tokenizer_knowledge(other, "gcn", config, use_cache=False)
    assert first.embeddings.shape[0] == task.graph.num_nodes < csbm.num_nodes
    for name in ("logits", "embeddings", "codebook"):
        assert torch.equal(getattr(first, name), getattr(second, name))


@pytest.mark.parametrize("setting", ["transductive", "inductive"])
def test_vqgraph_student_beats_the_plain_mlp(distil_csbm, setting):
    run, metric = distil_csbm("vqgraph", _config(), setting)
    assert run["student"][metric] > run["mlp"][metric] + 10
    details = run["details"]["student"]
    assert details["params"] == run["details"]["mlp"]["params"]  # no projection head
    assert details["num_codes"] == 64 and 1 <= details["code_perplexity"] <= 64
    assert 0 <= details["dead_code_fraction"] < 1 and 0 < details["code_agreement"] <= 1


def test_vqgraph_is_deterministic_per_seed(csbm):
    task = make_node_task(csbm, "cpf", seed=1)
    first = run_node_distillation(task, "gcn", "vqgraph", _config("gcn", max_epochs=10))
    second = run_node_distillation(task, "gcn", "vqgraph", _config("gcn", max_epochs=10))
    assert second["details"]["teacher"]["cached"]
    assert first["student"] == second["student"] and first["teacher"] == second["teacher"]
    assert first["details"]["student"]["code_agreement"] == \
        second["details"]["student"]["code_agreement"]


def test_vqgraph_rejects_bad_options_and_knowledge(csbm):
    for options, message in [({"code_temperature": 0.0}, "must be positive"),
                             ({"code_weight": -1.0}, "non-negative"),
                             ({"lamb": 2.0}, r"vqgraph option lamb must be in \[0, 1\]")]:
        with pytest.raises(GkdError, match=message):
            VQGraph(**options)
    task = make_node_task(csbm, "cpf", seed=0)
    student = MLP(16, 8, 3)
    with pytest.raises(GkdError, match="needs the tokenizer's knowledge"):
        VQGraph().fit(student, task, None)
    plain = teacher_knowledge(task, "sage", teacher_config("sage", overrides={"max_epochs": 2}))
    with pytest.raises(GkdError, match="no codebook"):
        VQGraph().fit(student, task, plain)
    coded = Knowledge(plain.logits, torch.randn(600, 4), codebook=torch.randn(8, 5),
                      similarity="cosine")
    with pytest.raises(GkdError, match="do not fit its codebook"):
        VQGraph().fit(student, task, coded)
    coded.embeddings = torch.randn(600, 5)
    with pytest.raises(GkdError, match="num_layers >= 2"):
        VQGraph().fit(MLP(16, 8, 3, num_layers=1), task, coded)
    with pytest.raises(GkdError, match="num_layers >= 2"):  # before any training
        node_config("cora", "sage", "vqgraph", {"student": {"num_layers": 1}})
    node_config("cora", "sage", "glnn", {"student": {"num_layers": 1}})
    with pytest.raises(GkdError, match="unknown teacher sage option"):
        node_config("cora", "sage", "glnn", {"teacher": {"num_codes": 8}})


@pytest.mark.parametrize("change, message", [
    ({"num_code": 16}, "unknown num_code"),
    ({"ema": "no"}, "option ema takes true or false; got 'no'"),
    ({"dropout": 1.5}, r"option dropout must be in \[0, 1\); got 1.5"),
    ({"num_codes": 0}, "option num_codes must be at least 1; got 0"),
    ({"fanouts": [5, 5]}, "trains full-batch"),
])
def test_a_hand_made_tokenizer_configuration_is_checked_before_training(csbm, change, message):
    task = make_node_task(csbm, "cpf")
    config = {**tokenizer_config("sage"), **change}
    with pytest.raises(GkdError, match=message):
        VQGraph.knowledge(task, "sage", config, use_cache=False)


def test_distill_command_runs_vqgraph(capsys, tmp_path):
    out = tmp_path / "run.json"
    code = main(["distill", "--dataset", "synthetic:nodes=300,degree=6,features=12,classes=3",
                 "--method", "vqgraph", "--seeds", "1", "--output", str(out),
                 "--set", "teacher.max_epochs=10", "--set", "teacher.num_codes=16",
                 "--set", "distiller.max_epochs=5"])
    assert code == 0, capsys.readouterr().err
    record = json.loads(out.read_text())
    assert record["task"]["method"] == "vqgraph"
    assert record["config"]["teacher"]["num_codes"] == 16
    details = record["runs"][0]["details"]["student"]
    assert {"num_codes", "code_perplexity", "dead_code_fraction", "code_agreement"} <= set(details)
