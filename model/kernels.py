"""Array kernels of the fast engine (numba). Each mirrors a Resident method line by line."""

from __future__ import annotations

import numpy as np
from numba import njit

from model.population import ABANDONED, FIX_FAILED, FIX_HELD


@njit(cache=True, inline="always")
def lattice_neighbours(i, width, height, torus, out):
    """Write the von Neumann neighbours of cell ``i`` into ``out``; return how many.

    Same cells in the same order as ``model.world.von_neumann_lattice`` (left, down, up,
    right), computed from the index so that the update loop reads no neighbour table.
    """
    x, y = divmod(i, height)
    k = 0
    if x > 0:
        out[k] = i - height
        k += 1
    elif torus:
        out[k] = i + (width - 1) * height
        k += 1
    if y > 0:
        out[k] = i - 1
        k += 1
    elif torus:
        out[k] = i + height - 1
        k += 1
    if y < height - 1:
        out[k] = i + 1
        k += 1
    elif torus:
        out[k] = i - (height - 1)
        k += 1
    if x < width - 1:
        out[k] = i + height
        k += 1
    elif torus:
        out[k] = i - (width - 1) * height
        k += 1
    return k


@njit(cache=True)
def group_counts(participating, width, height, torus):
    """``n_c`` of every group: co-producers among the centre and its neighbours, and the
    group sizes."""
    n = len(participating)
    counts = np.empty(n, np.int32)
    sizes = np.empty(n, np.int32)
    members = np.empty(4, np.int64)
    for g in range(n):
        k = lattice_neighbours(g, width, height, torus, members)
        count = np.int64(participating[g])
        for j in range(k):
            count += participating[members[j]]
        counts[g] = count
        sizes[g] = k + 1
    return counts, sizes


@njit(cache=True, inline="always")
def _payoff(i, participating, width, height, torus, value, bonus, cost, members):
    """Payoff of ``i``: the shares ``r_g n_c / |g|`` (``value[g]``) of its groups, minus the
    contribution to each and plus the bonus if it co-produces."""
    k = lattice_neighbours(i, width, height, torus, members)
    total = value[i]
    for j in range(k):
        total += value[members[j]]
    if participating[i]:
        total += bonus[i] - cost * (k + 1)
    return total


@njit(cache=True, inline="always")
def _flip(x, participating, width, height, torus, counts, share, value, members):
    """Toggle ``x``'s strategy and update the counts and shares of its groups."""
    participating[x] = not participating[x]
    delta = 1 if participating[x] else -1
    k = lattice_neighbours(x, width, height, torus, members)
    counts[x] += delta
    value[x] = share[x] * counts[x]
    for j in range(k):
        g = members[j]
        counts[g] += delta
        value[g] = share[g] * counts[g]


@njit(cache=True)
def co_production_round(
    participating,
    width,
    height,
    torus,
    group_synergy,
    bonus,
    cost,
    noise,
    exploration,
    n_updates,
    seed,
):
    """``n_updates`` elementary updates of random sequential Fermi imitation (in place).

    Same rule as :meth:`agents.Resident.imitate_neighbour`. Each group's share
    ``value[g] = r_g n_c(g) / |g|`` is kept up to date when a member changes strategy, so a
    payoff reads five numbers. Returns the number of strategy changes.
    """
    np.random.seed(seed)
    n = len(participating)
    counts, sizes = group_counts(participating, width, height, torus)
    share = group_synergy / sizes
    value = share * counts
    members = np.empty(4, np.int64)
    changes = 0
    for _ in range(n_updates):
        x = np.random.randint(0, n)
        if exploration > 0 and np.random.random() < exploration:
            _flip(x, participating, width, height, torus, counts, share, value, members)
            changes += 1
            continue
        k = lattice_neighbours(x, width, height, torus, members)
        y = members[np.random.randint(0, k)]
        if participating[x] == participating[y]:
            continue
        gap = _payoff(x, participating, width, height, torus, value, bonus, cost, members)
        gap -= _payoff(y, participating, width, height, torus, value, bonus, cost, members)
        if np.random.random() < 1.0 / (1.0 + np.exp(gap / noise)):
            _flip(x, participating, width, height, torus, counts, share, value, members)
            changes += 1
    return changes


@njit(cache=True)
def wellbeing(
    p_trust,
    p_satisfaction,
    p_record,
    outcome,
    delay,
    contacted,
    participating,
    open_issue,
    issue_created,
    issue_severity,
    indptr,
    indices,
    width,
    height,
    torus,
    day,
    max_wait,
    trust_gain,
    trust_loss,
    trust_patience,
    contact_gain,
    social_influence,
    service_memory,
    baseline,
    service_gain,
    public_goods_gain,
    need_penalty,
    delay_penalty,
    satisfaction_rate,
):
    """:meth:`Resident.update_trust`, then :meth:`Resident.listen_to_neighbours` (on the trust
    everyone has after that) and :meth:`Resident.update_satisfaction`, for all households."""
    n = len(p_trust)
    for i in range(n):
        held = outcome[i] == FIX_HELD
        bad = outcome[i] == FIX_FAILED or outcome[i] == ABANDONED
        if held:
            p_trust[i] += trust_gain * np.exp(-delay[i] / trust_patience) * (1 - p_trust[i])
        elif bad:
            p_trust[i] -= trust_loss * p_trust[i]
        if contacted[i]:
            p_trust[i] += contact_gain * (1 - p_trust[i])
        p_record[i] = service_memory * p_record[i] + (1.0 if held else -1.0 if bad else 0.0)
    before = p_trust.copy()
    members = np.empty(4, np.int64)
    for i in range(n):
        start, stop = indptr[i], indptr[i + 1]
        if stop > start:
            total = 0.0
            for k in range(start, stop):
                total += before[indices[k]]
            p_trust[i] = (1 - social_influence) * before[i] + social_influence * total / (
                stop - start
            )
        k = lattice_neighbours(i, width, height, torus, members)
        co_producers = 1.0 if participating[i] else 0.0
        for j in range(k):
            co_producers += participating[members[j]]
        record = p_record[i]
        target = (
            baseline
            + service_gain * record / (1 + abs(record))
            + public_goods_gain * co_producers / (k + 1)
        )
        issue = open_issue[i]
        if issue >= 0:
            target -= need_penalty * issue_severity[issue] / 3
            target -= delay_penalty * min(1.0, (day - issue_created[issue]) / max_wait)
        target = min(1.0, max(0.0, target))
        p_satisfaction[i] += satisfaction_rate * (target - p_satisfaction[i])
