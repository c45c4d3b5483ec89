import json
import threading

import pytest
import torch

from gkd.cli import main
from gkd.data import load_dataset
from gkd.data.links import make_link_task
from gkd.data.synthetic import contextual_sbm
from gkd.distill.llp import LLP, ReprMatching
from gkd.errors import GkdError
from gkd.link_teachers import (
    LinkKnowledge,
    best_link_teacher,
    build_link_teacher,
    cached_link_model,
    link_teacher_knowledge,
    train_link_teacher,
    validation_hits,
)
from gkd.linkpred import build_link_student, check_hits_k, link_config, run_link_prediction
from gkd.nn import MLP

FAST = {"teacher": {"hidden_channels": 16, "max_epochs": 8, "patience": 3},
        "student": {"hidden_channels": 16},
        "distiller": {"max_epochs": 8, "patience": 3, "anchor_batch_size": 64}}


@pytest.fixture
def graph():
    return contextual_sbm(150, num_classes=3, avg_degree=6, num_features=8, seed=0)


@pytest.mark.parametrize("method", ["llp", "logit", "repr"])
def test_one_seed_scores_teacher_mlp_and_student(graph, method):
    task = make_link_task(graph, "production", seed=0, info={"dataset": "tiny"})
    config = link_config("tiny", "sage", method, FAST)
    run = run_link_prediction(task, "sage", method, config, seed=1)
    metrics = {"val", "test", "test_old_old", "test_old_new", "test_new_new"}
    for model in ("teacher", "mlp", "student"):
        assert set(run[model]) == metrics
        assert all(0 <= value <= 100 for value in run[model].values())
    assert run["details"]["student"]["params"] == run["details"]["mlp"]["params"]
    again = run_link_prediction(task, "sage", method, config, seed=1)
    assert again["details"]["teacher"]["cached"] and again["teacher"] == run["teacher"]
    assert again["details"]["mlp"]["cached"] and again["mlp"] == run["mlp"]
    assert again["student"] == run["student"]


def test_cora_and_citeseer_students_default_to_the_validation_choice_of_width():
    for dataset in ("cora", "CiteSeer"):
        assert link_config(dataset, "sage", "llp")["student"]["hidden_channels"] == 512
    assert link_config("a-photo", "sage", "llp")["student"]["hidden_channels"] == 256
    narrow = link_config("cora", "sage", "llp", {"student": {"hidden_channels": 256}})
    assert narrow["student"]["hidden_channels"] == 256


def test_every_method_of_a_seed_shares_one_plain_mlp(graph):
    task = make_link_task(graph, seed=0)
    runs = {method: run_link_prediction(task, "sage", method,
                                        link_config("tiny", "sage", method, FAST), seed=2)
            for method in ("llp", "repr")}
    assert not runs["llp"]["details"]["mlp"]["cached"] and runs["repr"]["details"]["mlp"]["cached"]
    assert runs["repr"]["mlp"] == runs["llp"]["mlp"]
    weighted = {"distiller": {**FAST["distiller"], "label_weight": 0.1}}
    reweighted = run_link_prediction(task, "sage", "llp", link_config("tiny", "sage", "llp", {
        **FAST, **weighted}), seed=2)
    assert reweighted["details"]["mlp"]["cached"] and reweighted["mlp"] == runs["llp"]["mlp"]
    fresh = run_link_prediction(task, "sage", "repr", link_config("tiny", "sage", "repr", FAST),
                                seed=2, use_cache=False)
    assert fresh["mlp"] == runs["llp"]["mlp"]


