r"""Frequent itemset mining with an absolute support threshold.

A depth-first (Eclat) miner over vertical transaction bitsets: each item keeps the set
of transactions containing it as one Python integer, and the support of an itemset is
the population count of the AND of its items' bitsets. Exact, dependency-free, and fast
for the few dense items that pass the thresholds Mirage uses.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from gkd.errors import GkdError

ITEMSET_KINDS = ("all", "closed", "maximal")

Itemset = tuple[tuple[int, ...], int]


def item_bitsets(transactions: Sequence[Iterable[int]]) -> dict[int, int]:
    r"""The vertical form of :obj:`transactions`: for each item, an integer whose bit
    ``i`` is set when transaction ``i`` contains the item.

    Args:
        transactions (Sequence[Iterable[int]]): the items of each transaction (repeats
            count once).

    Returns:
        dict[int, int]: ``{item: transaction bitset}``.
    """
    bits: dict[int, int] = {}
    for t, transaction in enumerate(transactions):
        for item in set(transaction):
            bits[item] = bits.get(item, 0) | (1 << t)
    return bits


def bitsets_from_pairs(items: np.ndarray, transactions: np.ndarray,
                       num_transactions: int) -> dict[int, int]:
    r"""The vertical form of (item, transaction) pairs, vectorised: ``{item: bitset}``.

    Args:
        items (np.ndarray): the item of each pair.
        transactions (np.ndarray): the transaction of each pair, in
            ``[0, num_transactions)``.
        num_transactions (int): the number of transactions.

    Returns:
        dict[int, int]: ``{item: bitset}``, bit ``t`` set when a pair puts the item in
        transaction ``t`` (repeated pairs count once); empty without pairs.
    """
    if items.size == 0:
        return {}
    if transactions.min() < 0 or transactions.max() >= num_transactions:
        raise GkdError(f"transaction ids must lie in [0, {num_transactions}); got "
                       f"{transactions.min()} to {transactions.max()}")
    distinct, row = np.unique(items, return_inverse=True)
    member = np.zeros((distinct.size, num_transactions), dtype=bool)
    member[row, transactions] = True
    packed = np.packbits(member, axis=1, bitorder="little")
    return {int(item): int.from_bytes(packed[i].tobytes(), "little")
            for i, item in enumerate(distinct)}


def frequent_itemsets(bitsets: dict[int, int], min_support: int, *, kind: str = "all",
                      max_itemsets: int = 100_000) -> list[Itemset]:
    r"""All itemsets contained in at least :obj:`min_support` transactions.

    Args:
        bitsets (dict[int, int]): ``{item: transaction bitset}``, see
            :func:`item_bitsets` and :func:`bitsets_from_pairs`.
        min_support (int): the absolute support threshold (a transaction count).
        kind (str, optional): ``"all"`` frequent itemsets; ``"closed"`` ones (no
            superset has the same support); or ``"maximal"`` ones (no frequent superset).
            (default: ``"all"``)
        max_itemsets (int, optional): stop with an error beyond this many frequent
            itemsets (the threshold is too low). (default: ``100000``)

    Returns:
        ``[(sorted items, support), ...]`` ordered by decreasing support, then items.

    Raises:
        GkdError: an unknown :obj:`kind`, :obj:`min_support` below 1, or more than
            :obj:`max_itemsets` frequent itemsets (counted before the closed or maximal
            filter).
    """
    if kind not in ITEMSET_KINDS:
        raise GkdError(f"unknown itemset kind '{kind}'; choose from {', '.join(ITEMSET_KINDS)}")
    if min_support < 1:
        raise GkdError(f"min_support must be at least 1 transaction; got {min_support}")
    frequent = [(item, bits) for item, bits in bitsets.items()
                if bits.bit_count() >= min_support]
    frequent.sort(key=lambda pair: (pair[1].bit_count(), pair[0]))
    found: list[Itemset] = []

    def extend(prefix: tuple[int, ...], candidates: list[tuple[int, int]]) -> None:
        for i, (item, bits) in enumerate(candidates):
            itemset = prefix + (item,)
            found.append((tuple(sorted(itemset)), bits.bit_count()))
            if len(found) > max_itemsets:
                raise GkdError(f"more than {max_itemsets} frequent itemsets at support "
                               f"{min_support}; raise the support threshold")
            children = []
            for other, other_bits in candidates[i + 1:]:
                joint = bits & other_bits
                if joint.bit_count() >= min_support:
                    children.append((other, joint))
            if children:
                extend(itemset, children)

    extend((), frequent)
    if kind != "all":
        found = _filter(found, kind)
    return sorted(found, key=lambda itemset: (-itemset[1], itemset[0]))


def _filter(itemsets: list[Itemset], kind: str) -> list[Itemset]:
    # By downward closure, X has a frequent superset (of equal support) exactly when it has
    # a one-item extension that is frequent (of equal support): only those are checked.
    support = {frozenset(items): count for items, count in itemsets}
    items = set().union(*support) if support else set()
    kept = []
    for itemset, count in itemsets:
        members = frozenset(itemset)
        extended = (support.get(members | {item}) for item in items - members)
        if kind == "maximal":
            covered = any(other is not None for other in extended)
        else:
            covered = any(other == count for other in extended)
        if not covered:
            kept.append((itemset, count))
    return kept
