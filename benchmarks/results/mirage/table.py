"""Prints the Markdown results table of this folder from its gkd condense JSON files."""
import json
import sys
from pathlib import Path

folder = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent)


def cell(stat: dict, digits: int = 2) -> str:
    std = "" if stat["std"] is None else f" ± {stat['std']:.{digits}f}"
    return f"{stat['mean']:.{digits}f}{std}"


print("| dataset | split | model | hops | method | seeds | test (%) | full-data test (%) | "
      "distilled bytes | distill s |")
print("|---|---|---|---|---|---|---|---|---|---|")
for path in sorted(folder.glob("*.json")):
    result = json.loads(path.read_text())
    task, summary = result["task"], result["summary"]
    metric = "ROC-AUC" if task["metric"] == "rocauc" else "acc"
    full = cell(summary["full"]["test"]) if "full" in summary else ""
    split = task["split"].split(" (")[0]
    print(f"| {task['dataset']} | {split} | {task['model']} | {task['hops']} | {task['method']} | "
          f"{len(result['runs'])} | {metric} {cell(summary['condensed']['test'])} | {full} | "
          f"{cell(summary['distilled_bytes'], 0)} | {cell(summary['distill_seconds'])} |")