def test_a_concurrent_run_waits_for_the_model_in_training_and_loads_it(graph, tmp_path):
    task = make_link_task(graph, seed=0)
    config = link_config("tiny", "sage", "llp", FAST)["teacher"]
    trained_by, training, results = [], threading.Event(), {}

    def train(model):
        trained_by.append(threading.current_thread().name)
        training.set()
        return train_link_teacher(model, task, config)

    def run():
        results[threading.current_thread().name] = cached_link_model(
            task, "sage", config, seed=0, folder="teachers", cache=tmp_path, train=train,
            build=lambda: build_link_teacher("sage", task.num_features, config))

    first = threading.Thread(target=run, name="first")
    first.start()
    assert training.wait(timeout=60)
    run()  # blocks on the entry's lock until the first run has stored its model
    first.join()
    assert trained_by == ["first"]
    (model, meta), (loaded, loaded_meta) = results["first"], results["MainThread"]
    assert not meta["cached"] and loaded_meta["cached"]
    assert loaded_meta["metrics"] == meta["metrics"]
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value)


def test_llp_pulls_the_student_towards_the_teacher_order(graph):
    task = make_link_task(graph, seed=0)
    config = link_config("tiny", "gcn", "llp", FAST)
    knowledge = link_teacher_knowledge(task, "gcn", config["teacher"], use_cache=False)
    anchors = torch.arange(task.graph.num_nodes)
    pairs = torch.stack([anchors.repeat_interleave(20), torch.randint(150, (3000,))])
    teacher = knowledge.score(pairs)

    def agreement(distiller):  # None: the untrained student
        torch.manual_seed(0)
        student = build_link_student(task.num_features, config["student"])
        if distiller is not None:
            distiller.fit(student, task, knowledge)
        with torch.no_grad():
            scores = student.score(student.encode(task.graph.x), pairs)
        return torch.corrcoef(torch.stack([scores, teacher]))[0, 1]

    options = {"max_epochs": 30, "patience": 30, "anchor_batch_size": 64, "label_weight": 0.0}
    assert agreement(LLP(**options)) > agreement(None) + 0.2


def test_link_distillation_names_a_student_or_knowledge_that_does_not_fit(graph):
    task = make_link_task(graph, seed=0)
    config = link_config("tiny", "sage", "llp", FAST)
    knowledge = link_teacher_knowledge(task, "sage", config["teacher"], use_cache=False)
    with pytest.raises(GkdError, match="the student's in_channels is 5 but the task has 8"):
        LLP().fit(build_link_student(5, config["student"]), task, knowledge)
    partial = LinkKnowledge(knowledge.embeddings[:10], knowledge.model)
    with pytest.raises(GkdError, match="knowledge covers 10 nodes but the task's observed"):
        LLP().fit(build_link_student(8, config["student"]), task, partial)
    with pytest.raises(GkdError, match=r"split seed must be an integer in \[0, 2\*\*32\); got -1"):
        make_link_task(graph, seed=-1)
    other_split = make_link_task(graph, seed=1)
    with pytest.raises(GkdError, match="comes from another link task"):
        LLP().fit(build_link_student(8, config["student"]), other_split, knowledge)
    with pytest.raises(GkdError, match="must be a LinkPredictor .* got MLP"):
        LLP().fit(MLP(8, 16, 16), task, knowledge)
    encoder_only = LinkKnowledge(knowledge.embeddings, knowledge.model.encoder)
    with pytest.raises(GkdError, match="must hold the link predictor itself as model"):
        LLP().fit(build_link_student(8, config["student"]), task, encoder_only)


def test_link_knowledge_holds_no_gradient_to_the_teacher(graph):
    task = make_link_task(graph, seed=0)
    config = link_config("tiny", "sage", "repr", FAST)
    knowledge = link_teacher_knowledge(task, "sage", config["teacher"], use_cache=False)
    with_grad = knowledge.model.encode(task.graph.x, task.graph.edge_index)  # no no_grad
    own = LinkKnowledge(with_grad, knowledge.model)
    assert not own.embeddings.requires_grad
    history = ReprMatching(max_epochs=2, patience=2).fit(
        build_link_student(8, config["student"]), task, own)
    assert history.epochs == 2


