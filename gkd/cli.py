"""The ``gkd`` command line."""
from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from gkd.config import parse_value
from gkd.errors import GkdError, first_line
from gkd.io import file_lock, writable_folder

NAMESPACES = ("teacher", "student", "distiller")


class _Parser(argparse.ArgumentParser):
    """Reports usage errors as one line, without the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str, limit: int = 2**31, limit_text: str = "below 2**31") -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    if value >= limit:
        raise argparse.ArgumentTypeError(f"must be {limit_text}, got {value}")
    return value


def _seed_count(text: str) -> int:
    return _positive_int(text, 2**32 + 1, "at most 2**32 (seeds are 0..N-1 below 2**32)")


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got '{text}'") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def _parse_sets(items: Sequence[str], namespaces: Sequence[str] = NAMESPACES
                ) -> dict[str, dict[str, Any]]:
    overrides: dict[str, dict[str, Any]] = {ns: {} for ns in namespaces}
    for item in items:
        key, sep, value = item.partition("=")
        namespace, dot, option = key.partition(".")
        if not sep or not dot or namespace not in namespaces or not option:
            raise GkdError(f"--set takes NAMESPACE.OPTION=VALUE with NAMESPACE one of "
                           f"{', '.join(namespaces)}; got '{item}'")
        overrides[namespace][option] = parse_value(value)
    return overrides


def _check_writable(path: str | Path | None, option: str = "--output") -> None:
    r"""Fails before any training when :obj:`path` (given by :obj:`option`) cannot be
    written: a temporary file is created (and removed) in its nearest existing folder,
    which also catches file systems that refuse writes to root; missing folders are
    created only when the results are written."""
    if path is None:
        return
    if not str(path):
        raise GkdError(f"{option} needs a file name")
    if str(path).endswith(("/", os.sep)):  # pathlib would drop the slash and write a file
        raise GkdError(f"cannot write {option} '{path}': it names a folder; give a file path")
    existing = writable_folder(path)
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise GkdError(f"cannot write {option} {path}: {error.strerror} ({existing})") from None


def _device(text: str) -> str:
    import torch

    try:
        kind = torch.device(text).type
    except RuntimeError:
        kind = None
    if kind not in ("cpu", "cuda"):
        raise argparse.ArgumentTypeError(f"expected cpu or cuda[:N], got '{text}'")
    if kind == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(f"'{text}': CUDA is not available on this machine")
    return text


@contextlib.contextmanager
def _output_held(args: argparse.Namespace) -> Iterator[None]:
    r"""Holds a lock on the command's ``--output`` file (``.NAME.lock`` beside it) while the
    command runs, so that a second command writing the same file is refused instead of
    overwriting the first one's runs; commands without ``--output`` take none."""
    output = getattr(args, "output", None)
    if not output or str(output).endswith(("/", os.sep)) or Path(output).is_dir():
        yield  # nothing to write, or a path the command itself refuses
        return
    path = Path(output)
    with contextlib.ExitStack() as stack:
        held = True
        if path.parent.is_dir():  # a missing one is created only when results are written
            try:
                held = stack.enter_context(file_lock(path.parent / f".{path.name}.lock",
                                                     wait=False))
            except OSError:  # a folder that takes no files: the command names it
                pass
        if not held:
            raise GkdError(f"another gkd command is writing to '{path}'")
        yield


def _write_output(args: argparse.Namespace, record: dict[str, Any],
                  started: float | None = None, quiet: bool = False) -> None:
    r"""Writes :obj:`record` with the command line (and the wall-clock seconds since
    :obj:`started`) atomically to ``--output``, if given."""
    if args.output is None:
        return
    from gkd.io import write_json

    seconds = {} if started is None else {"seconds": round(time.perf_counter() - started, 1)}
    write_json(args.output, {**record, **seconds, "command": shlex.join(["gkd", *args.argv])})
    if not quiet:
        print(f"\nwrote {args.output}")


