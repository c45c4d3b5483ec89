"""Validation checks of VQGraph tokenizer changes that are not options (CPF, SAGE backbone).

Trains, per seed, the tokenizer with one VARIANT patched in, then its student, and appends
one JSON line per seed to OUT. Choose on validation, never test. Variants:

- ``default``: no change.
- ``from-epoch-N``: the tokenizer's epoch selection ignores validation before epoch N
  (patience counts from there). On Cora and CiteSeer most tokenizers reach their best
  validation accuracy within 10-50 epochs, with most codes dead.
- ``continuous-head``: the classification head reads the encoder's embedding instead of its
  quantised code (the codes still learn through the commitment and reconstruction losses):
  is the quantisation bottleneck what makes the tokenizer a weaker classifier than SAGE?
- ``val-loss``: the tokenizer's epoch is selected on validation cross-entropy instead of
  accuracy, which passes over early epochs whose near-zero logits give the student
  near-uniform soft labels.

    GKD_DATA_ROOT=../shared/datasets OMP_NUM_THREADS=1 python \\
        benchmarks/sweeps/vqgraph_tokenizer_patch.py DATASET SETTING VARIANT SEEDS OUT.jsonl
"""
import json
import sys
import tempfile
import time

import torch.nn.functional as F

import gkd.tokenizer
from gkd.data.tasks import load_node_task
from gkd.experiment import node_config, run_node_distillation
from gkd.nn.tokenizer import GraphTokenizer, TokenizerOutput


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


def select_on_validation_loss() -> None:
    """Makes the tokenizer's epoch selection maximise minus the validation cross-entropy."""
    gkd.tokenizer.accuracy = lambda logits, y: -F.cross_entropy(logits, y).item()


def classify_embeddings() -> None:
    """Makes the tokenizer's head classify the encoder's embeddings, not their codes."""

    def encode(self, x, edge_index):
        embedding = self.encoder(x, edge_index)
        vq = self.quantizer(embedding)
        h = F.dropout(embedding, p=self.dropout, training=self.training)
        return TokenizerOutput(self.head(h, edge_index), embedding, vq)

    GraphTokenizer.encode = encode


dataset, setting, variant, seeds, out = sys.argv[1:6]
if variant.startswith("from-epoch-"):
    select_from_epoch(int(variant.removeprefix("from-epoch-")))
elif variant == "continuous-head":
    classify_embeddings()
elif variant == "val-loss":
    select_on_validation_loss()
elif variant != "default":
    sys.exit(f"unknown variant {variant!r}: default, from-epoch-N, continuous-head or val-loss")
config = node_config(dataset, "sage", "vqgraph")
# the knowledge cache is keyed by the configuration, which the patch does not change
with tempfile.TemporaryDirectory() as cache:
    for seed in range(int(seeds)):
        start = time.perf_counter()
        task = load_node_task(dataset, "cpf", setting=setting, seed=seed)
        run = run_node_distillation(task, "sage", "vqgraph", config, cache=cache)
        student = run["details"]["student"]
        row = {"dataset": dataset, "setting": setting, "variant": variant, "seed": seed,
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
