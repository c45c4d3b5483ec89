"""Validation check of VQGraph's tokenizer head (CPF, SAGE backbone, transductive).

With cosine codes the head reads unit-length vectors through one layer, so its logits,
and the soft labels the student learns, stay small (Cora's tokenizer: logit std 0.65-1.6
against the SAGE teacher's 2.1-3.3). This trains, per seed, the tokenizer and its student
with a learnable scalar on the head's input, initialised to SCALE (``none``: the default
tokenizer), and appends one JSON line per seed to OUT. Choose on validation, never test.

    GKD_DATA_ROOT=../shared/datasets OMP_NUM_THREADS=1 python \\
        benchmarks/sweeps/vqgraph_head_scale.py DATASET SCALE SEEDS OUT.jsonl
"""
import json
import sys
import tempfile
import time

import torch

import gkd.tokenizer
from gkd.data.tasks import load_node_task
from gkd.experiment import node_config, run_node_distillation


class ScaledHead(torch.nn.Module):
    """The tokenizer head on ``scale * q``, ``scale`` learnt with the tokenizer."""

    def __init__(self, head: torch.nn.Module, scale: float) -> None:
        super().__init__()
        self.head, self.scale = head, torch.nn.Parameter(torch.tensor(scale))

    def forward(self, q: torch.Tensor, edge_index) -> torch.Tensor:
        return self.head(self.scale * q, edge_index)


def scaled_tokenizers(scale: float) -> None:
    build = gkd.tokenizer.build_tokenizer

    def build_scaled(*args, **kwargs):
        model = build(*args, **kwargs)
        model.head = ScaledHead(model.head, scale)
        return model

    gkd.tokenizer.build_tokenizer = build_scaled


dataset, scale, seeds, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if scale != "none":
    scaled_tokenizers(float(scale))
config = node_config(dataset, "sage", "vqgraph")
# the knowledge cache is keyed by the configuration, which the patch does not change
with tempfile.TemporaryDirectory() as cache:
    for seed in range(seeds):
        start = time.perf_counter()
        task = load_node_task(dataset, "cpf", seed=seed)
        run = run_node_distillation(task, "sage", "vqgraph", config, cache=cache)
        row = {"dataset": dataset, "scale": scale, "seed": seed,
               **{f"tokenizer_{k}": v for k, v in run["teacher"].items()},
               **{f"student_{k}": v for k, v in run["student"].items()},
               "tokenizer_epoch": run["details"]["teacher"]["epoch"],
               "student_epoch": run["details"]["student"]["epoch"],
               "seconds": round(time.perf_counter() - start, 1)}
        with open(out, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)
