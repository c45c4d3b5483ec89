"""How sharp are a VQGraph tokenizer's soft labels? Per seed (CPF, SAGE backbone,
transductive): the mean top probability and entropy of the soft labels the student learns,
the logits' std, and the arg-max accuracy on the validation nodes. Trains the tokenizers, or reuses
them from the cache. TEACHER_OPTIONS are ``teacher.*`` overrides as KEY=VALUE (JSON values).

    GKD_DATA_ROOT=../shared/datasets python benchmarks/sweeps/vqgraph_soft_label_stats.py \\
        DATASET SEEDS [KEY=VALUE ...]
"""
import math
import sys

from gkd.config import parse_value
from gkd.data.tasks import load_node_task
from gkd.experiment import node_config
from gkd.tokenizer import tokenizer_knowledge

dataset, seeds = sys.argv[1], int(sys.argv[2])
overrides = dict(option.split("=", 1) for option in sys.argv[3:])
config = node_config(dataset, "sage", "vqgraph",
                     {"teacher": {key: parse_value(value) for key, value in overrides.items()}})
for seed in range(seeds):
    task = load_node_task(dataset, "cpf", seed=seed)
    knowledge = tokenizer_knowledge(task, "sage", config["teacher"])
    p = knowledge.soft_labels()
    entropy = -(p * p.clamp_min(1e-12).log()).sum(-1).mean()
    val = task.val_idx
    accuracy = 100.0 * (p[val].argmax(-1) == task.graph.y[val]).float().mean()
    print(f"seed {seed}: top probability {p.max(-1).values.mean():.3f}, entropy "
          f"{entropy:.3f} of at most {math.log(p.size(1)):.3f}, logit std "
          f"{knowledge.logits.std():.2f}, validation accuracy {accuracy:.1f}")