def test_link_prediction_refuses_a_hits_k_beyond_the_negatives_and_a_fractional_seed(graph):
    task = make_link_task(graph, seed=0)
    negatives = task.val.neg.size(1)
    config = link_config("tiny", "sage", "llp", {**FAST, "distiller": {
        **FAST["distiller"], "hits_k": negatives + 1}})
    with pytest.raises(GkdError, match=f"distiller.hits_k={negatives + 1} exceeds the "
                                       f"{negatives} negatives of the 'val' pairs"):
        run_link_prediction(task, "sage", "llp", config)
    small_test = make_link_task(graph, seed=0, test_ratio=0.02)
    assert small_test.tests["test"].neg.size(1) < 15 < negatives
    check_hits_k(small_test, {"hits_k": 5, "select_k": 15})  # select_k reads validation only
    with pytest.raises(GkdError, match="hits_k=15 exceeds the .* of the 'test' pairs"):
        check_hits_k(small_test, {"hits_k": 15, "select_k": None})
    with pytest.raises(GkdError, match="seed must be an integer"):
        run_link_prediction(task, "sage", "llp", link_config("tiny", "sage", "llp", FAST),
                            seed=0.5)


def test_a_corrupt_cached_link_teacher_is_trained_again_and_replaced(graph, tmp_path):
    task = make_link_task(graph, seed=0)
    config = link_config("tiny", "sage", "llp", FAST)["teacher"]
    first = link_teacher_knowledge(task, "sage", config, cache=tmp_path).meta
    [cached] = (tmp_path / "link-teachers").glob("*.pt")
    saved = torch.load(cached, weights_only=True)

    def metadata(meta):  # weights that fit, metadata that does not
        return lambda: torch.save({**saved, "meta": json.dumps(meta)}, cached)

    for damage, reason in ((metadata({"name": "sage"}), "lacks numeric metrics"),
                           (metadata([1, 2]), "lacks numeric metrics"),
                           (lambda: cached.write_bytes(b"garbage"), "")):
        damage()
        with pytest.warns(UserWarning, match=f"the cached model '{cached}' cannot be loaded "
                                             f"\\(.*{reason}.*\\); training it again"):
            again = link_teacher_knowledge(task, "sage", config, cache=tmp_path).meta
        assert not again["cached"] and again["metrics"] == first["metrics"]
        assert link_teacher_knowledge(task, "sage", config, cache=tmp_path).meta["cached"]


def test_representation_matching_learns_a_map_to_the_teachers_width(graph):
    task = make_link_task(graph, seed=0)
    config = link_config("tiny", "sage", "repr", FAST)
    knowledge = link_teacher_knowledge(task, "sage", config["teacher"], use_cache=False)
    torch.manual_seed(0)
    student = build_link_student(task.num_features, {**config["student"], "hidden_channels": 8})
    distiller = ReprMatching(max_epochs=40, patience=40, label_weight=0.0)
    initial, make = [], distiller.training_modules

    def recording(*args):
        modules = make(*args)
        initial.extend(module.weight.clone() for module in modules)
        return modules

    distiller.training_modules = recording
    history = distiller.fit(student, task, knowledge)
    weight = distiller._project.weight
    assert weight.shape == (knowledge.embeddings.size(-1), 8)
    assert not torch.equal(weight, initial[0])  # trained with the student
    assert history.loss[-1] < 0.5 * history.loss[0]  # the loss is 1 - cosine, alone here