def _run_seeds(args: argparse.Namespace, run_seed: Callable[[int], dict[str, Any]],
              progress: Callable[[dict[str, Any]], str],
              record: Callable[[list[dict[str, Any]]], dict[str, Any]],
              started: float, stored: dict[int, dict[str, Any]] | None = None
              ) -> list[dict[str, Any]]:
    r"""Runs seeds ``0..args.seeds - 1`` in turn, printing each run's :obj:`progress` line
    and rewriting ``--output`` with the :obj:`record` of the runs so far after every seed
    trained, so that an interrupted command keeps its finished seeds.

    Args:
        args (argparse.Namespace): the command's arguments (``seeds``, ``output``).
        run_seed (Callable): trains and scores one seed; returns its run record.
        progress (Callable): the scores of a run, for its progress line.
        record (Callable): the JSON record of a list of runs.
        started (float): when the command started (:func:`time.perf_counter`).
        stored (dict, optional): runs by seed kept from ``--output`` (:func:`_stored_runs`),
            not trained again; every write keeps those of later seeds.

    Returns:
        list: the runs, in seed order.
    """
    stored = stored or {}
    runs: list[dict[str, Any]] = []
    for seed in range(args.seeds):
        start = time.perf_counter()
        run, note = stored.get(seed), f" (reused from {args.output})"
        if run is None:
            run, note = run_seed(seed), ""
            ahead = [stored[later] for later in sorted(stored) if later > seed]
            _write_output(args, record([*runs, run, *ahead]), started, quiet=True)
        runs.append(run)
        print(f"  seed {seed + 1}/{args.seeds}  {progress(run)}  "
              f"[{time.perf_counter() - start:.1f}s]{note}", file=sys.stderr, flush=True)
    return runs


def _finish(args: argparse.Namespace, record: dict[str, Any], started: float,
            stored: dict[int, dict[str, Any]]) -> None:
    r"""Writes the final :obj:`record` to ``--output``, unless every seed came from it."""
    if len(stored) == args.seeds:
        print(f"\n{args.output} already held every seed; left as it was")
    else:
        _write_output(args, record, started)


def _stored_runs(args: argparse.Namespace, expected: dict[str, Any], models: tuple[str, ...],
                 fingerprint_of: Callable[[int], str] | None = None
                 ) -> tuple[dict[int, dict[str, Any]], list[dict[str, Any]]]:
    r"""With ``--resume``, the runs of ``--output`` by seed and the earlier commands that
    made them (none without ``--resume`` or when the file does not exist yet), after
    checking that the file holds the :obj:`expected` top-level entries (``task``,
    ``config``, ...; dotted keys that differ are named), that every run has
    an integer seed in ``0..args.seeds - 1`` (once) and finite scores of each of
    :obj:`models`, and, for runs that record one, that :obj:`fingerprint_of` their seed
    gives their task's fingerprint (the same data and split).

    Raises:
        GkdError: the file cannot be read or differs in any of these; the message names it.
    """
    import json
    import math

    if args.resume and args.output is None:
        raise GkdError("--resume needs --output: the file whose runs to keep")
    path = Path(args.output) if args.resume else None
    if path is None or not path.is_file():
        return {}, []

    def finite(scores: Any) -> bool:
        return isinstance(scores, dict) and "test" in scores and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in scores.values())

    def unreadable(error: Exception) -> GkdError:
        return GkdError(f"cannot resume from {path}: not a gkd {args.command} result ({error})")

    try:
        saved = json.loads(path.read_text())
        same = {key: saved[key] for key in expected}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise unreadable(error) from None
    for key, now in expected.items():
        differ = _differing_keys(same[key], json.loads(json.dumps(now)))
        if differ:
            raise GkdError(f"cannot resume from {path}: its {key} differs from this "
                           f"command's in {', '.join(differ)}")
    try:
        runs: dict[int, dict[str, Any]] = {}
        for run in saved["runs"]:
            seed = run["seed"]
            if not isinstance(seed, int) or isinstance(seed, bool) or seed in runs:
                raise ValueError(f"seed {seed!r} is not an integer or is stored twice")
            if not all(finite(run.get(model)) and isinstance(run["details"].get(model), dict)
                       for model in models):
                raise ValueError(f"seed {seed} lacks finite scores or details of "
                                 f"{', '.join(models)}")
            runs[seed] = run
        earlier = saved.get("resumed", []) + [
            {"command": saved["command"], "env": saved["env"], "seconds": saved.get("seconds"),
             "seeds": sorted(runs)}]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise unreadable(error) from None
    outside = [seed for seed in sorted(runs) if not 0 <= seed < args.seeds]
    if outside:
        raise GkdError(f"cannot resume from {path}: it holds seed {outside[-1]}, outside "
                       f"the seeds 0..{args.seeds - 1} of --seeds {args.seeds}; resuming "
                       f"would drop it")
    for seed, run in sorted(runs.items()):
        if fingerprint_of is not None and "fingerprint" in run \
                and run["fingerprint"] != fingerprint_of(seed):
            raise GkdError(f"cannot resume from {path}: its run of seed {seed} was trained "
                           f"on other data or another split (the task's fingerprint "
                           f"differs: the data root's files or gkd's split code changed)")
    return runs, earlier


