"""Mean validation score of the given models in each sweep JSON (``gkd distill`` or
``gkd linkpred`` output), one line per file; the sweeps choose on these, never on test.

    python benchmarks/sweeps/summarize.py 'benchmarks/sweeps/llp/cora-*.json' mlp student
"""
import glob
import json
import sys

pattern, *models = sys.argv[1:]
for path in sorted(glob.glob(pattern)):
    summary = json.load(open(path))["summary"]
    scores = "  ".join(f"{model} val {summary[model]['val']['mean']:.2f}" for model in models)
    print(f"{path.rsplit('/', 1)[1]:45s} {scores}")
