"""Does VQGraph's student trail GLNN's because of the tokenizer's soft labels? Per seed,
one GLNN student and one VQGraph student both learn the plain SAGE teacher's soft labels;
the VQGraph student also learns the tokenizer's soft code assignments (VQGraph's defaults
otherwise). Writes one JSON object per seed (validation and test accuracy of both) and
prints the means; compare on validation.

    GKD_DATA_ROOT=../shared/datasets python benchmarks/sweeps/vqgraph_teacher_labels.py \
        cora transductive 10 benchmarks/sweeps/vqgraph/cora-transductive-teacher-labels.jsonl
"""
from __future__ import annotations

import json
import statistics
import sys

from gkd.data.tasks import load_node_task
from gkd.distill import get_distiller
from gkd.experiment import _train_student, node_config
from gkd.io import write_bytes
from gkd.knowledge import Knowledge, teacher_knowledge
from gkd.tokenizer import tokenizer_knowledge

dataset, setting, seeds, output = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
glnn, vqgraph = node_config(dataset, "sage", "glnn"), node_config(dataset, "sage", "vqgraph")
records = []
for seed in range(seeds):
    task = load_node_task(dataset, "cpf", setting=setting, seed=seed)
    teacher = teacher_knowledge(task, "sage", glnn["teacher"])
    tokenizer = tokenizer_knowledge(task, "sage", vqgraph["teacher"])
    hybrid = Knowledge(teacher.logits, tokenizer.embeddings, codebook=tokenizer.codebook,
                       similarity=tokenizer.similarity)
    record = {"seed": seed, "teacher": teacher.meta["metrics"],
              "tokenizer": tokenizer.meta["metrics"]}
    for name, config, knowledge in (("glnn", glnn, teacher), ("vqgraph", vqgraph, hybrid)):
        distiller = get_distiller(name)(**config["distiller"])
        _, record[name], _ = _train_student(task, distiller, config["student"], knowledge)
    records.append(record)
    print(json.dumps(record), flush=True)
write_bytes(output, "".join(json.dumps(r) + "\n" for r in records).encode())
for model in ("teacher", "tokenizer", "glnn", "vqgraph"):
    means = {k: statistics.mean(r[model][k] for r in records) for k in records[0][model]}
    print(model, {k: round(v, 2) for k, v in means.items()})
