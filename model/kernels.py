"""Array kernels of the fast engine (numba). Each mirrors a Resident method line by line."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def co_producer_counts(participating, neighbours, degree):
    """``n_c`` of every group: co-producers among the centre and its neighbours."""
    n = len(degree)
    counts = np.empty(n, np.int32)
    for g in range(n):
        count = np.int64(participating[g])
        for k in range(degree[g]):
            count += participating[neighbours[g, k]]
        counts[g] = count
    return counts


@njit(cache=True)
def _payoff(i, participating, neighbours, degree, share, counts, bonus, cost):
    total = share[i] * counts[i]
    for k in range(degree[i]):
        g = neighbours[i, k]
        total += share[g] * counts[g]
    if participating[i]:
        total += bonus[i] - cost * (degree[i] + 1)
    return total


@njit(cache=True)
def co_production_round(
    participating,
    neighbours,
    degree,
    group_synergy,
    bonus,
    cost,
    noise,
    exploration,
    n_updates,
    seed,
):
    """``n_updates`` elementary updates of random sequential Fermi imitation (in place).

    Same rule as :meth:`agents.Resident.imitate_neighbour`; group counts are kept up to date
    incrementally, so one update costs O(degree) instead of O(degree^2).
    Returns the number of strategy changes.
    """
    np.random.seed(seed)
    n = len(degree)
    counts = co_producer_counts(participating, neighbours, degree)
    share = group_synergy / (degree + 1.0)
    changes = 0
    for _ in range(n_updates):
        x = np.random.randint(0, n)
        if exploration > 0 and np.random.random() < exploration:
            participating[x] = not participating[x]
            delta = 1 if participating[x] else -1
            counts[x] += delta
            for k in range(degree[x]):
                counts[neighbours[x, k]] += delta
            changes += 1
            continue
        y = neighbours[x, np.random.randint(0, degree[x])]
        if participating[x] == participating[y]:
            continue
        gap = _payoff(x, participating, neighbours, degree, share, counts, bonus, cost) - _payoff(
            y, participating, neighbours, degree, share, counts, bonus, cost
        )
        if np.random.random() < 1.0 / (1.0 + np.exp(gap / noise)):
            participating[x] = participating[y]
            delta = 1 if participating[x] else -1
            counts[x] += delta
            for k in range(degree[x]):
                counts[neighbours[x, k]] += delta
            changes += 1
    return changes


@njit(cache=True)
def csr_mean(indptr, indices, values):
    """Mean of ``values`` over each row's entries of a CSR adjacency (own value if none)."""
    n = len(indptr) - 1
    out = np.empty(n)
    for i in range(n):
        start, stop = indptr[i], indptr[i + 1]
        if stop == start:
            out[i] = values[i]
            continue
        total = 0.0
        for k in range(start, stop):
            total += values[indices[k]]
        out[i] = total / (stop - start)
    return out
