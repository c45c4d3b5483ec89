r"""Frequent itemset mining with an absolute support threshold.

A depth-first (Eclat) miner over vertical transaction bitsets: each item keeps the set
of transactions containing it as one Python integer, and the support of an itemset is
the population count of the AND of its items' bitsets. Exact, dependency-free, and fast
for the few dense items that pass the thresholds Mirage uses.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

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
    r"""The itemsets contained in at least :obj:`min_support` transactions.

    ``"all"`` enumerates them depth-first; ``"closed"`` and ``"maximal"`` enumerate only
    the closed ones, each once, by prefix-preserving closure extension (LCM, Uno et al.,
    2004), so that a few closed itemsets are found without listing the many frequent
    itemsets they stand for.

    Args:
        bitsets (dict[int, int]): ``{item: transaction bitset}``, see
            :func:`item_bitsets` and :func:`bitsets_from_pairs`.
        min_support (int): the absolute support threshold (a transaction count).
        kind (str, optional): ``"all"`` frequent itemsets; ``"closed"`` ones (no
            superset has the same support); or ``"maximal"`` ones (no frequent superset).
            (default: ``"all"``)
        max_itemsets (int, optional): stop with an error beyond this many itemsets of
            the enumeration (all frequent ones, or the closed ones for ``"closed"`` and
            ``"maximal"``): the threshold is too low. (default: ``100000``)

    Returns:
        ``[(sorted items, support), ...]`` ordered by decreasing support, then items.

    Raises:
        GkdError: an unknown :obj:`kind`, :obj:`min_support` below 1, or more than
            :obj:`max_itemsets` itemsets enumerated.
    """
    if kind not in ITEMSET_KINDS:
        raise GkdError(f"unknown itemset kind '{kind}'; choose from {', '.join(ITEMSET_KINDS)}")
    if min_support < 1:
        raise GkdError(f"min_support must be at least 1 transaction; got {min_support}")
    frequent = [(item, bits) for item, bits in bitsets.items()
                if bits.bit_count() >= min_support]
    frequent.sort(key=lambda pair: (pair[1].bit_count(), pair[0]))
    found: list[Itemset] = []

    def keep(itemset: tuple[int, ...], support: int) -> None:
        found.append((tuple(sorted(itemset)), support))
        if len(found) > max_itemsets:
            raise GkdError(f"more than {max_itemsets} {'frequent' if kind == 'all' else kind} "
                           f"itemsets at support {min_support}; raise the support threshold")

    if kind == "all":
        _all_itemsets(frequent, min_support, keep)
    else:
        _closed_itemsets(frequent, min_support, keep)
    if kind == "maximal":
        found = _maximal(found, frequent, min_support)
    return sorted(found, key=lambda itemset: (-itemset[1], itemset[0]))


def _all_itemsets(frequent: list[tuple[int, int]], min_support: int,
                  keep: Callable[[tuple[int, ...], int], None]) -> None:
    def extend(prefix: tuple[int, ...], candidates: list[tuple[int, int]]) -> None:
        for i, (item, bits) in enumerate(candidates):
            itemset = prefix + (item,)
            keep(itemset, bits.bit_count())
            children = []
            for other, other_bits in candidates[i + 1:]:
                joint = bits & other_bits
                if joint.bit_count() >= min_support:
                    children.append((other, joint))
            if children:
                extend(itemset, children)

    extend((), frequent)


def _closed_itemsets(frequent: list[tuple[int, int]], min_support: int,
                     keep: Callable[[tuple[int, ...], int], None]) -> None:
    # Items are ranked by their position in `frequent`. The closure of a transaction set
    # is every item whose transactions include it; a closed itemset is extended by each
    # item ranked above its core (the item that made it) and not in it, and the closure of
    # the extension is kept only if it adds no item ranked below that item: then each
    # closed itemset has one parent and is reached once.
    def closure(transactions: int) -> frozenset[int]:
        return frozenset(rank for rank, (_, bits) in enumerate(frequent)
                         if bits & transactions == transactions)

    def extend(closed: frozenset[int], transactions: int, core: int) -> None:
        for rank in range(core + 1, len(frequent)):
            if rank in closed:
                continue
            joint = transactions & frequent[rank][1]
            if joint.bit_count() < min_support:
                continue
            extended = closure(joint)
            if any(r < rank and r not in closed for r in extended):
                continue  # reached from another parent
            keep(tuple(frequent[r][0] for r in extended), joint.bit_count())
            extend(extended, joint, rank)

    everything = (1 << max((bits.bit_length() for _, bits in frequent), default=0)) - 1
    root = closure(everything) if frequent else frozenset()
    if root:  # items in every transaction: the closure of the empty itemset
        keep(tuple(frequent[r][0] for r in root), everything.bit_count())
    extend(root, everything, -1)


def _maximal(closed: list[Itemset], frequent: list[tuple[int, int]],
             min_support: int) -> list[Itemset]:
    # A maximal itemset is closed; a closed one is maximal when no one-item extension is
    # frequent (by downward closure, a frequent superset implies a frequent one-item one).
    bits = dict(frequent)
    kept = []
    for itemset, support in closed:
        transactions = -1
        for item in itemset:
            transactions &= bits[item]
        if not any((transactions & other).bit_count() >= min_support
                   for item, other in frequent if item not in itemset):
            kept.append((itemset, support))
    return kept
