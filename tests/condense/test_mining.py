from itertools import combinations

import numpy as np
import pytest

from gkd.condense.mining import bitsets_from_pairs, frequent_itemsets, item_bitsets
from gkd.errors import GkdError

TRANSACTIONS = [{1, 2, 5}, {2, 4}, {2, 3}, {1, 2, 4}, {1, 3}, {2, 3}, {1, 3}, {1, 2, 3, 5},
                {1, 2, 3}]


def _brute_force(transactions, min_support):
    items = sorted(set().union(*transactions))
    found = {}
    for size in range(1, len(items) + 1):
        for itemset in combinations(items, size):
            support = sum(set(itemset) <= t for t in transactions)
            if support >= min_support:
                found[itemset] = support
    return found


def test_mining_recovers_the_frequent_itemsets_of_a_hand_made_list():
    mined = frequent_itemsets(item_bitsets(TRANSACTIONS), 2)
    assert dict(mined) == _brute_force(TRANSACTIONS, 2)
    # the textbook answer at support 2 (Han et al.'s FP-growth example)
    assert dict(mined)[(1, 2, 5)] == 2 and dict(mined)[(1, 2, 3)] == 2
    assert (1, 2, 3, 5) not in dict(mined)
    assert mined[0] == ((2,), 7)  # ordered by decreasing support


def test_closed_and_maximal_itemsets():
    every = dict(frequent_itemsets(item_bitsets(TRANSACTIONS), 2))
    closed = dict(frequent_itemsets(item_bitsets(TRANSACTIONS), 2, kind="closed"))
    maximal = dict(frequent_itemsets(item_bitsets(TRANSACTIONS), 2, kind="maximal"))
    for itemset, support in every.items():
        supersets = [s for s in every if set(itemset) < set(s)]
        assert (itemset in maximal) == (not supersets)
        assert (itemset in closed) == all(every[s] < support for s in supersets)
    assert set(maximal) == {(1, 2, 3), (1, 2, 5), (2, 4)}


def test_pairs_give_the_same_bitsets_as_transactions():
    items = np.array([i for t in TRANSACTIONS for i in sorted(t)])
    owners = np.array([k for k, t in enumerate(TRANSACTIONS) for _ in t])
    assert bitsets_from_pairs(items, owners, len(TRANSACTIONS)) == item_bitsets(TRANSACTIONS)


def test_bad_thresholds_and_explosions_are_errors():
    with pytest.raises(GkdError, match="at least 1"):
        frequent_itemsets(item_bitsets(TRANSACTIONS), 0)
    with pytest.raises(GkdError, match="raise the support"):
        frequent_itemsets(item_bitsets(TRANSACTIONS), 1, max_itemsets=5)
    with pytest.raises(GkdError, match="unknown itemset kind"):
        frequent_itemsets(item_bitsets(TRANSACTIONS), 2, kind="top")


def test_transaction_ids_out_of_range_are_named():
    for transactions in ([0, -1], [0, 5]):
        with pytest.raises(GkdError, match=r"transaction ids must lie in \[0, 3\)"):
            bitsets_from_pairs(np.array([1, 1]), np.array(transactions), 3)


def _closed_and_maximal(transactions, min_support):
    every = _brute_force(transactions, min_support)
    closed = {s: n for s, n in every.items()
              if all(every[t] < n for t in every if set(s) < set(t))}
    maximal = {s: n for s, n in every.items() if not any(set(s) < set(t) for t in every)}
    return closed, maximal


def test_closed_and_maximal_mining_match_brute_force_on_random_transactions():
    rng = np.random.RandomState(0)
    for _ in range(60):
        size = rng.randint(1, 12)
        transactions = [set(rng.choice(7, rng.randint(0, 6), replace=False).tolist())
                        for _ in range(size)]
        for min_support in (1, 2, 3):
            closed, maximal = _closed_and_maximal(transactions, min_support)
            bitsets = item_bitsets(transactions)
            assert dict(frequent_itemsets(bitsets, min_support, kind="closed")) == closed
            assert dict(frequent_itemsets(bitsets, min_support, kind="maximal")) == maximal


def test_closed_mining_is_capped_by_closed_itemsets_only():
    identical = [set(range(14))] * 12  # 16,383 frequent itemsets, one closed
    assert frequent_itemsets(item_bitsets(identical), 5, kind="closed",
                             max_itemsets=10) == [(tuple(range(14)), 12)]
    with pytest.raises(GkdError, match="more than 10 frequent itemsets"):
        frequent_itemsets(item_bitsets(identical), 5, max_itemsets=10)
