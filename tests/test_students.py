import json

import pytest
import torch

import gkd
from gkd.cli import main
from gkd.errors import GkdError
from gkd.io import save_torch
from gkd.linkpred import build_link_student
from gkd.nn.link_predictor import LinkPredictor
from gkd.students import load_student, save_student

SMALL = "synthetic:nodes=300,degree=6,features=12,classes=3"


@pytest.mark.parametrize("norm", [None, "batch_norm", "layer_norm"])
def test_a_saved_student_predicts_as_the_trained_one(tmp_path, norm):
    torch.manual_seed(0)
    student = gkd.MLP(6, 8, 3, num_layers=3, dropout=0.3, norm=norm)
    x = torch.randn(20, 6)
    student.train()
    student(x)  # moves the batch-norm statistics away from their initial values
    student.eval()
    path = save_student(tmp_path / "sub" / "student.pt", student, {"dataset": "toy", "seed": 2})
    loaded, meta = load_student(path)
    assert meta == {"dataset": "toy", "seed": 2}
    assert not loaded.training and loaded.norm == norm and loaded.dropout == 0.3
    assert torch.equal(loaded(x), student(x))
    assert not list(path.parent.glob(".*tmp"))  # the atomic write left no temporary file


def test_a_saved_float64_student_loads_in_float64(tmp_path):
    student = gkd.MLP(6, 8, 3, norm="batch_norm").double().eval()
    loaded, _ = load_student(save_student(tmp_path / "student.pt", student))
    x = torch.randn(5, 6, dtype=torch.float64)
    assert torch.equal(loaded(x), student(x))


def test_a_saved_link_student_scores_pairs_as_the_trained_one(tmp_path):
    torch.manual_seed(0)
    student = build_link_student(6, {"hidden_channels": 8, "num_layers": 2, "dropout": 0.5,
                                     "decoder_layers": 3}).eval()
    x, pairs = torch.randn(20, 6), torch.randint(0, 20, (2, 15))
    loaded, meta = load_student(save_student(tmp_path / "link.pt", student, {"seed": 1}))
    assert isinstance(loaded, LinkPredictor) and loaded.graph_free and meta == {"seed": 1}
    assert loaded.decoder.mlp.num_layers == 3 and loaded.decoder.mlp.dropout == 0.5
    assert torch.equal(loaded.score(loaded.encode(x), pairs),
                       student.score(student.encode(x), pairs))


def test_bad_students_and_student_files_are_named(tmp_path):
    with pytest.raises(GkdError, match="writes gkd.MLP students and graph-free "
                                       "LinkPredictors with an MLP encoder; got Linear"):
        save_student(tmp_path / "s.pt", torch.nn.Linear(2, 2))
    gnn = LinkPredictor(torch.nn.Linear(2, 4), 4)
    with pytest.raises(GkdError, match="got LinkPredictor"):
        save_student(tmp_path / "s.pt", gnn)
    with pytest.raises(GkdError, match="student meta must hold JSON values"):
        save_student(tmp_path / "s.pt", gkd.MLP(2, 4, 2), {"x": torch.zeros(1)})
    assert not (tmp_path / "s.pt").exists()
    with pytest.raises(GkdError, match="student file '.*nope.pt' does not exist"):
        load_student(tmp_path / "nope.pt")
    knowledge = gkd.Knowledge(torch.randn(3, 2), None, {}).save(tmp_path / "k.pt")
    with pytest.raises(GkdError, match="k.pt' is not a gkd student file$"):
        load_student(knowledge)
    save_torch(tmp_path / "old.pt", {"kind": "student", "format": 0})
    with pytest.raises(GkdError, match="not a gkd student file of format 1"):
        load_student(tmp_path / "old.pt")
    path = save_student(tmp_path / "s.pt", gkd.MLP(2, 4, 2))
    saved = torch.load(path, weights_only=True)
    for arguments in ({"in_channels": 2}, {**saved["arguments"], "model": "GCN"},
                      {"model": "LinkPredictor", "encoder": None, "embedding_channels": 4,
                       "decoder_layers": 2, "dropout": 0.0}):
        save_torch(path, {**saved, "arguments": arguments})
        with pytest.raises(GkdError, match="its arguments describe neither an MLP"):
            load_student(path)
    save_torch(path, {**saved, "arguments": {**saved["arguments"], "hidden_channels": 0}})
    with pytest.raises(GkdError, match="damaged student file: MLP hidden_channels"):
        load_student(path)
    link = {"model": "LinkPredictor", "encoder": saved["arguments"], "embedding_channels": -3,
            "decoder_layers": 2, "dropout": 0.0}
    save_torch(path, {**saved, "arguments": link})
    with pytest.raises(GkdError, match="damaged student file: MLP in_channels"):
        load_student(path)
    wider = {**saved["arguments"], "hidden_channels": 5}
    save_torch(path, {**saved, "arguments": wider})
    with pytest.raises(GkdError, match=r"its weights do not fit MLP\(2, 5, 2"):
        load_student(path)