def test_linkpred_writes_the_json_contract(capsys, tmp_path):
    out = tmp_path / "links.json"
    sets = [f"--set={ns}.{k}={v}" for ns, options in FAST.items() for k, v in options.items()]
    code = main(["linkpred", "--dataset", "synthetic:nodes=120,degree=6,features=8,classes=3",
                 "--setting", "production", "--new-ratio", "0.3", "--seeds", "2",
                 "--output", str(out), *sets])
    stdout = capsys.readouterr().out
    assert code == 0 and "test_old_new" in stdout and "Hits@20" in stdout
    result = json.loads(out.read_text())
    assert set(result) == {"task", "config", "runs", "summary", "complete", "env", "seconds",
                           "command"}
    assert result["complete"] is True
    assert result["task"]["setting"] == "production" and result["task"]["new_ratio"] == 0.3
    assert [run["seed"] for run in result["runs"]] == [0, 1]
    assert set(result["summary"]) == {"teacher", "mlp", "student"}
    assert set(result["summary"]["student"]) == {"val", "test", "test_old_old", "test_old_new",
                                                 "test_new_new"}
    for run in result["runs"]:  # Hits@10/50/100 and AUC logged on every scored set
        for model in ("teacher", "mlp", "student"):
            logged = run["details"][model]["logged_metrics"]
            assert set(logged) == set(run[model]) and all("auc" in m for m in logged.values())


@pytest.mark.parametrize("args, message", [
    (["--set", "distiller.bogus=1"], "unknown llp option(s) bogus"),
    (["--set", "teacher.heads=2"], "unknown link teacher sage option(s) heads"),
    (["--test-ratio", "1.5"], "must lie strictly between 0 and 1"),
    (["--set", "teacher.hits_k=50"], "must agree"),
    (["--set", "teacher.select_k=7"], "must agree"),
    (["--set", "distiller.select_k=0"], "select_k must be an integer of at least 1"),
    (["--set", "distiller.hits_k=0"], "hits_k must be an integer of at least 1"),
    (["--set", "distiller.hits_k=null"], "hits_k must be an integer of at least 1; got None"),
    (["--set", "teacher.aggr=median"], "teacher sage option aggr must be one of 'gcn'"),
    (["--set", "distiller.rank_weight=-1"], "llp option rank_weight must be non-negative"),
    (["--set", "teacher.dropout=1"], "link teacher sage option dropout must be in [0, 1)"),
    (["--device", "gpu"], "argument --device: expected cpu or cuda[:N], got 'gpu'"),
    (["--device", "cuda:7"], "CUDA is not available"),
    (["--new-ratio", "0.5"], "--new-ratio sets the production split"),
    (["--setting", "production", "--test-ratio", "0.1"], "--test-ratio sets the transductive"),
    (["--split-seed", str(2**32), "--dataset", "synthetic:nodes=50,degree=4,features=8,classes=2"],
     "split seed must be an integer in [0, 2**32)"),
])
def test_linkpred_bad_input_exits_with_one_line(capsys, args, message):
    if "cuda:7" in args and torch.cuda.is_available():
        pytest.skip("CUDA present")
    try:
        code = main(["linkpred", "--dataset", "synthetic:nodes=50", *args])
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and message in err[0], err


def test_select_k_sets_the_validation_hits_every_model_is_selected_on(graph, monkeypatch):
    import gkd.distill.llp as llp
    import gkd.link_teachers as link_teachers

    task = make_link_task(graph, seed=0)
    config = link_config("tiny", "sage", "llp", {**FAST, "distiller": {
        **FAST["distiller"], "select_k": 3}})
    assert config["teacher"]["select_k"] == 3 and config["teacher"]["hits_k"] == 20
    ks, original = [], link_teachers.validation_hits

    def recording(h, model, task, k):
        ks.append(k)
        return original(h, model, task, k)

    monkeypatch.setattr(link_teachers, "validation_hits", recording)
    monkeypatch.setattr(llp, "validation_hits", recording)
    run = run_link_prediction(task, "sage", "llp", config, seed=0, use_cache=False)
    assert ks and set(ks) == {3}
    assert set(run["student"]) == {"val", "test"}  # still reported as Hits@hits_k


def test_select_k_equal_to_hits_k_shares_the_cache_entry_of_an_unset_one(graph, tmp_path):
    task = make_link_task(graph, seed=0)
    config = link_config("tiny", "sage", "llp", FAST)["teacher"]

    def cached(options):
        return cached_link_model(
            task, "sage", options, seed=0,
            build=lambda: build_link_teacher("sage", task.num_features, options),
            train=lambda m: train_link_teacher(m, task, config), folder="link-teachers",
            cache=tmp_path)[1]["cached"]

    assert not cached(config)
    assert cached({**config, "select_k": config["hits_k"]})
    assert not cached({**config, "select_k": 3})


