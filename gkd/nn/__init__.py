r"""Teacher and student models."""
from gkd.nn.appnp import APPNP
from gkd.nn.gat import GAT
from gkd.nn.mlp import MLP

__all__ = ["APPNP", "GAT", "MLP"]
