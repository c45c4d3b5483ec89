r"""Teacher and student models."""
from gkd.nn.appnp import APPNP
from gkd.nn.gat import GAT
from gkd.nn.mlp import MLP
from gkd.nn.sage import SAGE, GCNAggregatorConv

__all__ = ["APPNP", "GAT", "GCNAggregatorConv", "MLP", "SAGE"]