def _anchor_batches(graph, monkeypatch, **options):
    r"""Trains an LLP student on a split of :obj:`graph`; returns the task and the size
    of every anchor batch whose contexts were scored."""
    import gkd.distill.llp as llp

    task = make_link_task(graph, seed=0)
    config = link_config("tiny", "sage", "llp", FAST)
    knowledge = link_teacher_knowledge(task, "sage", config["teacher"], use_cache=False)
    sizes = []
    sample_context = llp.sample_context

    def recording(graph, anchors, *args, **kwargs):
        sizes.append(anchors.numel())
        return sample_context(graph, anchors, *args, **kwargs)

    monkeypatch.setattr(llp, "sample_context", recording)
    student = build_link_student(task.num_features, config["student"])
    LLP(**options).fit(student, task, knowledge)
    return task, sizes


def test_context_scoring_runs_in_anchor_batches(graph, monkeypatch):
    task, sizes = _anchor_batches(graph, monkeypatch, max_epochs=2, anchor_batch_size=40)
    assert max(sizes) <= 40 and sum(sizes) == 2 * task.graph.num_nodes


def test_fewer_training_edges_than_anchor_batches_make_larger_batches(monkeypatch):
    # 100 steps of 2 anchors would leave some edge batches empty (a NaN loss)
    sparse = contextual_sbm(200, num_classes=2, avg_degree=1, num_features=8, seed=0)
    task, sizes = _anchor_batches(sparse, monkeypatch, max_epochs=1, anchor_batch_size=2)
    edges = task.train_pos.size(1)
    assert edges < 100 and len(sizes) == edges and sum(sizes) == task.graph.num_nodes


@pytest.mark.parametrize("setting", ["transductive", "production"])
def test_a_task_moved_to_a_device_keeps_its_split(graph, setting):
    task = make_link_task(graph, setting, seed=0)
    moved = task.to("cpu")
    assert moved.fingerprint() == task.fingerprint() and moved.sizes() == task.sizes()
    assert moved.device == torch.device("cpu") and moved.setting == setting
    assert (moved.full_graph is moved.graph) == (setting == "transductive")
    assert torch.equal(moved.train_pos, task.train_pos)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_link_prediction_on_cuda_caches_models_a_cpu_run_can_load(graph, tmp_path):
    task = make_link_task(graph, seed=0)
    config = link_config("tiny", "sage", "llp", FAST)
    run = run_link_prediction(task.to("cuda"), "sage", "llp", config, seed=0, cache=tmp_path)
    assert all(0 <= value <= 100 for value in run["student"].values())
    again = run_link_prediction(task, "sage", "llp", config, seed=0, cache=tmp_path)
    assert again["details"]["teacher"]["cached"] and again["teacher"] == run["teacher"]


def test_a_shared_teacher_is_the_best_on_validation_and_teaches_every_seed(graph, tmp_path):
    task = make_link_task(graph, seed=0)
    config = link_config("tiny", "sage", "llp", FAST)
    teachers = [link_teacher_knowledge(task, "sage", config["teacher"], seed=seed,
                                       cache=tmp_path) for seed in range(3)]
    best = best_link_teacher(task, "sage", config["teacher"], range(3), cache=tmp_path)
    vals = [t.meta["metrics"]["val"] for t in teachers]
    assert best.meta["seed"] == vals.index(max(vals)) and best.meta["cached"]
    assert best.meta["selection"] == {"k": 20, "val": max(vals)}
    runs = [run_link_prediction(task, "sage", "llp", config, seed=seed, knowledge=best,
                                cache=tmp_path) for seed in range(2)]
    assert all(run["teacher"] == best.meta["metrics"] for run in runs)
    assert [run["details"]["teacher"]["seed"] for run in runs] == [best.meta["seed"]] * 2
    own = run_link_prediction(task, "sage", "llp", config, seed=best.meta["seed"],
                              cache=tmp_path)
    assert own["student"] == run_link_prediction(task, "sage", "llp", config,
                                                 seed=best.meta["seed"], knowledge=best,
                                                 cache=tmp_path)["student"]


