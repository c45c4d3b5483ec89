import pytest
import torch

from gkd.data import make_node_task
from gkd.distill import GLNN, get_distiller
from gkd.errors import GkdError
from gkd.experiment import run_node_distillation, summarize
from gkd.knowledge import Knowledge
from gkd.nn import MLP
from gkd.teachers import teacher_config


def _config(teacher="sage", **distiller):
    defaults = GLNN.defaults("csbm")
    return {"teacher": teacher_config(teacher, overrides={"hidden_channels": 32,
                                                          "max_epochs": 100}),
            "student": {**defaults["student"], "hidden_channels": 32},
            "distiller": {**defaults["distiller"], "max_epochs": 100, **distiller}}


def test_distilled_mlp_beats_the_plain_mlp(distil_csbm):
    """On a graph whose features alone are weak, soft labels from a GNN teacher carry the
    structure into the MLP."""
    run, metric = distil_csbm("glnn", _config())
    assert run["teacher"][metric] > run["mlp"][metric] + 10
    assert run["student"][metric] > run["mlp"][metric] + 10
    assert run["details"]["student"]["params"] == run["details"]["mlp"]["params"]


def test_inductive_run_reports_production_accuracy(csbm):
    task = make_node_task(csbm, "cpf", setting="inductive", seed=0)
    run = run_node_distillation(task, "gcn", "glnn", _config("gcn", schedule="two-pass", lamb=0.3))
    for model in ("teacher", "mlp", "student"):
        assert set(run[model]) == {"val", "test_tran", "test_ind", "test_prod"}
        expected = 0.8 * run[model]["test_tran"] + 0.2 * run[model]["test_ind"]
        assert run[model]["test_prod"] == pytest.approx(expected)


def test_glnn_is_deterministic_per_seed(csbm):
    task = make_node_task(csbm, "cpf", seed=2)
    config = _config(max_epochs=20)
    first = run_node_distillation(task, "sage", "glnn", config, use_cache=False)
    second = run_node_distillation(task, "sage", "glnn", config, use_cache=False)
    for model in ("teacher", "mlp", "student"):
        assert first[model] == second[model]


def test_glnn_rejects_bad_configuration_and_mismatched_knowledge(csbm):
    with pytest.raises(GkdError, match=r"glnn option lamb must be in \[0, 1\]; got 1.5"):
        GLNN(lamb=1.5)
    with pytest.raises(GkdError, match="unknown glnn schedule"):
        GLNN(schedule="fast")
    with pytest.raises(GkdError, match="unknown method"):
        get_distiller("nope")
    task = make_node_task(csbm, "cpf")
    student = MLP(16, 8, 3)
    with pytest.raises(GkdError, match="needs the teacher's knowledge"):
        GLNN().fit(student, task, None)
    with pytest.raises(GkdError, match="classes"):
        GLNN().fit(student, task, Knowledge(torch.randn(600, 5)))
    n = task.graph.num_nodes
    bad_knowledge = [
        (Knowledge(torch.randn(n)), rf"float matrix \(nodes, classes\); got shape \({n},\)"),
        (Knowledge(torch.randint(3, (n, 3))), "float matrix"),
        (Knowledge(torch.full((n, 3), float("nan"))), "logits contain NaN or infinite values"),
    ]
    for knowledge, message in bad_knowledge:
        with pytest.raises(GkdError, match=message):
            GLNN().fit(student, task, knowledge)
    teacher = Knowledge(torch.randn(n, 3))
    with pytest.raises(GkdError, match="the student's in_channels is 10 but the task has 16"):
        GLNN().fit(MLP(10, 8, 3), task, teacher)
    with pytest.raises(GkdError, match="the student's out_channels is 4 but the task has 3"):
        GLNN().fit(MLP(16, 8, 4), task, teacher)
    # a plain module declares no sizes: its output is checked on two nodes
    with pytest.raises(GkdError, match=r"logits \(N, 3\); for 2 nodes it returned \(2, 2\)"):
        GLNN(lamb=1.0).fit(torch.nn.Linear(16, 2), task, None)
    # batch statistics in eval mode need more than one row
    batch_stats = torch.nn.Sequential(torch.nn.Linear(16, 3),
                                      torch.nn.BatchNorm1d(3, track_running_stats=False))
    GLNN(lamb=1.0, max_epochs=1).fit(batch_stats, task, None)