def _distill(args: argparse.Namespace) -> None:
    from gkd.data.datasets import load_dataset
    from gkd.data.tasks import PLANETOID, dataset_for_protocol, default_protocol, make_node_task
    from gkd.evaluation import headline_metric
    from gkd.experiment import (
        environment,
        format_summary,
        node_config,
        run_node_distillation,
        summarize,
    )

    started = time.perf_counter()
    args.dataset = args.dataset.lower()
    args.protocol = args.protocol or default_protocol(args.dataset)
    _check_writable(args.output)
    _check_writable(_student_file(args, 0), "--save-students")
    config = node_config(args.dataset, args.teacher, args.method, _parse_sets(args.set))
    source = dataset_for_protocol(args.dataset, args.protocol)
    data = load_dataset(source, args.root).to(args.device)
    described = {"dataset": args.dataset, "protocol": args.protocol, "setting": args.setting,
                 "teacher": args.teacher, "method": args.method}
    print(f"gkd distill: {' · '.join(described.values())} · {args.seeds} seed(s)",
          file=sys.stderr)
    metric = headline_metric(args.protocol, args.setting)

    def make_task(seed: int) -> Any:
        return make_node_task(data, args.protocol, setting=args.setting, seed=seed,
                              info={"dataset": args.dataset, "source": source})

    stored, earlier = _stored_runs(args, {"task": described, "config": config},
                                   ("teacher", "mlp", "student"),
                                   lambda seed: make_task(seed).fingerprint())

    def run_seed(seed: int) -> dict[str, Any]:
        return run_node_distillation(make_task(seed), args.teacher, args.method, config,
                                     use_cache=not args.no_cache,
                                     save_to=_student_file(args, seed))

    def progress(run: dict[str, Any]) -> str:
        scores = "  ".join(f"{m} {run[m][metric]:.2f}" for m in ("teacher", "mlp", "student"))
        return f"{metric}: {scores}" + (" (teacher cached)"
                                         if run["details"]["teacher"].get("cached") else "")

    def record(runs: list[dict[str, Any]]) -> dict[str, Any]:
        return {"task": described, "config": config, "runs": runs, "summary": summarize(runs),
                "complete": len(runs) == args.seeds, "env": environment(args.device),
                **({"resumed": earlier} if earlier else {})}

    runs = _run_seeds(args, run_seed, progress, record, started, stored)
    std_note = "sample std over seeds (ddof=1)"
    planetoid_krd = args.protocol == "krd" and args.dataset in PLANETOID
    if args.protocol in ("cpf", "random") or (args.protocol == "krd" and not planetoid_krd):
        std_note += ", split redrawn per seed"
    elif args.setting == "inductive" and not planetoid_krd:
        std_note += ", inductive hold-out redrawn per seed"
    print(f"\n{' · '.join(described.values())} · {args.seeds} seed(s) · "
          f"accuracy % (mean ± {std_note})")
    print(format_summary(summarize(runs)))
    if args.setting == "inductive":
        print("test_ind: the teacher sees the held-out nodes with their edges restored (the "
              "full graph); the MLP and the student see their features only")
    _finish(args, record(runs), started, stored)


def _student_file(args: argparse.Namespace, seed: int) -> Path | None:
    r"""Where ``--save-students`` puts the student of :obj:`seed` (``None`` without it);
    ``gkd bench`` names its students otherwise and checks this path for write access."""
    if args.save_students is None:
        return None
    if not args.save_students:
        raise GkdError("--save-students needs a folder")
    return Path(args.save_students) / f"student-seed{seed}.pt"


