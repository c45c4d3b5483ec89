"""The ``gkd`` command line."""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from gkd.config import merge_overrides, parse_value
from gkd.errors import GkdError

NAMESPACES = ("teacher", "student", "distiller")


class _Parser(argparse.ArgumentParser):
    """Reports usage errors as one line, without the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _parse_sets(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    overrides: dict[str, dict[str, Any]] = {ns: {} for ns in NAMESPACES}
    for item in items:
        key, sep, value = item.partition("=")
        namespace, dot, option = key.partition(".")
        if not sep or not dot or namespace not in NAMESPACES or not option:
            raise GkdError(f"--set takes NAMESPACE.OPTION=VALUE with NAMESPACE one of "
                           f"{', '.join(NAMESPACES)}; got '{item}'")
        overrides[namespace][option] = parse_value(value)
    return overrides


def _check_writable(path: str | None) -> None:
    if path is None:
        return
    parent = Path(path).resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise GkdError(f"cannot create the folder of --output {path}: {error.strerror}") from None
    if not os.access(parent, os.W_OK) or Path(path).is_dir():
        raise GkdError(f"cannot write --output {path}")


def _distill(args: argparse.Namespace) -> None:
    from gkd.data.datasets import load_dataset
    from gkd.data.tasks import dataset_for_protocol, make_node_task
    from gkd.distill import get_distiller
    from gkd.experiment import environment, format_summary, run_node_distillation, summarize
    from gkd.io import write_json
    from gkd.teachers import teacher_config

    started = time.perf_counter()
    args.dataset = args.dataset.lower()
    _check_writable(args.output)
    overrides = _parse_sets(args.set)
    defaults = get_distiller(args.method).defaults(args.dataset)
    config = {
        "teacher": teacher_config(args.teacher, args.dataset, overrides["teacher"]),
        "student": merge_overrides(defaults["student"], overrides["student"], "student"),
        "distiller": merge_overrides(defaults["distiller"], overrides["distiller"], args.method),
    }
    get_distiller(args.method)(**config["distiller"])  # validate before any training
    data = load_dataset(dataset_for_protocol(args.dataset, args.protocol), args.root)
    described = {"dataset": args.dataset, "protocol": args.protocol, "setting": args.setting,
                 "teacher": args.teacher, "method": args.method}
    print(f"gkd distill: {' · '.join(described.values())} · {args.seeds} seed(s)",
          file=sys.stderr)
    runs = []
    for seed in range(args.seeds):
        start = time.perf_counter()
        task = make_node_task(data, args.protocol, setting=args.setting, seed=seed,
                              info={"dataset": args.dataset})
        run = run_node_distillation(task, args.teacher, args.method, config,
                                    use_cache=not args.no_cache)
        runs.append(run)
        metric = "test" if args.setting == "transductive" else "test_prod"
        scores = "  ".join(f"{m} {run[m][metric]:.2f}" for m in ("teacher", "mlp", "student"))
        cached = " (teacher cached)" if run["details"]["teacher"]["cached"] else ""
        print(f"  seed {seed + 1}/{args.seeds}  {metric}: {scores}  "
              f"[{time.perf_counter() - start:.1f}s]{cached}", file=sys.stderr, flush=True)
    summary = summarize(runs)
    std_note = "sample std over seeds (ddof=1)"
    if args.protocol in ("cpf", "random"):
        std_note += ", split redrawn per seed"
    print(f"\n{' · '.join(described.values())} · {args.seeds} seed(s) · "
          f"accuracy % (mean ± {std_note})")
    print(format_summary(summary))
    if args.output:
        write_json(args.output, {"task": described, "config": config, "runs": runs,
                                 "summary": summary, "env": environment(),
                                 "seconds": round(time.perf_counter() - started, 1),
                                 "command": shlex.join(["gkd", *args.argv])})
        print(f"\nwrote {args.output}")


def build_parser() -> argparse.ArgumentParser:
    from gkd import __version__
    from gkd.data.tasks import PROTOCOLS, SETTINGS
    from gkd.distill import DISTILLERS
    from gkd.teachers import TEACHERS

    parser = _Parser(prog="gkd", description="Knowledge distillation on graphs.")
    parser.add_argument("--version", action="version", version=f"gkd {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    distill = commands.add_parser(
        "distill", help="train a GNN teacher, a plain MLP and a distilled MLP student",
        description="Train a GNN teacher, a plain MLP (labels only) and a distilled MLP "
                    "student per seed; print mean ± std and optionally write JSON.")
    distill.add_argument("--dataset", required=True, help="dataset name, e.g. cora, a-photo")
    distill.add_argument("--protocol", default="cpf", choices=PROTOCOLS)
    distill.add_argument("--teacher", default="sage", choices=TEACHERS)
    distill.add_argument("--method", default="glnn", choices=tuple(DISTILLERS))
    distill.add_argument("--setting", default="transductive", choices=SETTINGS)
    distill.add_argument("--seeds", type=_positive_int, default=10,
                         help="run seeds 0..N-1 (default: 10)")
    distill.add_argument("--root", help="data root (default: $GKD_DATA_ROOT or ./datasets)")
    distill.add_argument("--output", help="write the runs and summary as JSON to this path")
    distill.add_argument("--set", action="append", default=[], metavar="NS.OPTION=VALUE",
                         help="override a default, e.g. teacher.dropout=0.5, "
                              "student.hidden_channels=256, distiller.lamb=0.5")
    distill.add_argument("--no-cache", action="store_true",
                         help="train teachers afresh and do not store them")
    distill.set_defaults(run=_distill)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        args.run(args)
    except GkdError as error:
        print(f"gkd {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a file the user named could not be read or written
        print(f"gkd {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"gkd {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0
