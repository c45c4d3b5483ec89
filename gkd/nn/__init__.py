r"""Teacher and student models."""
from gkd.nn.appnp import APPNP
from gkd.nn.gat import GAT
from gkd.nn.graph_gnn import GraphGNN
from gkd.nn.mlp import MLP
from gkd.nn.sage import SAGE, GCNAggregatorConv
from gkd.nn.tokenizer import GraphTokenizer, TokenizerOutput
from gkd.nn.vq import VectorQuantizer, VQOutput, code_scores, codebook_usage

__all__ = ["APPNP", "GAT", "GCNAggregatorConv", "GraphGNN", "GraphTokenizer", "MLP", "SAGE",
           "TokenizerOutput", "VQOutput", "VectorQuantizer", "code_scores", "codebook_usage"]
