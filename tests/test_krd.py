import pytest
import torch

from gkd.data import make_node_task
from gkd.distill import KRD
from gkd.errors import GkdError
from gkd.experiment import run_node_distillation
from gkd.knowledge import Knowledge, teacher_knowledge
from gkd.losses import kl_divergence
from gkd.nn import MLP
from gkd.ops import CSRGraph
from gkd.reliability import sample_reliable_pairs
from gkd.teachers import teacher_config


def _config(**distiller):
    defaults = KRD.defaults("csbm")
    return {"teacher": teacher_config("sage", overrides={"hidden_channels": 32,
                                                         "max_epochs": 100}),
            "student": {**defaults["student"], "hidden_channels": 32},
            "distiller": {**defaults["distiller"], "max_epochs": 60, "warmup": 10, **distiller}}


@pytest.mark.parametrize("setting", ["transductive", "inductive"])
def test_krd_distils_structure_and_reports_alpha_and_pairs(distil_csbm, setting):
    run, metric = distil_csbm("krd", _config(), setting)
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

    class EdgeIndexTeacher(torch.nn.Module):  # indexes edge_index: fails on an adjacency
        def forward(self, x, edge_index):
            return x[edge_index[0]][:, :task.num_classes]

    bare.model = EdgeIndexTeacher()
    with pytest.raises(GkdError, match=r"krd calls the teacher as model\(x, adj\)"):
        KRD(max_epochs=1).fit(MLP(task.num_features, 8, task.num_classes), task, bare)
    class SilentFailure(torch.nn.Module):
        def forward(self, x, adj):
            raise NotImplementedError

    bare.model = SilentFailure()
    with pytest.raises(GkdError, match="this teacher failed on it: NotImplementedError"):
        KRD(max_epochs=1).fit(MLP(task.num_features, 8, task.num_classes), task, bare)
    bare.model = torch.nn.Linear(task.num_features, task.num_classes + 2)
    bare.model.forward = lambda x, adj: torch.nn.Linear.forward(bare.model, x)
    with pytest.raises(GkdError, match=f"knowledge.model returns {task.num_classes + 2} classes "
                                       f"but the knowledge's logits have {task.num_classes}"):
        KRD(max_epochs=1).fit(MLP(task.num_features, 8, task.num_classes), task, bare)
    with pytest.raises(GkdError, match="krd lamb must be below 1"):
        KRD(lamb=1.0)
    with pytest.raises(GkdError, match=r"krd option momentum must be in \[0, 1\]; got 1.5"):
        KRD(momentum=1.5)
    with pytest.raises(GkdError, match="resample_every"):
        KRD(resample_every=0)
    with pytest.raises(GkdError, match="pair_weighting 'edge'"):
        KRD(pair_weighting="edge")
    with pytest.raises(GkdError, match="reliability_scale 'min'"):
        KRD(reliability_scale="min")
    with pytest.raises(GkdError, match="self_weight needs pair_weighting 'node'"):
        KRD(self_weight=0.5)


def test_the_papers_pair_weighting_can_replace_a_datasets_self_weight():
    from gkd.experiment import node_config

    assert KRD.defaults("a-computer")["distiller"]["self_weight"] == 0.75
    with pytest.raises(GkdError, match="set self_weight=null as well"):
        node_config("a-computer", "sage", "krd", {"distiller": {"pair_weighting": "pair"}})
    config = node_config("a-computer", "sage", "krd",
                         {"distiller": {"pair_weighting": "pair", "self_weight": None}})
    assert config["distiller"]["self_weight"] is None


@pytest.mark.parametrize("weighting,self_weight", [("pair", None), ("node", None),
                                                   ("node", 0.25)])
def test_pair_loss_weights_pairs_or_nodes(weighting, self_weight):
    # student node 0 learns from teachers 0, 1 and 2; node 1 from itself only
    pairs = CSRGraph.from_edge_index(torch.tensor([[0, 1, 2, 1], [0, 0, 0, 1]]), 3)
    out = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    teacher = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    batch, local = torch.tensor([0, 1]), torch.tensor([0, 1, -1])
    krd = KRD(pair_weighting=weighting, self_weight=self_weight)
    loss = krd._pair_loss(out, local, batch, pairs, teacher)
    kl = [kl_divergence(out[[s]], teacher[[t]]) for s, t in [(0, 0), (0, 1), (0, 2), (1, 1)]]
    if weighting == "pair":
        expected = sum(kl) / 4
    elif self_weight is None:
        expected = (sum(kl[:3]) / 3 + kl[3]) / 2
    else:  # node 1 has no neighbour, so its own output keeps full weight
        expected = (0.25 * kl[0] + 0.75 * (kl[1] + kl[2]) / 2 + kl[3]) / 2
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_cached_knowledge_brings_back_the_trained_teacher(csbm):
    task = make_node_task(csbm, "cpf", seed=0)
    config = _config()["teacher"]
    fresh = teacher_knowledge(task, "sage", config)
    cached = teacher_knowledge(task, "sage", config)
    assert cached.meta["cached"]
    for a, b in zip(fresh.model.state_dict().values(), cached.model.state_dict().values()):
        assert torch.equal(a, b)


def test_krd_draws_its_pairs_after_the_reliability_noise(csbm, monkeypatch):
    # one seeded stream: the first pair draw must not reuse the noise's random numbers
    task = make_node_task(csbm, "cpf", seed=0)
    states = []

    def recording(csr, probability, generator):
        states.append(generator.get_state())
        return sample_reliable_pairs(csr, probability, generator)

    monkeypatch.setattr("gkd.distill.krd.sample_reliable_pairs", recording)
    run_node_distillation(task, "sage", "krd", _config(max_epochs=1))
    fresh = torch.Generator().manual_seed(task.seed).get_state()
    assert states and not torch.equal(states[0], fresh)