def test_distill_saves_every_seeds_student(capsys, tmp_path):
    out, folder = tmp_path / "run.json", tmp_path / "students"
    code = main(["distill", "--dataset", SMALL, "--seeds", "2", "--no-cache",
                 "--set", "teacher.max_epochs=5", "--set", "distiller.max_epochs=5",
                 "--save-students", str(folder), "--output", str(out)])
    assert code == 0, capsys.readouterr().err
    runs = json.loads(out.read_text())["runs"]
    data = gkd.load_dataset(SMALL)
    for run in runs:
        path = folder / f"student-seed{run['seed']}.pt"
        assert run["details"]["student"]["file"] == str(path)
        student, meta = load_student(path)
        task = gkd.make_node_task(data, "cpf", seed=run["seed"])
        assert meta["metrics"] == run["student"] == gkd.evaluate(task, lambda g: student(g.x))
        assert meta["fingerprint"] == task.fingerprint()
        assert (meta["task"]["seed"], meta["method"], meta["teacher"]) == (run["seed"], "glnn",
                                                                           "sage")


def test_distill_checks_the_student_folder_before_training(capsys, tmp_path):
    (tmp_path / "a_file").write_text("x")
    code = main(["distill", "--dataset", SMALL, "--seeds", "1",
                 "--save-students", str(tmp_path / "a_file")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "is not a folder" in err[0], err


def test_linkpred_saves_every_seeds_student(capsys, tmp_path):
    out, folder = tmp_path / "links.json", tmp_path / "students"
    sets = ["--set=teacher.hidden_channels=16", "--set=teacher.max_epochs=8",
            "--set=student.hidden_channels=16", "--set=distiller.max_epochs=8"]
    assert main(["linkpred", "--dataset", SMALL, "--seeds", "2", "--no-cache",
                 "--save-students", str(folder), "--output", str(out), *sets]) == 0
    capsys.readouterr()
    for run in json.loads(out.read_text())["runs"]:
        path = folder / f"student-seed{run['seed']}.pt"
        assert run["details"]["student"]["file"] == str(path)
        student, meta = load_student(path)
        assert isinstance(student, LinkPredictor)
        assert (meta["seed"], meta["method"], meta["metrics"]) == (run["seed"], "llp",
                                                                   run["student"])


def test_bench_saves_the_student_of_every_run_it_trains(capsys, tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text(f'datasets = ["{SMALL}"]\nseeds = 2\nresults = "out"\n'
                    "[set.teacher]\nmax_epochs = 5\n[set.distiller]\nmax_epochs = 5\n")
    folder = tmp_path / "students"
    argv = ["bench", "--config", str(grid), "--no-progress", "--save-students", str(folder)]
    assert main(argv) == 0
    capsys.readouterr()
    records = [json.loads(line) for line in (tmp_path / "out" / "node.jsonl").open()]
    data = gkd.load_dataset(SMALL)
    for record in records:
        path = folder / (f"{SMALL}-cpf-transductive-sage-glnn-seed{record['seed']}-"
                         f"{record['config_id']}.pt")
        assert record["details"]["student"]["file"] == str(path)
        student, meta = load_student(path)
        task = gkd.make_node_task(data, "cpf", seed=record["seed"])
        assert meta["metrics"] == record["student"] == gkd.evaluate(task,
                                                                    lambda g: student(g.x))
    (tmp_path / "a_file").write_text("x")
    assert main([*argv[:-1], str(tmp_path / "a_file")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a folder" in err[0], err
