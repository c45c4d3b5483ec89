r"""Distillers: each turns a task and a teacher's knowledge into a trained student."""
from gkd.distill.base import Distiller
from gkd.distill.glnn import GLNN
from gkd.distill.krd import KRD
from gkd.distill.vqgraph import VQGraph
from gkd.errors import GkdError

DISTILLERS: dict[str, type[Distiller]] = {cls.name: cls for cls in (GLNN, KRD, VQGraph)}


def get_distiller(name: str) -> type[Distiller]:
    r"""The distiller class registered as :obj:`name`.

    Args:
        name (str): a key of :data:`DISTILLERS`: ``"glnn"``, ``"krd"`` or ``"vqgraph"``.

    Returns:
        type[Distiller]: the class (not an instance).

    Raises:
        GkdError: :obj:`name` is not registered.
    """
    try:
        return DISTILLERS[name]
    except KeyError:
        raise GkdError(f"unknown method '{name}'; choose from {', '.join(DISTILLERS)}") from None


__all__ = ["DISTILLERS", "Distiller", "GLNN", "KRD", "VQGraph", "get_distiller"]