def test_a_shared_teacher_is_chosen_on_the_selection_hits(graph, tmp_path):
    task = make_link_task(graph, seed=0)
    config = {**link_config("tiny", "sage", "llp", FAST)["teacher"], "select_k": 3}
    teachers = [link_teacher_knowledge(task, "sage", config, seed=seed, cache=tmp_path)
                for seed in range(3)]
    with torch.no_grad():
        hits3 = [validation_hits(t.embeddings, t.model, task, 3) for t in teachers]
    best = best_link_teacher(task, "sage", config, range(3), cache=tmp_path)
    assert best.meta["seed"] == hits3.index(max(hits3))
    assert best.meta["selection"] == {"k": 3, "val": max(hits3)}


def test_linkpred_shared_teacher_is_recorded(capsys, tmp_path):
    out = tmp_path / "links.json"
    sets = [f"--set={ns}.{k}={v}" for ns, options in FAST.items() for k, v in options.items()]
    assert main(["linkpred", "--dataset", "synthetic:nodes=200,degree=6,features=8,classes=3",
                 "--seeds", "2", "--shared-teacher", "--output", str(out), *sets]) == 0
    assert "one shared teacher" in capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["task"]["shared_teacher"] is True
    assert result["runs"][0]["teacher"] == result["runs"][1]["teacher"]
    assert result["summary"]["teacher"]["test"]["std"] == 0.0


SYNTHETIC = "synthetic:nodes=160,degree=6,features=8,classes=3"


def _linkpred(tmp_path, *args):
    sets = [f"--set={ns}.{k}={v}" for ns, options in FAST.items() for k, v in options.items()]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GKD_CACHE_DIR", str(tmp_path / "cache"))
        return main(["linkpred", "--dataset", SYNTHETIC, "--output",
                     str(tmp_path / "links.json"), *sets, *args])


def test_linkpred_resume_trains_only_the_missing_seeds(capsys, tmp_path, monkeypatch):
    import gkd.linkpred

    assert _linkpred(tmp_path, "--seeds", "1") == 0
    first = json.loads((tmp_path / "links.json").read_text())
    trained = []
    run = gkd.linkpred.run_link_prediction
    monkeypatch.setattr(gkd.linkpred, "run_link_prediction",
                        lambda *a, seed, **k: trained.append(seed) or run(*a, seed=seed, **k))
    assert _linkpred(tmp_path, "--seeds", "2", "--resume") == 0
    assert "reused from" in capsys.readouterr().err and trained == [1]
    result = json.loads((tmp_path / "links.json").read_text())
    assert result["runs"][0] == first["runs"][0] and [r["seed"] for r in result["runs"]] == [0, 1]
    assert result["complete"] and result["resumed"][0]["seeds"] == [0]
    assert result["resumed"][0]["command"] == first["command"]


def test_linkpred_writes_every_finished_seed(tmp_path, monkeypatch):
    import gkd.linkpred

    run = gkd.linkpred.run_link_prediction

    def stop_after_seed_0(*args, seed, **kwargs):
        if seed == 1:
            raise KeyboardInterrupt
        return run(*args, seed=seed, **kwargs)

    monkeypatch.setattr(gkd.linkpred, "run_link_prediction", stop_after_seed_0)
    assert _linkpred(tmp_path, "--seeds", "3") == 130
    partial = json.loads((tmp_path / "links.json").read_text())
    assert [r["seed"] for r in partial["runs"]] == [0] and partial["complete"] is False


