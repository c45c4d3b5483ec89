r"""``gkd report``: Markdown and self-contained HTML reports with PNG plots from result
files (``gkd bench`` JSON lines, ``gkd distill`` and ``gkd speed`` JSON).

matplotlib (the ``report`` extra) is imported only when plots are drawn.
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
import textwrap
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gkd.bench.config import TASK_FIELDS
from gkd.bench.published import GLNN_SOURCE, PUBLISHED, PUBLISHED_SPEED
from gkd.bench.runner import NODE_RESULTS, config_id, record_key
from gkd.bench.speed import depth_warning, query_kind
from gkd.bench.summary import (
    check_run_records,
    paired_differences,
    run_record_problem,
    summary_rows,
)
from gkd.errors import GkdError
from gkd.experiment import MODELS, hardware_line, mean_std
from gkd.io import read_jsonl, write_bytes


@dataclass
class Results:
    r"""Everything read from result files: run records and speed comparisons."""

    records: list[dict[str, Any]] = field(default_factory=list)
    speeds: list[dict[str, Any]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) and value > 0


def _checked_speed(speed: dict[str, Any], path: Path) -> dict[str, Any]:
    try:
        if not all(isinstance(speed["task"][f], str) for f in ("dataset", "setting")):
            raise TypeError("task dataset and setting must be names")
        if not speed["rows"]:
            raise ValueError("no timed query sizes")
        for row in speed["rows"]:
            if not (isinstance(row["batch"], int) and _positive(row["batch"])):
                raise ValueError(f"a query size must be a positive integer; got {row['batch']!r}")
            for key in ("teacher_ms", "student_ms"):
                times = [row[key][q] for q in ("q25", "median", "q75")]
                if not all(map(_positive, times)) or sorted(times) != times:
                    raise ValueError(f"{key} needs positive quartiles q25 <= median <= q75")
        full = speed["full_graph"]
        if not (_positive(full["nodes"]) and _positive(full["teacher"]["median"])
                and _positive(full["student"]["median"])):
            raise ValueError("the full-graph timing needs a node count and positive medians")
        _speed_tables(speed)
    except (KeyError, TypeError, ValueError) as error:
        raise GkdError(f"{path}: an incomplete gkd speed result ({type(error).__name__}: "
                       f"{error})") from None
    return speed


def _parsed(path: Path, strict: bool) -> Any:
    r"""The content of a JSON or JSON-lines file; ``None`` for an unreadable one unless
    :obj:`strict`, where it raises a :class:`~gkd.errors.GkdError` naming the file."""
    try:
        if path.suffix == ".jsonl":
            return read_jsonl(path)
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        message = f"{path}: not UTF-8 text ({error.reason} at byte {error.start})"
    except json.JSONDecodeError as error:
        message = f"{path}: not JSON ({error.msg})"
    except ValueError as error:  # from read_jsonl, naming the file and line
        message = str(error)
    if strict:
        raise GkdError(message)
    return None


def _is_distill_result(obj: Any) -> bool:
    return (isinstance(obj, dict) and isinstance(obj.get("task"), dict)
            and all(f in obj["task"] for f in TASK_FIELDS) and isinstance(obj.get("runs"), list)
            and all(isinstance(run, dict) for run in obj["runs"]))


def _read_file(path: Path, results: Results, strict: bool) -> None:
    r"""Adds the results in :obj:`path` to :obj:`results`. Unless :obj:`strict` (a file
    found in a folder), a file without node run records or speed results is skipped,
    but a bench results file (``node.jsonl``, or JSON lines holding run records) with a
    bad record still raises."""
    bench = strict or path.name == NODE_RESULTS
    obj = _parsed(path, bench)
    if path.suffix == ".jsonl":
        if obj is None or not (bench or any(run_record_problem(r) is None for r in obj)):
            return
        for record in check_run_records(obj, path):
            record.setdefault("config_id", None)
        results.records += obj
    elif isinstance(obj, dict) and "rows" in obj and "full_graph" in obj:
        results.speeds.append(_checked_speed(obj, path))
    elif _is_distill_result(obj):
        if obj.get("complete") is False:
            warnings.warn(f"{path} is an unfinished gkd distill result (\"complete\": false): "
                          f"its rows hold only its {len(obj['runs'])} finished seed(s)",
                          stacklevel=3)
        config = config_id(obj["config"]) if isinstance(obj.get("config"), dict) else None
        results.records += check_run_records([{"task": obj["task"], "config_id": config,
                                      "config": obj.get("config"), **run}
                                     for run in obj["runs"]], path)
    elif strict:
        raise GkdError(f"{path}: not a gkd result file (expected gkd bench JSON lines, or "
                       f"gkd distill JSON of a node task, or gkd speed JSON)")
    else:
        return
    results.sources.append(str(path))


def load_results(paths: list[str | Path]) -> Results:
    r"""Reads result files; a folder contributes every result file below it (other files
    there, unreadable ones included, are skipped, but a bench results file with a bad
    record raises a :class:`~gkd.errors.GkdError`). Records of one run (task, method, seed
    and configuration digest, as :func:`gkd.bench.runner.record_key` identifies them; a
    ``gkd distill`` file's configuration is digested the same way) replace earlier ones;
    records of different configurations are kept apart. A file is read once however often
    it is named."""
    results = Results()
    read: set[Path] = set()  # a file named twice, or also in a named folder, counts once
    for path in map(Path, paths):
        if path.is_dir():
            files = [(child, False) for child in sorted([*path.rglob("*.jsonl"),
                                                         *path.rglob("*.json")])]
        elif path.is_file():
            files = [(path, True)]
        else:
            raise GkdError(f"result file or folder '{path}' does not exist")
        for file, strict in files:
            if file.resolve() not in read:
                read.add(file.resolve())
                _read_file(file, results, strict=strict)
    results.records = list({record_key(r): r for r in results.records}.values())
    if not results.records and not results.speeds:
        raise GkdError(f"no results found in {', '.join(map(str, paths))}")
    return results


# --- document blocks, rendered to Markdown and HTML -------------------------------------


def _task(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(row[f] for f in TASK_FIELDS)


def _mixed_tasks(rows: list[dict[str, Any]]) -> set[tuple[str, ...]]:
    r"""The tasks (task fields and method) with rows of several configurations."""
    counts = Counter(map(_task, rows))
    return {task for task, count in counts.items() if count > 1}


def _config(row: dict[str, Any]) -> str:
    return row["config_id"] or "unknown"


def _method(row: dict[str, Any], mixed: set[tuple[str, ...]]) -> str:
    r"""The row's method, with its configuration digest where the task has others."""
    return row["method"] + (f" [config {_config(row)}]" if _task(row) in mixed else "")


def _accuracy_table(rows: list[dict[str, Any]]) -> list[list[str]]:
    mixed = _mixed_tasks(rows)
    config = ["Config"] if mixed else []
    table = [["Dataset", "Protocol", "Setting", "Teacher", "Method", *config, "Seeds",
              "Metric", "Teacher acc.", "MLP", "Student", "Paper student", "Δ vs paper"]]
    for row in rows:
        metric = row["metric"]
        cells = [mean_std(**row["summary"][m][metric]) for m in MODELS]
        paper = PUBLISHED.get((row["method"], row["dataset"], row["setting"]), {}).get("student")
        if paper and row["teacher"] == "sage" and row["protocol"] == "cpf":
            mean, std, label = paper
            ours = row["summary"]["student"][metric]["mean"]
            published = f"{mean_std(mean, std)} ({label})"
            delta = f"{ours - mean:+.2f}"
        else:
            published, delta = "—", "—"
        table.append([row["dataset"], row["protocol"], row["setting"], row["teacher"],
                      row["method"], *([_config(row)] if mixed else []), str(row["seeds"]),
                      metric, *cells, published, delta])
    return table


def _paired_table(paired: list[dict[str, Any]], mixed: set[tuple[str, ...]]
                  ) -> list[list[str]]:
    table = [["Dataset", "Protocol", "Setting", "Teacher", "Method", "Seeds", "Metric",
              "Δ student vs GLNN (95 % CI)", "Ahead / behind"]]
    for row in paired:
        table.append([row["dataset"], row["protocol"], row["setting"], row["teacher"],
                      _method(row, mixed), str(row["seeds"]), row["metric"],
                      f"{row['mean']:+.2f} ± {row['ci95']:.2f}",
                      f"{row['wins']} / {row['losses']}"])
    return table


def _speed_tables(speed: dict[str, Any]) -> tuple[str, list[list[str]]]:
    task, models = speed["task"], speed["models"]

    def describe(m: dict[str, Any]) -> str:
        return f"{m['model']} ({m['layers']} layers, width {m['hidden']}, {m['params']:,} params)"

    queries = query_kind(speed)
    kind = " link" if queries == "links" else ""
    title = (f"{task['dataset']} · {task['setting']}{kind} queries · "
             f"{describe(models['teacher'])} against {describe(models['student'])} · "
             f"{hardware_line(speed['env'])}")
    table = [[f"Query {queries}", "Teacher ms (IQR)", "Student ms (IQR)", "Speed-up",
              "Repeats"]]
    for row in speed["rows"]:
        t, s = row["teacher_ms"], row["student_ms"]
        table.append([str(row["batch"]), f"{t['median']:.3f} ({t['iqr']:.3f})",
                      f"{s['median']:.4f} ({s['iqr']:.4f})",
                      f"{t['median'] / s['median']:.1f}×", f"{t['repeats']} / {s['repeats']}"])
    full = speed["full_graph"]
    embedding = ", embeddings" if queries == "links" else ""
    t, s = full["teacher"], full["student"]
    table.append([f"all {full['nodes']:,} nodes (throughput{embedding})",
                  f"{full['nodes'] / t['median'] * 1e3:,.0f} nodes/s",
                  f"{full['nodes'] / s['median'] * 1e3:,.0f} nodes/s "
                  f"(batch {full['student_batch']:,})", f"{t['median'] / s['median']:.1f}×",
                  f"{t['repeats']} / {s['repeats']}"])
    return title, table


def _setup_line(speed: dict[str, Any]) -> str | None:
    r"""The speed run's recorded setup (what each timing includes, precision, inference
    mode, compilation), or ``None`` for a file without one."""
    setup = speed.get("setup")
    if not isinstance(setup, dict) or not setup:
        return None
    return "Setup: " + "; ".join(f"{key.replace('_', ' ')}: {value}"
                                 for key, value in setup.items()) + "."


def _markdown_table(table: list[list[str]]) -> str:
    lines = ["| " + " | ".join(table[0]) + " |", "|" + "---|" * len(table[0])]
    lines += ["| " + " | ".join(row) + " |" for row in table[1:]]
    return "\n".join(lines)


def _html_table(table: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in table[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# --- plots --------------------------------------------------------------------------------


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise GkdError("gkd report draws plots with matplotlib: pip install 'gkd[report]'"
                       ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt: Any, fig: Any, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return write_bytes(path, buffer.getvalue())


def _reference_models(rows: list[dict[str, Any]], mixed: set[tuple[str, ...]]
                      ) -> list[tuple[str, str, dict[str, Any]]]:
    r"""``(model, label, row)`` for the teacher and MLP scores of rows of one task: one
    entry per distinct score, named after the methods that share it when the methods'
    teachers (or MLPs) differ, e.g. VQGraph's tokenizer beside GLNN's GNN."""
    out = []
    for model, name in (("teacher", f"teacher ({rows[0]['teacher']})"), ("mlp", "MLP")):
        distinct: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            distinct.setdefault(json.dumps(row["summary"][model][row["metric"]],
                                           sort_keys=True), []).append(row)
        for sharing in distinct.values():
            label = name if len(distinct) == 1 else \
                f"{name} · {'/'.join(_method(row, mixed) for row in sharing)}"
            out.append((model, label, sharing[0]))
    return out


def plot_accuracy_bars(rows: list[dict[str, Any]], path: Path) -> Path:
    r"""Per-(dataset, protocol, setting, teacher) bars of teacher, MLP and each method's
    student, mean with std error bars (a teacher or MLP bar per method where the methods'
    teachers or MLPs differ)."""
    plt = _pyplot()
    mixed = _mixed_tasks(rows)
    tasks: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        tasks.setdefault((row["dataset"], row["protocol"], row["setting"], row["teacher"]),
                         []).append(row)
    groups: dict[tuple[str, ...], dict[str, dict[str, Any]]] = {}
    for group, members in tasks.items():
        bars = groups.setdefault(group, {})
        for model, label, row in _reference_models(members, mixed):
            bars[label] = row["summary"][model][row["metric"]]
        for row in members:
            bars[f"student ({_method(row, mixed)})"] = row["summary"]["student"][row["metric"]]
    labels = list(dict.fromkeys(label for bars in groups.values() for label in bars))
    width = 0.8 / len(labels)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(groups)), 4.2))
    for i, label in enumerate(labels):
        xs = [g + (i - (len(labels) - 1) / 2) * width for g, bars in enumerate(groups.values())
              if label in bars]
        cells = [bars[label] for bars in groups.values() if label in bars]
        ax.bar(xs, [c["mean"] for c in cells], width,
               yerr=[c["std"] or 0.0 for c in cells], capsize=3, label=label)
    ax.set_xticks(range(len(groups)), ["\n".join([*textwrap.wrap(d, 16), p, s, t])
                                       for d, p, s, t in groups], fontsize=8)
    low = min(c["mean"] for bars in groups.values() for c in bars.values())
    ax.set_ylim(max(0.0, low - 10), 100)
    ax.set_ylabel("test accuracy % (inductive: production mix; krd: test_ind)")
    ax.set_title("Accuracy, mean ± std over seeds", pad=24)
    ax.legend(fontsize=8, ncol=len(labels), loc="lower center", bbox_to_anchor=(0.5, 1.0),
              frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return _save(plt, fig, path)


def _latency_row(speed: dict[str, Any], batch: int = 10) -> dict[str, Any]:
    r"""The row of the query size nearest to :obj:`batch` (the smaller one of two as near)."""
    return min(speed["rows"], key=lambda r: (abs(r["batch"] - batch), r["batch"]))


_ARCHITECTURE = ("hidden_channels", "num_layers")


def _same_architecture(row: dict[str, Any], speed: dict[str, Any], model: str) -> bool:
    r"""Whether the row's :obj:`model` (``"student"`` or ``"teacher"``) has the width and
    depth the speed run timed, where both record them; a model configured with other
    options (VQGraph's tokenizer beside the timed GNN) is another model."""
    trained, timed = row.get("config"), speed.get("config")
    if not (isinstance(trained, dict) and isinstance(timed, dict)):
        return True
    trained, timed = trained.get(model, {}), timed.get(model, {})
    return set(trained) == set(timed) and all(trained.get(k) == timed.get(k)
                                              for k in _ARCHITECTURE)


def _matching_rows(rows: list[dict[str, Any]], speed: dict[str, Any]) -> list[dict[str, Any]]:
    r"""The rows of the speed run's dataset whose students have the timed architecture and
    that share one setting, protocol and teacher, those of the run's task where there are
    such rows (the setting first)."""
    task = speed["task"]
    if query_kind(speed) != "nodes":
        return []  # the run records are node classification's
    fields = ("setting", "protocol", "teacher")
    same = [row for row in rows if row["dataset"] == task["dataset"]
            and _same_architecture(row, speed, "student")]
    if not same:
        return []
    best = max(same, key=lambda row: [row[f] == task.get(f) for f in fields])
    return [row for row in same if all(row[f] == best[f] for f in fields)]


def _timed_models(rows: list[dict[str, Any]], speed: dict[str, Any]
                  ) -> list[tuple[str, str, dict[str, Any]]]:
    r"""``(model, label, row)`` of the trained models whose architecture the speed run
    timed (see :func:`_matching_rows`): the teacher (unless another, e.g. VQGraph's
    tokenizer), the MLP and each method's student."""
    matching = _matching_rows(rows, speed)
    if not matching:
        return []
    mixed = _mixed_tasks(rows)
    models = [(model, label, row) for model, label, row in _reference_models(matching, mixed)
              if model != "teacher" or (row["teacher"] == speed["task"].get("teacher")
                                        and _same_architecture(row, speed, "teacher"))]
    return models + [("student", f"{_method(row, mixed)} student", row) for row in matching]


def _speed_accuracy(rows: list[dict[str, Any]], speed: dict[str, Any]) -> str | None:
    r"""A line with the test accuracy of the timed architectures from the run records,
    or ``None`` where there are none."""
    models = _timed_models(rows, speed)
    if not models:
        return None
    row = models[-1][2]
    seeds = {found["seeds"] for _, _, found in models}
    scores = "; ".join(f"{label} {mean_std(**found['summary'][model][found['metric']])}"
                        + ("" if len(seeds) == 1 else f" ({found['seeds']} seeds)")
                        for model, label, found in models)
    teacher = "" if row["teacher"] == speed["task"].get("teacher") else \
        f", students distilled from {row['teacher']}"
    count = f"{seeds.pop()} seeds" if len(seeds) == 1 else "seeds as stated"
    return (f"Test accuracy of these architectures, trained ({row['protocol']} protocol, "
            f"{row['setting']}, {row['metric']}, {count}{teacher}): {scores}.")


def plot_accuracy_vs_latency(rows: list[dict[str, Any]], speeds: list[dict[str, Any]],
                             path: Path) -> Path | None:
    r"""Accuracy against per-query latency (log scale) for every dataset that has both
    accuracy and speed results: the teacher at the GNN's latency, the MLP and the students
    at the MLP's, for queries of 10 nodes (or the timed size nearest to it, which the
    axis or the labels then name)."""
    points = []
    for speed in speeds:
        latency = _latency_row(speed)
        for model, label, row in _timed_models(rows, speed):
            side = "teacher_ms" if model == "teacher" else "student_ms"
            marker = {"teacher": "o", "mlp": "s", "student": "^"}[model]
            points.append((speed["task"]["dataset"], label, latency[side]["median"],
                           row["summary"][model][row["metric"]]["mean"], marker,
                           latency["batch"]))
    if not points:
        return None
    sizes = {p[-1] for p in points}
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    colors = {d: f"C{i}" for i, d in enumerate(dict.fromkeys(p[0] for p in points))}
    for dataset, label, ms, acc, marker, size in points:
        ax.scatter(ms, acc, marker=marker, color=colors[dataset], s=45)
        query = "" if len(sizes) == 1 else f" ({size} nodes)"
        ax.annotate(f"{dataset}: {label}{query}", (ms, acc), fontsize=7, xytext=(4, 3),
                    textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel(f"inference latency for {sizes.pop()} unseen nodes, ms (log scale)"
                  if len(sizes) == 1 else "inference latency per query of the labelled size, "
                                          "ms (log scale)")
    ax.set_ylabel("test accuracy %")
    ax.set_title("Accuracy against latency (GNN includes neighbourhood fetching)")
    ax.grid(alpha=0.3, which="both")
    return _save(plt, fig, path)


def plot_latency_by_batch(speeds: list[dict[str, Any]], path: Path) -> Path | None:
    r"""Per-query latency against the number of query nodes, teacher and student, one
    colour per dataset, log-log."""
    if not speeds:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for i, speed in enumerate(speeds):
        batches = [r["batch"] for r in speed["rows"]]
        name = speed["task"]["dataset"] + (" links" if query_kind(speed) == "links" else "")
        for key, style, who in (("teacher_ms", "-o", "teacher"), ("student_ms", "--s", "MLP")):
            ax.errorbar(batches, [r[key]["median"] for r in speed["rows"]],
                        yerr=[[r[key]["median"] - r[key]["q25"] for r in speed["rows"]],
                              [r[key]["q75"] - r[key]["median"] for r in speed["rows"]]],
                        fmt=style, color=f"C{i}", capsize=3, label=f"{name} {who}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("query size (nodes, or links)")
    ax.set_ylabel("latency ms (median, IQR bars)")
    ax.set_title("Per-query latency")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return _save(plt, fig, path)


# --- the report ---------------------------------------------------------------------------

PLOTS = ("accuracy.png", "accuracy_vs_latency.png", "latency.png")


def write_report(results: Results, out: str | Path) -> dict[str, Path]:
    r"""Writes ``report.md``, ``report.html`` (plots embedded) and the PNG plots to
    :obj:`out`.

    Returns:
        The written files by name.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise GkdError(f"report folder '{out}' is a file")
    out.mkdir(parents=True, exist_ok=True)
    rows = summary_rows(results.records)
    plots: list[tuple[str, Path]] = []
    if rows:
        plots.append(("Accuracy by dataset", plot_accuracy_bars(rows, out / "accuracy.png")))
    for title, drawn in (
            ("Accuracy against latency",
             plot_accuracy_vs_latency(rows, results.speeds, out / "accuracy_vs_latency.png")),
            ("Latency by query size",
             plot_latency_by_batch(results.speeds, out / "latency.png"))):
        if drawn is not None:
            plots.append((title, drawn))
    drawn_names = {file.name for _, file in plots}
    for name in PLOTS:  # a plot of an earlier report that this one has no data for
        if name not in drawn_names:
            (out / name).unlink(missing_ok=True)

    blocks: list[tuple[str, Any]] = [
        ("h1", "gkd report"),
        ("p", f"Generated {time.strftime('%Y-%m-%d %H:%M')} from {len(results.sources)} "
              f"result file(s): {', '.join(results.sources)}."),
    ]
    if rows:
        blocks += [("h2", "Accuracy"),
                   ("p", "Test accuracy in percent, mean ± sample std (ddof = 1) over seeds, "
                         "each model selected on validation. Inductive rows report the "
                         "production mix 0.8·tran + 0.2·ind, except under the krd protocol: "
                         f"the held-out nodes alone (test_ind). Paper numbers: {GLNN_SOURCE}; "
                         "Δ = ours − paper for the student. One table per split protocol: "
                         "numbers of different protocols are different experiments.")]
        for protocol in dict.fromkeys(row["protocol"] for row in rows):
            blocks += [("h3", f"Protocol {protocol}"),
                       ("table", _accuracy_table([r for r in rows if r["protocol"] == protocol]))]
    paired = paired_differences(results.records)
    if paired:
        blocks += [("h2", "Against GLNN, seed by seed"),
                   ("p", "Each method's student minus GLNN's on the same seeds (the same split, "
                         "and the same teacher where both distil from one): mean difference "
                         "in points "
                         "with the half-width of its 95 % Student-t interval over the seeds, "
                         "and the seeds on which the method is ahead or behind. An interval "
                         "that contains 0 is not evidence of a difference at the 5 % level "
                         "(and with many rows, a few intervals clear 0 by chance)."),
                   ("table", _paired_table(paired, _mixed_tasks(rows)))]
    if results.speeds:
        blocks += [("h2", "Inference speed"),
                   ("p", "Median and interquartile range over repeats after warm-up; the "
                         "teacher's time includes gathering each query's full L-hop "
                         "neighbourhood from the host CSR graph, the student's is one MLP "
                         "forward on the query features (for link queries: both endpoints' "
                         "neighbourhoods or features, the encoder and the decoder). For "
                         "reference, GLNN's figure gives "
                         f"{PUBLISHED_SPEED['teacher_ms']} ms against "
                         f"{PUBLISHED_SPEED['student_ms']} ms "
                         f"({PUBLISHED_SPEED['speedup']:.0f}×) on "
                         f"{PUBLISHED_SPEED['dataset']} ({PUBLISHED_SPEED['label']}).")]
        for speed in results.speeds:
            title, table = _speed_tables(speed)
            warning = depth_warning(speed)
            notes = [_setup_line(speed), warning and f"Warning: {warning}.",
                     _speed_accuracy(rows, speed)]
            blocks += [("p", title), ("table", table), *[("p", n) for n in notes if n]]
    if plots:
        blocks.append(("h2", "Plots"))
        blocks += [("img", (title, file)) for title, file in plots]

    markdown, body = [], []
    for kind, content in blocks:
        if kind in ("h1", "h2", "h3"):
            markdown.append(f"{'#' * int(kind[1])} {content}")
            body.append(f"<{kind}>{html.escape(content)}</{kind}>")
        elif kind == "p":
            markdown.append(content)
            body.append(f"<p>{html.escape(content)}</p>")
        elif kind == "table":
            markdown.append(_markdown_table(content))
            body.append(_html_table(content))
        else:
            title, file = content
            markdown.append(f"![{title}]({file.name})")
            data = base64.b64encode(file.read_bytes()).decode()
            body.append(f'<figure><img alt="{html.escape(title)}" '
                        f'src="data:image/png;base64,{data}"><figcaption>'
                        f"{html.escape(title)}</figcaption></figure>")
    page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>gkd report</title>"
            "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
            "table{border-collapse:collapse;margin:1em 0;font-size:90%}"
            "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
            "img{max-width:100%}</style></head><body>" + "".join(body) + "</body></html>\n")
    files = {"report.md": out / "report.md", "report.html": out / "report.html"}
    write_bytes(files["report.md"], ("\n\n".join(markdown) + "\n").encode())
    write_bytes(files["report.html"], page.encode())
    files.update({file.name: file for _, file in plots})
    return files
