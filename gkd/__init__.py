r"""gkd: knowledge distillation on graphs.

The path through the library: dataset -> task -> teacher -> knowledge -> distiller ->
student -> evaluation.
"""
__version__ = "0.1.0"

from gkd.condense import Mirage  # noqa: E402
from gkd.data import (  # noqa: E402
    GraphSetTask,
    NodeTask,
    load_dataset,
    load_graph_task,
    load_node_task,
    make_node_task,
)
from gkd.distill import GLNN, KRD, Distiller, VQGraph  # noqa: E402
from gkd.errors import DatasetNotFoundError, GkdError  # noqa: E402
from gkd.evaluation import accuracy, evaluate  # noqa: E402
from gkd.knowledge import Knowledge, extract_knowledge, teacher_knowledge  # noqa: E402
from gkd.nn import MLP  # noqa: E402
from gkd.students import load_student, save_student  # noqa: E402
from gkd.teachers import build_teacher, teacher_config, train_teacher  # noqa: E402

__all__ = [
    "DatasetNotFoundError", "Distiller", "GLNN", "GkdError", "GraphSetTask", "KRD", "Knowledge",
    "MLP", "Mirage", "NodeTask", "VQGraph", "load_graph_task",
    "accuracy", "build_teacher", "evaluate", "extract_knowledge", "load_dataset",
    "load_node_task", "load_student", "make_node_task", "save_student", "teacher_config",
    "teacher_knowledge", "train_teacher",
    "__version__",
]
