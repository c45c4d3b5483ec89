r"""Graph primitives shared by teachers, distillers and the speed protocol."""
from gkd.ops.sparse import adjacency

__all__ = ["adjacency"]
