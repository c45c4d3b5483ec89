r"""Dataset condensation for graph classification: Mirage and baselines."""
from gkd.condense.experiment import CONDENSERS, run_condensation, summarize_condensation
from gkd.condense.mining import bitsets_from_pairs, frequent_itemsets, item_bitsets
from gkd.condense.mirage import ComputationTrees, DistilledSet, Mirage
from gkd.condense.random import random_subset
from gkd.condense.storage import StorageCount, storage_bytes
from gkd.condense.training import EvalBatches, build_graph_model, train_on_graphs

__all__ = ["CONDENSERS", "ComputationTrees", "DistilledSet", "EvalBatches", "Mirage",
           "StorageCount", "bitsets_from_pairs", "build_graph_model", "frequent_itemsets",
           "item_bitsets", "random_subset", "run_condensation", "storage_bytes",
           "summarize_condensation", "train_on_graphs"]
