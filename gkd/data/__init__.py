r"""Datasets, splits and tasks."""
from gkd.data.datasets import DATASETS, cache_dir, data_root, load_dataset, read_npz_graph
from gkd.data.graphsets import (
    GRAPH_DATASETS,
    TU_SPLITS,
    GraphSetTask,
    load_graph_task,
    mirage_split,
    stratified_split,
)
from gkd.data.links import LINK_SETTINGS, LinkPairs, LinkTask, load_link_task, make_link_task
from gkd.data.splits import inductive_split, mask_split, per_class_split, random_split
from gkd.data.tasks import (
    PROTOCOLS,
    SETTINGS,
    EvalSet,
    NodeTask,
    largest_connected_component,
    load_node_task,
    make_node_task,
)

__all__ = [
    "DATASETS", "GRAPH_DATASETS", "GraphSetTask", "PROTOCOLS", "SETTINGS", "EvalSet",
    "NodeTask", "cache_dir", "data_root",
    "inductive_split", "largest_connected_component", "load_dataset", "load_node_task",
    "make_node_task", "mask_split", "per_class_split", "random_split", "read_npz_graph",
    "TU_SPLITS", "load_graph_task", "mirage_split", "stratified_split",
    "LINK_SETTINGS", "LinkPairs", "LinkTask", "load_link_task", "make_link_task",
]
