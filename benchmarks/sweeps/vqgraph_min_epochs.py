"""Validation check of a minimum training length for VQGraph's tokenizer (CPF, SAGE
backbone).

On Cora and CiteSeer most tokenizers reach their best validation accuracy within the
first 10-50 epochs, while the codebook, k-means-initialised at epoch 1 and EMA-updated
since, still has most codes dead. This trains, per seed, the tokenizer with epoch
selection starting at epoch MIN (``none``: the default, selection from epoch 1; patience
then counts from MIN) and its student, and appends one JSON line per seed to OUT. Choose
on validation, never test.

    GKD_DATA_ROOT=../shared/datasets OMP_NUM_THREADS=1 python \\
        benchmarks/sweeps/vqgraph_min_epochs.py DATASET SETTING MIN SEEDS OUT.jsonl
"""
import json
import sys
import tempfile
import time

import gkd.tokenizer
from gkd.data.tasks import load_node_task
from gkd.experiment import node_config, run_node_distillation


def select_from_epoch(first: int) -> None:
    """Makes the tokenizer's training ignore validation before epoch ``first``."""
    fit = gkd.tokenizer.fit

    def fit_from(model, train_epoch, validate, **kwargs):
        epoch = 0

        def validate_from():
            nonlocal epoch
            epoch += 1
            # a constant below any accuracy: each early epoch ties and becomes the best
            return validate() if epoch >= first else -1.0

        return fit(model, train_epoch, validate_from, **kwargs)

    gkd.tokenizer.fit = fit_from


dataset, setting, first, seeds, out = sys.argv[1:6]
if first != "none":
    select_from_epoch(int(first))
config = node_config(dataset, "sage", "vqgraph")
# the knowledge cache is keyed by the configuration, which the patch does not change
with tempfile.TemporaryDirectory() as cache:
    for seed in range(int(seeds)):
        start = time.perf_counter()
        task = load_node_task(dataset, "cpf", setting=setting, seed=seed)
        run = run_node_distillation(task, "sage", "vqgraph", config, cache=cache)
        student = run["details"]["student"]
        row = {"dataset": dataset, "setting": setting, "min_epoch": first, "seed": seed,
               **{f"tokenizer_{k}": v for k, v in run["teacher"].items()},
               **{f"student_{k}": v for k, v in run["student"].items()},
               "tokenizer_epoch": run["details"]["teacher"]["epoch"],
               "student_epoch": student["epoch"],
               "code_perplexity": student["code_perplexity"],
               "dead_code_fraction": student["dead_code_fraction"],
               "seconds": round(time.perf_counter() - start, 1)}
        with open(out, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)
