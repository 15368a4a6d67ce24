"""A minimal numba kernel of the canonical spatial public goods game, written independently of
``model/kernels.py``: the yardstick ``cogov-bench --only core`` measures cogov against.

Periodic ``width x height`` lattice, cell ``i = x * height + y``, von Neumann groups of five,
payoff per group ``r n_c / 5 - c`` for a co-producer, Fermi imitation of a uniformly drawn
neighbour with noise ``K``, random sequential updating. It draws from numba's Mersenne Twister
in the order cogov's kernel does, so from the same state and seed both follow one trajectory.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def torus_neighbours(width: int, height: int) -> np.ndarray:
    """(N, 4) int32: the left, down, up and right neighbours of every cell of the torus."""
    x, y = np.divmod(np.arange(width * height), height)
    return np.stack(
        [
            (x - 1) % width * height + y,
            x * height + (y - 1) % height,
            x * height + (y + 1) % height,
            (x + 1) % width * height + y,
        ],
        axis=1,
    ).astype(np.int32)


@njit(cache=True, inline="always")
def _payoff(i, strategy, neighbours, synergy, cost):
    """Sum over the five groups containing ``i`` of ``r n_c / 5``, minus ``5 c`` if ``i``
    co-produces (payoff units)."""
    total = 0.0
    for k in range(5):
        centre = i if k == 0 else neighbours[i, k - 1]
        n_c = strategy[centre]
        for j in range(4):
            n_c += strategy[neighbours[centre, j]]
        total += synergy * n_c / 5.0
    return total - 5.0 * cost * strategy[i]


@njit(cache=True)
def play(strategy, neighbours, synergy, cost, noise, n_updates, seed):
    """``n_updates`` elementary updates in place on ``strategy`` (uint8, 1 = co-producer)."""
    np.random.seed(seed)
    n = len(strategy)
    for _ in range(n_updates):
        x = np.random.randint(0, n)
        y = neighbours[x, np.random.randint(0, 4)]
        if strategy[x] == strategy[y]:
            continue
        gap = _payoff(x, strategy, neighbours, synergy, cost)
        gap -= _payoff(y, strategy, neighbours, synergy, cost)
        if np.random.random() < 1.0 / (1.0 + np.exp(gap / noise)):
            strategy[x] = strategy[y]
