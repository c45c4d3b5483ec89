r"""Graph primitives shared by teachers, distillers and the speed protocol.

Reductions and propagation dispatch through :mod:`gkd.ops.backend`: torch-scatter
kernels where installed, plain torch otherwise, with the same results.
"""
from gkd.ops.backend import BACKENDS, available_backends, get_backend, use_backend
from gkd.ops.csr import CSRGraph
from gkd.ops.propagate import normalized_weights, propagate
from gkd.ops.random_walk import random_walk
from gkd.ops.reduce import REDUCTIONS, scatter, segment
from gkd.ops.sampling import k_hop_subgraph, sample_neighbors, sample_non_edges, sample_subgraph
from gkd.ops.sparse import adjacency, pair_dot
from gkd.ops.tree_hash import row_ids, sequence_ids, tree_codes

__all__ = ["BACKENDS", "CSRGraph", "REDUCTIONS", "adjacency", "available_backends",
           "get_backend", "k_hop_subgraph", "normalized_weights", "pair_dot", "propagate",
           "random_walk", "row_ids", "sample_neighbors", "sample_non_edges", "sample_subgraph",
           "scatter", "segment", "sequence_ids", "tree_codes", "use_backend"]