def test_evaluate_names_logits_of_the_wrong_shape(csbm):
    from gkd.evaluation import evaluate

    task = make_node_task(csbm, "cpf")
    n = task.graph.num_nodes
    with pytest.raises(GkdError, match=rf"logits \(N, C\) = \({n}, 3\) .*got \({n}, 2\)"):
        evaluate(task, lambda graph: torch.zeros(graph.num_nodes, 2))
    with pytest.raises(GkdError, match=rf"got \({n - 1}, 3\)"):
        evaluate(task, lambda graph: torch.zeros(graph.num_nodes - 1, 3))


def test_summary_uses_the_sample_std():
    runs = [{"m": {"test": v}} for v in (1.0, 2.0, 3.0)]
    summary = summarize(runs, models=("m",))
    assert summary["m"]["test"] == {"mean": 2.0, "std": 1.0}  # ddof = 1
    assert summarize(runs[:1], models=("m",))["m"]["test"]["std"] is None
    with pytest.raises(GkdError, match="no runs to summarise"):
        summarize([])


def test_a_linear_surrogate_student_learns_from_the_teacher(distil_csbm):
    config = _config()
    config["student"] = {**config["student"], "num_layers": 1}
    run, metric = distil_csbm("glnn", config)
    assert run["details"]["student"]["params"] == 16 * 3 + 3  # one linear layer
    assert run["student"][metric] > run["mlp"][metric] + 5


def test_a_last_batch_of_one_node_joins_the_one_before():
    distiller = GLNN(batch_size=4)
    assert [b.numel() for b in distiller.batches(torch.arange(9))] == [4, 5]
    assert [b.numel() for b in distiller.batches(torch.arange(10))] == [4, 4, 2]
    assert [b.numel() for b in distiller.batches(torch.arange(1))] == [1]
    assert sorted(torch.cat(list(distiller.batches(torch.arange(9)))).tolist()) == list(range(9))


def test_a_batch_norm_student_trains_when_the_nodes_leave_one_over(csbm):
    task = make_node_task(csbm, "cpf", seed=0)
    knowledge = Knowledge(torch.randn(task.graph.num_nodes, task.num_classes))
    student = MLP(task.num_features, 8, task.num_classes, norm="batch_norm")
    GLNN(batch_size=task.graph.num_nodes - 1, max_epochs=2).fit(student, task, knowledge)


def test_a_batch_norm_student_is_refused_batches_of_one_node(csbm):
    task = make_node_task(csbm, "cpf", seed=0)
    knowledge = Knowledge(torch.randn(task.graph.num_nodes, task.num_classes))
    student = MLP(task.num_features, 8, task.num_classes, norm="batch_norm")
    with pytest.raises(GkdError, match="batch normalisation cannot train on batches of one"):
        GLNN(batch_size=1, max_epochs=1).fit(student, task, knowledge)
    for norm in student.norms:  # PyG's BatchNorm can be told to take one node
        norm.allow_single_element = True
    GLNN(batch_size=1, max_epochs=1).fit(student, task, knowledge)


@pytest.mark.parametrize("lamb, schedule", [(1.0, "combined"), (0.5, "two-pass"),
                                           (0.0, "two-pass")])
def test_a_batch_norm_student_is_refused_a_training_split_of_one_node(csbm, lamb, schedule):
    from gkd.data import NodeTask

    with pytest.warns(UserWarning, match="no training node of class"):
        task = NodeTask(csbm, [0], list(range(1, 100)), list(range(100, 300)))
    knowledge = Knowledge(torch.randn(task.graph.num_nodes, task.num_classes))
    student = MLP(task.num_features, 8, task.num_classes, norm="batch_norm")
    with pytest.raises(GkdError, match="the training split has one node"):
        GLNN(lamb=lamb, schedule=schedule, max_epochs=1).fit(student, task, knowledge)
    GLNN(lamb=0.5, max_epochs=1).fit(student, task, knowledge)  # batches of every node


def test_knowledge_and_students_on_another_device_are_named(csbm):
    # the meta device stands in for a GPU: tensors there have shapes and a device only
    task = make_node_task(csbm, "cpf")
    n = task.graph.num_nodes
    teacher = Knowledge(torch.randn(n, 3))
    with pytest.raises(GkdError, match=r"knowledge is on meta and the task on cpu .*"
                                       r"knowledge.to\('cpu'\)"):
        GLNN().fit(MLP(16, 8, 3), task, Knowledge(torch.empty(n, 3, device="meta")))
    with pytest.raises(GkdError, match=r"parameters are on meta and the data on cpu"):
        GLNN().fit(MLP(16, 8, 3).to("meta"), task, teacher)
