r"""Exact canonical codes of computation trees, vectorised over all nodes of all graphs.

The L-hop computation tree of a node is what an L-layer message-passing GNN sees of it:
the node, then all its neighbours (the one it came from included), their neighbours,
and so on, with node and edge labels. Two trees are isomorphic exactly when the nodes
get the same colour after L rounds of the relabelling

.. math::
    c_t(v) = \mathrm{id}_t\big(c_{t-1}(v),\ \{\!\{(\ell(u, v),\ c_{t-1}(u)) : u \in
    \mathcal{N}(v)\}\!\}\big),

where :math:`\mathrm{id}_t` numbers the distinct signatures of round :math:`t`. Each
signature is a sequence (own colour, then the sorted child keys), and sequences are
numbered with sorts and ``unique`` only: exact, so different trees never share a code
(unlike hashing by concatenating digits), no Python loop over nodes, and memory linear in
the number of edges (a hub of high degree costs its edges, not a row that wide for every
node).
"""
from __future__ import annotations

import torch
from torch import Tensor

from gkd.errors import GkdError
from gkd.ops.checks import check_count, check_edge_index, check_ptr, is_integer

_INT64_LIMIT = 2**62


def dense_rank(values: Tensor) -> Tensor:
    r"""The rank of every value among the distinct values of :obj:`values`: equal
    values get equal ranks, in ``[0, number of distinct values)``, ordered by value.

    Args:
        values (Tensor): a 1-D tensor.

    Returns:
        Tensor: ``torch.long`` ranks of the same shape.
    """
    return torch.unique(values, sorted=True, return_inverse=True)[1]


def row_ids(rows: Tensor) -> Tensor:
    r"""Numbers the distinct rows of an integer matrix :math:`(N, K)` with non-negative
    entries: equal rows get equal ids in ``[0, number of distinct rows)``, ordered
    lexicographically.

    Columns are folded into one integer (``id * base + column``) for as long as the
    result fits in int64, then re-ranked; exact, and several times faster than
    ``torch.unique(rows, dim=0)``.

    Args:
        rows (Tensor): a non-negative integer matrix :math:`(N, K)`.

    Returns:
        Tensor: ``torch.long`` ids :math:`(N)`.

    Raises:
        GkdError: :obj:`rows` is not 2-D or is floating point, holds a negative entry,
            or has too many distinct values to fold exactly into int64.
    """
    if rows.dim() != 2 or rows.size(1) == 0 or not is_integer(rows):
        raise GkdError(f"row_ids takes an integer matrix with at least one column; got "
                       f"{rows.dtype} of shape {tuple(rows.shape)}")
    if rows.size(0) == 0:
        return rows.new_zeros(0, dtype=torch.long)
    rows = rows.long()
    low, high = torch.aminmax(rows, dim=0)
    if bool((low < 0).any()):
        raise GkdError(f"row_ids takes non-negative entries; got {int(low.min())}")
    columns, bases = list(rows.unbind(1)), [int(top) + 1 for top in high.tolist()]
    for j, base in enumerate(bases):
        if base >= _INT64_LIMIT:  # too wide to fold: its ranks keep the order
            columns[j] = dense_rank(columns[j])
            bases[j] = int(columns[j].max()) + 1
    ids, bound = columns[0], bases[0]
    for j in range(1, len(columns)):
        if bound * bases[j] >= _INT64_LIMIT:
            ids = dense_rank(ids)
            bound = int(ids.max()) + 1
        if bound * bases[j] >= _INT64_LIMIT:  # a wide column: its ranks keep the order
            columns[j] = dense_rank(columns[j])
            bases[j] = int(columns[j].max()) + 1
        if bound * bases[j] >= _INT64_LIMIT:
            raise GkdError("row_ids: too many distinct values to fold exactly into int64")
        ids = ids * bases[j] + columns[j]
        bound *= bases[j]
    return dense_rank(ids)


def feature_labels(features: Tensor | None, num_rows: int) -> Tensor:
    r"""One integer label per row of a discrete feature matrix (equal rows, equal
    labels); all zeros when :obj:`features` is ``None``.

    Args:
        features (Tensor or None): integer or one-hot features :math:`(N, F)`, or
            ``None`` for unlabelled nodes.
        num_rows (int): :math:`N`, for the ``None`` case.

    Returns:
        Tensor: ``torch.long`` labels :math:`(N)` in ``[0, number of distinct rows)``.

    Raises:
        GkdError: floating-point :obj:`features` that are not finite whole numbers.
    """
    if features is None or features.numel() == 0:
        return torch.zeros(num_rows, dtype=torch.long)
    features = features.flatten(1) if features.dim() > 1 else features.unsqueeze(1)
    if features.is_floating_point():
        if not bool(torch.isfinite(features).all()):
            raise GkdError("computation trees need finite node and edge labels; got NaN or "
                           "infinite features")
        if not torch.equal(features, features.round()):
            raise GkdError("computation trees need discrete node and edge labels; got "
                           "non-integer features")
    # ranked column by column, not cast: a float beyond int64, or an integer column
    # spanning more than int64, would otherwise merge distinct values
    return row_ids(torch.stack([dense_rank(column) for column in features.unbind(1)], dim=1))