def test_an_interrupted_resume_keeps_every_stored_seed(tmp_path, monkeypatch):
    import gkd.linkpred

    assert _linkpred(tmp_path, "--seeds", "3") == 0
    path = tmp_path / "links.json"
    full = json.loads(path.read_text())
    gap = {**full, "runs": [full["runs"][0], full["runs"][2]]}
    path.write_text(json.dumps(gap))
    before = path.read_text()

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(gkd.linkpred, "run_link_prediction", interrupt)
    assert _linkpred(tmp_path, "--seeds", "3", "--resume") == 130
    assert path.read_text() == before  # nothing trained, nothing rewritten

    def seed_1_then_interrupt(*args, seed, **kwargs):
        if seed == 1:
            return full["runs"][1]
        raise KeyboardInterrupt

    monkeypatch.setattr(gkd.linkpred, "run_link_prediction", seed_1_then_interrupt)
    assert _linkpred(tmp_path, "--seeds", "4", "--resume") == 130
    resumed = json.loads(path.read_text())  # seed 2 was stored ahead of the trained seed 1
    assert resumed["runs"] == full["runs"] and resumed["complete"] is False


@pytest.mark.parametrize("args, message", [
    (["--set", "distiller.margin=0.2"], "its config differs from this command's in "
                                        "distiller.margin"),
    (["--method", "repr"], "its task differs from this command's in method"),
    (["--seeds", "1"], "it holds seed 1, outside the seeds 0..0 of --seeds 1"),
])
def test_linkpred_resume_refuses_another_experiment(capsys, tmp_path, args, message):
    assert _linkpred(tmp_path, "--seeds", "2") == 0
    capsys.readouterr()
    assert _linkpred(tmp_path, "--seeds", "3", "--resume", *args) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and "cannot resume" in err[-1]


def test_linkpred_resume_refuses_runs_of_other_data(capsys, tmp_path):
    assert _linkpred(tmp_path, "--seeds", "1") == 0
    path = tmp_path / "links.json"
    stored = json.loads(path.read_text())
    run = stored["runs"][0]
    assert run["fingerprint"] == make_link_task(load_dataset(SYNTHETIC)).fingerprint()
    path.write_text(json.dumps({**stored, "runs": [{**run, "fingerprint": "0" * 24}]}))
    capsys.readouterr()
    assert _linkpred(tmp_path, "--seeds", "2", "--resume") == 2
    assert "seed 0 was trained on other data or another split" in capsys.readouterr().err
    del run["fingerprint"]  # a file from before fingerprints: taken on its description
    path.write_text(json.dumps(stored))
    assert _linkpred(tmp_path, "--seeds", "2", "--resume") == 0


@pytest.mark.parametrize("change, message", [
    (lambda runs: runs[1]["teacher"].update(test="abc"), "seed 1 lacks finite scores or details"),
    (lambda runs: runs[1]["student"].update(test=None), "seed 1 lacks finite scores or details"),
    (lambda runs: runs[1]["details"].pop("teacher"), "seed 1 lacks finite scores or details"),
    (lambda runs: runs.append({**runs[1]}), "seed 1 is not an integer or is stored twice"),
    (lambda runs: runs.append({**runs[1], "seed": -1}), "it holds seed -1, outside the "
                                                        "seeds 0..1"),
])
def test_linkpred_resume_refuses_damaged_runs(capsys, tmp_path, change, message):
    assert _linkpred(tmp_path, "--seeds", "2") == 0
    path = tmp_path / "links.json"
    stored = json.loads(path.read_text())
    change(stored["runs"])
    path.write_text(json.dumps(stored))
    capsys.readouterr()
    assert _linkpred(tmp_path, "--seeds", "2", "--resume") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and "Traceback" not in "".join(err)


def test_a_resume_with_every_seed_stored_leaves_the_file_as_it_was(capsys, tmp_path):
    assert _linkpred(tmp_path, "--seeds", "2") == 0
    before = (tmp_path / "links.json").read_text()
    assert _linkpred(tmp_path, "--seeds", "2", "--resume") == 0
    assert "already held every seed" in capsys.readouterr().out
    assert (tmp_path / "links.json").read_text() == before