def _linkpred(args: argparse.Namespace) -> None:
    from gkd.data.datasets import load_dataset
    from gkd.data.links import make_link_task, production_new_ratio
    from gkd.experiment import environment, format_summary, summarize
    from gkd.link_teachers import best_link_teacher
    from gkd.linkpred import check_hits_k, link_config, run_link_prediction

    started = time.perf_counter()
    args.dataset = args.dataset.lower()
    _check_writable(args.output)
    _check_writable(_student_file(args, 0), "--save-students")
    config = link_config(args.dataset, args.teacher, args.method, _parse_sets(args.set))
    if args.setting == "transductive" and args.new_ratio is not None:
        raise GkdError("--new-ratio sets the production split; the transductive one takes "
                       "--test-ratio")
    if args.setting == "production" and args.test_ratio is not None:
        raise GkdError("--test-ratio sets the transductive split; the production one takes "
                       "--new-ratio")
    task = make_link_task(load_dataset(args.dataset, args.root), args.setting,
                          seed=args.split_seed, test_ratio=args.test_ratio or 0.15,
                          new_ratio=args.new_ratio or production_new_ratio(args.dataset),
                          info={"dataset": args.dataset}).to(args.device)
    check_hits_k(task, config["distiller"])
    k = config["distiller"]["hits_k"]
    described = {"dataset": args.dataset, "setting": args.setting, "teacher": args.teacher,
                 "method": args.method, **task.info, "split_seed": args.split_seed,
                 "metric": f"hits@{k}", "shared_teacher": args.shared_teacher}
    select_k = config["distiller"]["select_k"]
    selection = "" if select_k is None else f" · selected on validation hits@{select_k}"
    info = task.info
    ratio = (f"val {100 * info['val_ratio']:g} % / test {100 * info['test_ratio']:g} % of the "
             f"edges" if args.setting == "transductive" else
             f"{100 * info['new_ratio']:g} % new nodes")
    print(f"gkd linkpred: {args.dataset} · {args.setting} · {args.teacher} · {args.method} · "
          f"{args.seeds} seed(s) · split {ratio}: {task.sizes()}{selection}", file=sys.stderr)
    fingerprint = task.fingerprint()
    stored, earlier = _stored_runs(args, {"task": described, "config": config},
                                   ("teacher", "mlp", "student"), lambda seed: fingerprint)
    knowledge = None
    if args.shared_teacher:
        knowledge = best_link_teacher(task, args.teacher, config["teacher"], range(args.seeds),
                                      use_cache=not args.no_cache)
        chosen = knowledge.meta["selection"]
        print(f"  shared teacher: seed {knowledge.meta['seed']}, the best validation "
              f"Hits@{chosen['k']} ({chosen['val']:.2f}) of seeds 0-{args.seeds - 1}",
              file=sys.stderr)
        other = sorted({run["details"]["teacher"].get("seed") for run in stored.values()}
                       - {knowledge.meta["seed"]})
        if other:
            raise GkdError(f"cannot resume from {args.output}: its runs learnt from the "
                           f"teacher of seed {other[0]}; with {args.seeds} seeds the shared "
                           f"teacher is seed {knowledge.meta['seed']}")

    def run_seed(seed: int) -> dict[str, Any]:
        return run_link_prediction(task, args.teacher, args.method, config, seed=seed,
                                   knowledge=knowledge, use_cache=not args.no_cache,
                                   save_to=_student_file(args, seed))

    def progress(run: dict[str, Any]) -> str:
        scores = "  ".join(f"{m} {run[m]['test']:.2f}" for m in ("teacher", "mlp", "student"))
        cached = [m for m in ("teacher", "mlp") if run["details"][m].get("cached")]
        return f"test: {scores}" + (f" ({' and '.join(cached)} cached)" if cached else "")

    def record(runs: list[dict[str, Any]]) -> dict[str, Any]:
        return {"task": described, "config": config, "runs": runs, "summary": summarize(runs),
                "complete": len(runs) == args.seeds, "env": environment(args.device),
                **({"resumed": earlier} if earlier else {})}

    runs = _run_seeds(args, run_seed, progress, record, started, stored)
    print(f"\n{args.dataset} · {args.setting} · {args.teacher} · {args.method} · "
          f"{args.seeds} seed(s) · Hits@{k} % (mean ± sample std over seeds (ddof=1), "
          f"one split, {'one shared teacher' if args.shared_teacher else 'teacher per seed'})")
    print(format_summary(summarize(runs)))
    _finish(args, record(runs), started, stored)


