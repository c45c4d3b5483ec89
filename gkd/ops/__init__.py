r"""Graph primitives shared by teachers, distillers and the speed protocol."""
from gkd.ops.sampling import CSRGraph, sample_neighbors, sample_subgraph
from gkd.ops.sparse import adjacency

__all__ = ["CSRGraph", "adjacency", "sample_neighbors", "sample_subgraph"]
