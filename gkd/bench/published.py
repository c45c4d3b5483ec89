r"""Published reference numbers, with where they come from and how far to trust them
(``shared/docs/methods/*.md``, "Published numbers").

Each entry maps ``(method, dataset, setting)`` to ``{model: (mean, std or None, label)}``;
inductive entries are the production mix ``0.8 tran + 0.2 ind`` (published without std).
"""
from __future__ import annotations

PAPER = "paper, validation-selected"
RECOLLECTION = "unverified recollection"
GLNN_SOURCE = "GLNN (Zhang et al., ICLR 2022), Tables 2 and 3"

_GLNN_TRANSDUCTIVE = {  # dataset: teacher SAGE, MLP, GLNN
    "cora": ((80.52, 1.77), (59.22, 1.31), (80.54, 1.35)),
    "citeseer": ((70.33, 1.97), (59.61, 2.88), (71.77, 2.01)),
    "pubmed": ((75.39, 2.09), (67.55, 2.31), (75.42, 2.31)),
    "a-computer": ((82.97, 2.16), (67.80, 1.06), (83.03, 1.87)),
    "a-photo": ((90.90, 0.84), (78.58, 1.68), (92.11, 1.08)),
}
_GLNN_PRODUCTION = {
    "cora": (79.29, 58.98, 78.28),
    "citeseer": (68.38, 59.81, 69.27),
    "pubmed": (74.88, 66.80, 74.71),
    "a-computer": (82.14, 67.38, 82.29),
    "a-photo": (91.08, 79.25, 92.38),
}

PUBLISHED: dict[tuple[str, str, str], dict[str, tuple[float, float | None, str]]] = {}
for _name, (_t, _m, _s) in _GLNN_TRANSDUCTIVE.items():
    PUBLISHED[("glnn", _name, "transductive")] = {
        "teacher": (*_t, RECOLLECTION), "mlp": (*_m, RECOLLECTION), "student": (*_s, PAPER)}
for _name, _values in _GLNN_PRODUCTION.items():
    PUBLISHED[("glnn", _name, "inductive")] = {
        model: (value, None, PAPER) for model, value in zip(("teacher", "mlp", "student"),
                                                             _values)}

# GLNN's accuracy-vs-latency figure: ogbn-products, 10 nodes, 3-layer SAGE against a
# 3-layer MLP of width 2048; neither the hardware nor the timing protocol is documented.
PUBLISHED_SPEED = {"dataset": "ogbn-products", "teacher_ms": 2071.3, "student_ms": 7.56,
                   "speedup": 273.0, "label": "paper figure; protocol unverified"}