def _differing_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    r"""The dotted keys whose values differ between two JSON objects."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return [] if old == new else [prefix.rstrip(".") or "(all)"]
    return [key for name in sorted(old.keys() | new.keys())
            for key in _differing_keys(old.get(name), new.get(name), f"{prefix}{name}.")]


def _ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {value}")
    return value


def _batch_sizes(text: str) -> tuple[int, ...]:
    return tuple(_positive_int(part) for part in text.split(","))


def _speed(args: argparse.Namespace) -> None:
    import torch

    from gkd.bench.speed import format_speed
    from gkd.bench.timing import TimingBudget
    from gkd.experiment import environment, hardware_line

    args.dataset = args.dataset.lower()
    _check_writable(args.output)
    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = _parse_sets(args.set)
    if overrides.get("distiller"):
        raise GkdError("gkd speed times untrained models: distiller options have no effect "
                       "(set the models' teacher.* and student.* options)")
    prepare = _link_speed if args.task == "link" else _node_speed
    described, config, compare = prepare(args, overrides)
    env = environment(args.device)
    print(f"gkd speed: {args.dataset} · {args.task} · {args.setting} · teacher {args.teacher} "
          f"({compare.keywords['num_hops']} hops) vs MLP", file=sys.stderr)
    result = compare(batch_sizes=args.batch_sizes, device=args.device, seed=args.seed,
                     budget=TimingBudget(max_seconds=args.max_seconds))
    print(f"{format_speed(result)}\n{hardware_line(env)}")
    _write_output(args, {"task": described, "config": config, "env": env, **result})


def _refuse_training_options(overrides: dict[str, dict[str, Any]],
                             options: Sequence[str]) -> None:
    training = sorted(set(overrides.get("teacher", {})) & set(options))
    if training:
        raise GkdError(f"gkd speed times untrained models: teacher training options "
                       f"({', '.join(training)}) have no effect (set the models' teacher.* "
                       f"and student.* options)")


def _node_speed(args: argparse.Namespace, overrides: dict[str, dict[str, Any]]
                ) -> tuple[dict[str, Any], dict[str, Any], functools.partial]:
    import torch

    from gkd.bench.speed import compare_speed
    from gkd.data.tasks import SETTINGS, default_protocol, load_node_task
    from gkd.experiment import node_config
    from gkd.nn import MLP
    from gkd.teachers import TRAINING_OPTIONS, build_teacher

    args.setting = _speed_setting(args, SETTINGS, "inductive")
    args.protocol = args.protocol or default_protocol(args.dataset)
    _refuse_training_options(overrides, TRAINING_OPTIONS)
    config = node_config(args.dataset, args.teacher, "glnn", overrides)
    task = load_node_task(args.dataset, args.protocol, setting=args.setting, seed=args.seed,
                          root=args.root)
    torch.manual_seed(args.seed)
    teacher = build_teacher(args.teacher, task.num_features, task.num_classes,
                            config["teacher"])
    student = MLP(task.num_features, out_channels=task.num_classes, **config["student"])
    hops = config["teacher"]["K"] if args.teacher == "appnp" else config["teacher"]["num_layers"]
    described = {"dataset": args.dataset, "kind": "node", "protocol": args.protocol,
                 "setting": args.setting, "teacher": args.teacher}
    return described, config, functools.partial(compare_speed, task, teacher, student,
                                                num_hops=hops)


def _link_speed(args: argparse.Namespace, overrides: dict[str, dict[str, Any]]
                ) -> tuple[dict[str, Any], dict[str, Any], functools.partial]:
    import torch

    from gkd.bench.speed import compare_link_speed
    from gkd.data.links import LINK_SETTINGS, load_link_task
    from gkd.link_teachers import LINK_TEACHERS, LINK_TRAINING_OPTIONS, build_link_teacher
    from gkd.linkpred import build_link_student, link_config

    if args.teacher not in LINK_TEACHERS:
        raise GkdError(f"--task link takes a link teacher: {', '.join(LINK_TEACHERS)}; got "
                       f"{args.teacher}")
    if args.protocol is not None:
        raise GkdError("--protocol chooses a node split; --task link draws its link split "
                       "(see --setting)")
    args.setting = _speed_setting(args, LINK_SETTINGS, "production")
    _refuse_training_options(overrides, LINK_TRAINING_OPTIONS)
    config = link_config(args.dataset, args.teacher, "llp", overrides)
    del config["distiller"]
    task = load_link_task(args.dataset, args.setting, seed=args.seed, root=args.root)
    torch.manual_seed(args.seed)
    teacher = build_link_teacher(args.teacher, task.num_features, config["teacher"])
    student = build_link_student(task.num_features, config["student"])
    described = {"dataset": args.dataset, "kind": "link", "setting": args.setting,
                 "teacher": args.teacher, **task.info}
    return described, config, functools.partial(compare_link_speed, task, teacher, student,
                                                num_hops=config["teacher"]["num_layers"])


def _speed_setting(args: argparse.Namespace, settings: Sequence[str], default: str) -> str:
    if args.setting is None:
        return default
    if args.setting not in settings:
        raise GkdError(f"--task {args.task} takes --setting {' or '.join(settings)}; got "
                       f"{args.setting}")
    return args.setting


def _bench(args: argparse.Namespace) -> None:
    from gkd.bench.config import BenchConfig
    from gkd.bench.runner import NODE_RESULTS, run_bench
    from gkd.bench.summary import format_paired, format_rows, paired_differences, summary_rows
    from gkd.io import write_json

    config = BenchConfig.from_toml(args.config)
    results = Path(args.results or config.results or Path("results") / Path(args.config).stem)
    _check_writable(_student_file(args, 0), "--save-students")
    records = run_bench(config, results, root=args.root, device=args.device,
                        progress=not args.no_progress, save_students=args.save_students)
    rows, paired = summary_rows(records), paired_differences(records)
    print(f"{len(records)} runs in {results / NODE_RESULTS} · accuracy % "
          f"(mean ± sample std over seeds)")
    print(format_rows(rows))
    if paired:
        print(f"\nstudents against glnn's, paired by seed\n{format_paired(paired)}")
    write_json(results / "summary.json",
               {"config": str(args.config), "rows": rows, "paired": paired})


def _report(args: argparse.Namespace) -> None:
    from gkd.bench.report import load_results, write_report

    if not args.out:
        raise GkdError("--out needs a folder")
    results = load_results(args.results)
    files = write_report(results, args.out)
    print(f"{len(results.records)} run record(s), {len(results.speeds)} speed result(s)")
    for name, path in files.items():
        print(f"wrote {path}")


def _datasets(args: argparse.Namespace) -> None:
    from gkd.data.datasets import DATASETS, data_root, missing_files
    from gkd.data.graphsets import GRAPH_DATASETS

    root = data_root(args.root)
    problem = "" if root.is_dir() else " (is not a folder)" if root.exists() else \
        " (does not exist)"
    print(f"data root: {root}{problem}")
    table = [["name", "kind", "folder", "status"]]
    for kind, registry in (("nodes", DATASETS), ("graphs", GRAPH_DATASETS)):
        for spec in registry.values():
            missing = missing_files(args.root, spec.folder, spec.files)
            status = ("ready" if not missing else
                      f"missing {len(missing)} of {len(spec.files)} files: {missing[0]}"
                      + (", ..." if len(missing) > 1 else ""))
            table.append([spec.name, kind, spec.folder, status])
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    print("synthetic:NAME graphs need no files; layouts and sources: datasets/README.md in "
          "the gkd repository")


def _add_device(parser: argparse.ArgumentParser, what: str = "train and score") -> None:
    parser.add_argument("--device", type=_device, default="cpu",
                        help=f"{what} on cpu or cuda[:N] (default: cpu)")


def _add_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", help="data root (default: $GKD_DATA_ROOT or ./datasets)")


def _add_resume(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--resume", action="store_true",
                        help="keep the runs already in --output (written after every seed) "
                             "when its task, configuration and data match, and train only "
                             "the missing seeds, e.g. to go from 3 to 5 seeds")


def _add_common(parser: argparse.ArgumentParser, written: str, set_help: str) -> None:
    _add_root(parser)
    parser.add_argument("--output", help=f"write {written} as JSON to this path")
    parser.add_argument("--set", action="append", default=[], metavar="NS.OPTION=VALUE",
                        help=set_help)


def _add_experiment(parser: argparse.ArgumentParser, *, teachers: Sequence[str],
                    methods: Sequence[str], default_method: str, settings: Sequence[str],
                    default_seeds: int, cached: str) -> None:
    """The arguments ``distill`` and ``linkpred`` share: what to train and on which data."""
    parser.add_argument("--dataset", required=True, help="dataset name, e.g. cora, a-photo")
    parser.add_argument("--teacher", default="sage", choices=teachers,
                        help="the teacher GNN (default: sage)")
    parser.add_argument("--method", default=default_method, choices=methods,
                        help=f"the distillation method (default: {default_method})")
    parser.add_argument("--setting", default="transductive", choices=settings,
                        help="the evaluation setting (default: transductive)")
    parser.add_argument("--seeds", type=_seed_count, default=default_seeds,
                        help=f"run seeds 0..N-1 (default: {default_seeds})")
    parser.add_argument("--no-cache", action="store_true",
                        help=f"train {cached} afresh and do not store them")
    _add_save_students(parser, "each seed's distilled student to DIR/student-seed<N>.pt")


def _add_save_students(parser: argparse.ArgumentParser, written: str) -> None:
    parser.add_argument("--save-students", metavar="DIR",
                        help=f"write {written} (read it with gkd.load_student)")


def build_parser() -> argparse.ArgumentParser:
    r"""The ``gkd`` argument parser with every sub-command."""
    from gkd import __version__
    from gkd.data.links import LINK_SETTINGS
    from gkd.data.tasks import PROTOCOLS, SETTINGS
    from gkd.distill import DISTILLERS
    from gkd.distill.llp import LINK_DISTILLERS
    from gkd.link_teachers import LINK_TEACHERS
    from gkd.teachers import TEACHERS

    parser = _Parser(prog="gkd", description="Knowledge distillation on graphs.")
    parser.add_argument("--version", action="version", version=f"gkd {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    distill = commands.add_parser(
        "distill", help="train a GNN teacher, a plain MLP and a distilled MLP student",
        description="Train a GNN teacher, a plain MLP (labels only) and a distilled MLP "
                    "student per seed; print mean ± std and optionally write JSON.")
    _add_experiment(distill, teachers=TEACHERS, methods=tuple(DISTILLERS),
                    default_method="glnn", settings=SETTINGS, default_seeds=10,
                    cached="teachers")
    _add_resume(distill)
    distill.add_argument("--protocol", choices=PROTOCOLS,
                         help="split protocol (default: ogb for ogbn-* datasets, cpf otherwise)")
    _add_device(distill)
    _add_common(distill, "the runs and summary", "override a default, e.g. teacher.dropout=0.5, "
                "student.hidden_channels=256, distiller.lamb=0.5; with --method vqgraph the "
                "teacher is a tokenizer and teacher.* also takes num_codes, code_dim, "
                "similarity, feature_weight, edge_weight, ...")
    distill.set_defaults(run=_distill)

    linkpred = commands.add_parser(
        "linkpred", help="link prediction: a GNN teacher, a plain MLP and a distilled MLP",
        description="Train a GNN link predictor (teacher), a plain MLP link predictor and an "
                    "MLP student distilled from the teacher (LLP or a direct baseline) per "
                    "seed on one link split; print Hits@K mean ± std and optionally write JSON.")
    _add_experiment(linkpred, teachers=LINK_TEACHERS, methods=tuple(LINK_DISTILLERS),
                    default_method="llp", settings=LINK_SETTINGS, default_seeds=5,
                    cached="teachers and plain MLPs")
    linkpred.add_argument("--split-seed", type=int, default=0,
                          help="seed of the one edge split all runs share (default: 0)")
    linkpred.add_argument("--test-ratio", type=_ratio,
                          help="transductive test share of the edges (default: 0.15, the "
                               "paper's; LLP's code uses 0.10)")
    linkpred.add_argument("--new-ratio", type=_ratio,
                          help="production share of new nodes (default: 0.3 on cora and "
                               "citeseer, 0.1 elsewhere)")
    linkpred.add_argument("--shared-teacher", action="store_true",
                          help="distil every seed's student from the one teacher of seeds "
                               "0..N-1 with the best validation Hits@K, as the LLP paper "
                               "does (default: each seed its own teacher)")
    _add_device(linkpred)
    _add_common(linkpred, "the runs and summary", "override a default, e.g. "
                "teacher.lr=0.001, student.dropout=0, distiller.rank_weight=0.5")
    _add_resume(linkpred)
    linkpred.set_defaults(run=_linkpred)

    speed = commands.add_parser(
        "speed", help="time a teacher GNN against its student MLP on unseen-node (or link) "
                 "queries",
        description="Inference-speed comparison: per-query latency "
                    "for batches of unseen nodes (or candidate links), the teacher's time "
                    "including L-hop neighbourhood gathering, and full-graph throughput. "
                    "Models are untrained: timing does not depend on the weights.")
    speed.add_argument("--dataset", required=True,
                       help="dataset name, e.g. cora or synthetic:products")
    speed.add_argument("--task", default="node", choices=("node", "link"),
                       help="node classification (default) or link prediction: queries are "
                            "batches of candidate links, the models link predictors")
    speed.add_argument("--protocol", choices=PROTOCOLS,
                       help="node split protocol (default: ogb for ogbn-* datasets, cpf "
                            "otherwise)")
    speed.add_argument("--setting", choices=tuple(dict.fromkeys((*SETTINGS, *LINK_SETTINGS))),
                       help="node queries come from test_ind when inductive (the default); "
                            "link queries from the test pairs of the production (default) "
                            "or transductive link split")
    speed.add_argument("--teacher", default="sage", choices=TEACHERS,
                       help=f"the GNN (default: sage; links: {', '.join(LINK_TEACHERS)})")
    speed.add_argument("--batch-sizes", type=_batch_sizes, default=(1, 10, 100, 1000),
                       metavar="K,K,...", help="query sizes (default: 1,10,100,1000)")
    _add_device(speed, "time")
    speed.add_argument("--threads", type=_positive_int,
                       help="intra-op CPU threads (default: torch's current setting)")
    speed.add_argument("--max-seconds", type=_positive_seconds, default=60.0,
                       help="cap on timed seconds per measurement; at least 5 repeats "
                            "still run per query size and 3 for the full-graph throughput "
                            "(default: 60)")
    speed.add_argument("--seed", type=int, default=0, help="split and query seed (default: 0)")
    _add_common(speed, "the timings", "model options, e.g. teacher.num_layers=3, "
                "student.hidden_channels=2048")
    speed.set_defaults(run=_speed)

    bench = commands.add_parser(
        "bench", help="run a grid of distillation experiments, resumably",
        description="Run every (dataset, protocol, setting, teacher, method, seed) of a TOML "
                    "grid. Each finished run is appended to RESULTS/node.jsonl; rerunning "
                    "skips finished runs, so an interrupted benchmark resumes.")
    bench.add_argument("--config", required=True, help="the grid, a TOML file")
    bench.add_argument("--results", help="results folder (default: the config's 'results' "
                                         "key, else ./results/CONFIG-NAME)")
    _add_root(bench)
    _add_device(bench)
    bench.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_save_students(bench, "the student of every run it trains to DIR/<dataset>-<protocol>-"
                              "<setting>-<teacher>-<method>-seed<N>-<config id>.pt")
    bench.set_defaults(run=_bench)

    report = commands.add_parser(
        "report", help="write a Markdown/HTML report with plots from result files",
        description="Accuracy tables (with published numbers), speed tables and PNG plots "
                    "from gkd bench/distill/speed results; folders are searched for them. "
                    "Needs matplotlib (pip install 'gkd[report]').")
    report.add_argument("results", nargs="+", metavar="RESULTS",
                        help="result files or folders")
    report.add_argument("--out", required=True, help="the report folder")
    report.set_defaults(run=_report)

    from gkd.condense.cli import add_condense_command

    add_condense_command(commands)

    datasets = commands.add_parser(
        "datasets", help="list the datasets and whether their files are under the data root",
        description="List every node and graph dataset gkd knows, its folder under the data "
                    "root and whether the files it needs are there (nothing is read or "
                    "processed).")
    _add_root(datasets)
    datasets.set_defaults(run=_datasets)
    return parser


def _out_of_memory(error: BaseException) -> bool:
    text = str(error)
    return isinstance(error, MemoryError) or "out of memory" in text \
        or "can't allocate memory" in text


def main(argv: Sequence[str] | None = None) -> int:
    r"""Runs ``gkd`` with :obj:`argv` (default: the process's arguments).

    Returns:
        int: the exit status: ``0`` on success, ``2`` for bad input (a
        :class:`~gkd.errors.GkdError`, printed in one line; argparse's usage errors exit
        with ``2`` too), ``1`` for a file that could not be read or written or for
        running out of memory, ``130`` when interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        with _output_held(args):
            args.run(args)
    except GkdError as error:
        print(f"gkd {args.command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader of stdout stopped (e.g. `gkd datasets | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 141
    except OSError as error:  # a file the user named could not be read or written
        print(f"gkd {args.command}: error: {error}", file=sys.stderr)
        return 1
    except (MemoryError, RuntimeError) as error:  # torch's allocators raise RuntimeError
        if not _out_of_memory(error):
            raise
        print(f"gkd {args.command}: error: out of memory ({first_line(error)}); use smaller "
              f"models or batches", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"gkd {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0