@pytest.mark.parametrize("content", ["{not json", '{"task": {}}',
                                     '{"task": {}, "config": {}, "runs": [{"seed": 0}], '
                                     '"command": "", "env": {}}'])
def test_linkpred_resume_reports_a_broken_file_in_one_line(capsys, tmp_path, content):
    (tmp_path / "links.json").write_text(content)
    assert _linkpred(tmp_path, "--seeds", "2", "--resume") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "cannot resume from" in err[-1] and "Traceback" not in "".join(err)
    assert (tmp_path / "links.json").read_text() == content  # left as it was


def test_linkpred_resume_needs_output(capsys):
    assert main(["linkpred", "--dataset", SYNTHETIC, "--resume"]) != 0
    assert "--resume needs --output" in capsys.readouterr().err


def test_a_disjoint_epoch_passes_no_message_over_its_target_edges(graph):
    from gkd.link_teachers import _disjoint_targets

    task = make_link_task(graph, seed=0)
    pos, n = task.train_pos, graph.num_nodes
    targets, adj = _disjoint_targets(pos, n, 0.3)
    assert targets.size(1) == round(0.3 * pos.size(1))
    dense = adj.to_dense()
    assert dense[targets[1], targets[0]].sum() == 0 and dense[targets[0], targets[1]].sum() == 0
    rest = pos[:, targets.size(1):]
    assert bool((dense[rest[1], rest[0]] == 1).all() and (dense[rest[0], rest[1]] == 1).all())
    assert dense.sum() == 2 * rest.size(1)


def test_disjoint_training_changes_the_teacher(graph, tmp_path):
    task = make_link_task(graph, seed=0)
    config = link_config("tiny", "sage", "llp", FAST)["teacher"]

    def trained(options):
        model, meta = cached_link_model(
            task, "sage", options, seed=0,
            build=lambda: build_link_teacher("sage", task.num_features, options),
            train=lambda m: train_link_teacher(m, task, options),
            folder="link-teachers", cache=tmp_path)
        return model, meta["cached"]

    plain, _ = trained(config)
    disjoint, cached = trained({**config, "disjoint_ratio": 0.5})
    assert not cached
    assert any(not torch.equal(a, b) for a, b in zip(plain.state_dict().values(),
                                                     disjoint.state_dict().values()))


@pytest.mark.parametrize("ratio", [0, 1, 1.5, -0.1, True, "half"])
def test_a_disjoint_ratio_outside_the_unit_interval_is_named(ratio):
    from gkd.link_teachers import link_teacher_config

    with pytest.raises(GkdError, match=r"disjoint_ratio must be in \(0, 1\)"):
        link_teacher_config("sage", "cora", {"disjoint_ratio": ratio})


def test_link_knowledge_scores_with_the_teacher_in_eval_mode(graph):
    from gkd.link_teachers import build_link_teacher, link_teacher_config

    teacher = build_link_teacher("sage", 8, link_teacher_config("sage"))  # dropout 0.5
    assert teacher.training
    knowledge = LinkKnowledge(torch.randn(10, 256), teacher)
    pairs = torch.tensor([[0, 1, 2], [3, 4, 5]])
    assert not teacher.training and torch.equal(knowledge.score(pairs), knowledge.score(pairs))


def test_link_configurations_are_checked_whole(graph):
    with pytest.raises(GkdError, match="unknown option namespace\\(s\\) 'teachr'"):
        link_config(None, "sage", "llp", {"teachr": {"lr": 1}})
    task = make_link_task(graph, seed=0)
    with pytest.raises(GkdError, match="the link configuration lacks teacher, student"):
        run_link_prediction(task, "sage", "llp", {"distiller": {}})
    config = link_config("tiny", "sage", "llp", FAST)
    del config["student"]["num_layers"]
    with pytest.raises(GkdError, match="link student configuration: missing num_layers"):
        run_link_prediction(task, "sage", "llp", config)