def sequence_ids(values: Tensor, ptr: Tensor) -> Tensor:
    r"""Numbers the distinct integer sequences ``values[ptr[i]:ptr[i + 1]]``: equal
    sequences get equal ids in ``[0, number of distinct sequences)``, ordered
    lexicographically (a proper prefix before its extensions).

    Blocks of :math:`2^k` tokens are ranked by prefix doubling, as in suffix sorting: the
    rank of a block of :math:`2^{k+1}` is the rank of the pair of its halves. Time and
    memory are linear in :obj:`values` per round, with :math:`\lceil \log_2 \rceil` of the
    longest sequence rounds, however unequal the lengths.

    Args:
        values (Tensor): the concatenated sequences, integers :math:`(M)`.
        ptr (Tensor): sequence boundaries :math:`(S + 1)`, non-decreasing, from ``0`` to
            :math:`M`.

    Returns:
        Tensor: ``torch.long`` ids :math:`(S)`.

    Raises:
        GkdError: :obj:`values` is not an integer vector, or :obj:`ptr` does not rise
            from ``0`` to :math:`M`.
    """
    if values.dim() != 1 or not is_integer(values):
        raise GkdError(f"sequence_ids takes an integer vector of values; got {values.dtype} "
                       f"of shape {tuple(values.shape)}")
    ptr = check_ptr(ptr, values.numel())
    lengths = ptr[1:] - ptr[:-1]
    num_sequences = lengths.numel()
    if values.numel() == 0:
        return values.new_zeros(num_sequences, dtype=torch.long)
    sequence = torch.repeat_interleave(torch.arange(num_sequences, device=values.device),
                                       lengths)
    remaining = ptr[1:][sequence] - torch.arange(values.numel(), device=values.device)
    rank = dense_rank(values) + 1  # 0 marks the padding past a sequence's end
    width = 1
    while width < int(lengths.max()):
        has_next = remaining > width
        following = torch.zeros_like(rank)
        following[has_next] = rank[has_next.nonzero().view(-1) + width]
        rank = dense_rank(rank * (values.numel() + 1) + following) + 1
        width *= 2
    first = rank.new_zeros(num_sequences)  # the empty sequence sorts first
    first[lengths > 0] = rank[ptr[:-1][lengths > 0]]
    return dense_rank(first)


def tree_codes(labels: Tensor, edge_index: Tensor, num_hops: int,
               edge_labels: Tensor | None = None) -> Tensor:
    r"""The canonical code of every node's computation tree of every depth up to
    :obj:`num_hops`.

    Codes of the same depth are comparable across all graphs passed together (give all
    graphs of a dataset as one disjoint union); codes of different depths, or of
    separate calls, are not.

    Node and edge labels may be any integers: only which labels are equal matters, and
    both are replaced by their ranks among the distinct labels first.

    Args:
        labels (Tensor): an integer label per node :math:`(N)`.
        edge_index (Tensor): directed edges :math:`(2, E)`; node ``v`` receives from
            ``u`` along ``(u, v)`` (give both directions for undirected graphs).
        num_hops (int): the tree depth :math:`L` (the number of GNN layers).
        edge_labels (Tensor, optional): an integer label per edge :math:`(E)`.
            (default: ``None``, all edges alike)

    Returns:
        Codes :math:`(L + 1, N)`: row ``t`` holds the depth-``t`` tree codes, in
        ``[0, number of distinct depth-t trees)``; row ``0`` is the rank of the label.

    Raises:
        GkdError: :obj:`num_hops` is not a non-negative integer, :obj:`labels` not an
            integer vector, :obj:`edge_index` not an integer ``[2, E]`` tensor of node
            ids in ``[0, N)``, or :obj:`edge_labels` not one integer label per edge.
    """
    check_count(num_hops, "num_hops")
    if labels.dim() != 1 or not is_integer(labels):
        raise GkdError(f"tree_codes takes one integer label per node (a vector; see "
                       f"feature_labels for feature rows); got {labels.dtype} of shape "
                       f"{tuple(labels.shape)}")
    num_nodes = labels.numel()
    check_edge_index(edge_index, num_nodes)
    if num_nodes == 0:
        return torch.zeros(num_hops + 1, 0, dtype=torch.long, device=labels.device)
    src, dst = edge_index.long()  # the (receiver, key) sort keys need 64 bits
    if edge_labels is None:
        edge_labels = torch.zeros(src.numel(), dtype=torch.long, device=src.device)
    elif edge_labels.numel() != src.numel() or not is_integer(edge_labels):
        raise GkdError(f"tree_codes takes one integer edge label per edge; got "
                       f"{edge_labels.numel()} {edge_labels.dtype} labels for {src.numel()} "
                       f"edges")
    else:  # ranks keep the order of the labels, and so the codes, but are never negative
        edge_labels = dense_rank(edge_labels.long().view(-1))
    order = torch.sort(dst, stable=True).indices  # edges grouped by receiver
    src, dst, edge_labels = src[order], dst[order], edge_labels[order]
    degree = torch.bincount(dst, minlength=num_nodes)
    # each node's signature: its own colour at ptr[v], then its children's keys
    ptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=dst.device)
    ptr[1:] = torch.cumsum(degree + 1, 0)
    own, slots = ptr[:-1], int(ptr[-1])
    child = torch.ones(slots, dtype=torch.bool, device=dst.device)
    child[own] = False

    codes = [dense_rank(labels.long().view(-1))]
    for _ in range(num_hops):
        previous = codes[-1]
        key = edge_labels * (int(previous.max()) + 1) + previous[src]
        # Sort each receiver's keys so that the signature is the multiset, not an
        # ordering; dst is sorted, so sorting (dst, key) as one integer keeps the groups.
        span = int(key.max()) + 1 if key.numel() else 1
        if num_nodes * span >= _INT64_LIMIT:
            raise GkdError("tree_codes: too many distinct trees to sort exactly in int64")
        signature = torch.empty(slots, dtype=torch.long, device=dst.device)
        signature[own] = previous
        signature[child] = torch.sort(dst * span + key).values - dst * span
        codes.append(sequence_ids(signature, ptr))
    return torch.stack(codes)
