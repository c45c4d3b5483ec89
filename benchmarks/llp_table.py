"""Prints the markdown table of one or more datasets' ``gkd linkpred`` results: teacher,
plain MLP and the student of every method, mean ± sample std of a metric over the seeds
the method files have in common.

The files are ``RESULTS/DATASET-SETTING-METHOD[SUFFIX].json``, as the results README
names them (``--suffix=-hidden512`` reads the 512-wide runs), unless ``--file
METHOD=PATH`` names a method's file (``{dataset}`` in PATH stands for the dataset).
The teacher and the MLP come from the first method's file; the other files must agree
with it on them seed by seed (they reuse the same cached models), else the script says
which file and seed differ.

    python benchmarks/llp_table.py a-computer coauthor-cs [--metric val]
    python benchmarks/llp_table.py cora citeseer --suffix=-uncapped \
        --file 'llp=benchmarks/sweeps/llp/{dataset}-rank10-dist0.1.json'
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("datasets", nargs="+")
parser.add_argument("--setting", default="transductive")
parser.add_argument("--methods", nargs="+", default=["llp", "logit", "repr"])
parser.add_argument("--suffix", default="")
parser.add_argument("--metric", default="test")
parser.add_argument("--file", action="append", default=[], metavar="METHOD=PATH",
                    help="read METHOD from PATH ({dataset} stands for the dataset)")
parser.add_argument("--results", type=Path,
                    default=Path(__file__).parent / "results" / "llp")
args = parser.parse_args()
try:
    method_files = dict(item.split("=", 1) for item in args.file)
except ValueError:
    sys.exit("llp_table: --file takes METHOD=PATH")
if unknown := set(method_files) - set(args.methods):
    sys.exit(f"llp_table: --file names {', '.join(sorted(unknown))}, not in --methods")


def runs_by_seed(path: Path) -> dict[int, dict]:
    if not path.is_file():
        sys.exit(f"llp_table: {path} does not exist")
    try:
        runs = json.loads(path.read_text())["runs"]
        return {run["seed"]: run for run in runs}
    except (ValueError, KeyError, TypeError) as error:
        sys.exit(f"llp_table: {path} is not a gkd linkpred result ({error!r})")


def cell(values: list[float]) -> str:
    std = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{statistics.mean(values):.2f} ± {std:.2f}"


header = ["dataset", "seeds", "teacher", "MLP", *args.methods]
rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
for dataset in args.datasets:
    files = {m: Path(method_files[m].format(dataset=dataset)) if m in method_files
             else args.results / f"{dataset}-{args.setting}-{m}{args.suffix}.json"
             for m in args.methods}
    runs = {m: runs_by_seed(path) for m, path in files.items()}
    seeds = sorted(set.intersection(*(set(r) for r in runs.values())))
    if not seeds:
        sys.exit(f"llp_table: the {dataset} files have no seed in common")
    first = runs[args.methods[0]]
    for method, by_seed in runs.items():
        for seed in seeds:
            for model in ("teacher", "mlp"):
                if by_seed[seed][model] != first[seed][model]:
                    sys.exit(f"llp_table: {files[method].name} seed {seed} has another {model} "
                             f"than {files[args.methods[0]].name}")
    try:
        columns = [[first[s][model][args.metric] for s in seeds]
                   for model in ("teacher", "mlp")]
        columns += [[runs[m][s]["student"][args.metric] for s in seeds] for m in args.methods]
    except KeyError:
        sys.exit(f"llp_table: the {dataset} runs have no metric '{args.metric}' "
                 f"(choose from {', '.join(first[seeds[0]]['teacher'])})")
    seed_range = f"{seeds[0]}–{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) \
        else ", ".join(map(str, seeds))
    rows.append(f"| {dataset} | {seed_range} | " + " | ".join(cell(c) for c in columns) + " |")
print("\n".join(rows))
