"""Space: the household grid, its partition into communities and grid units, and the social network.

Residents are indexed ``i = x * height + y``, the order in which Mesa creates grid cells, so
array kernels and Mesa cells refer to the same household by the same number.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import networkx as nx
import numpy as np

from model.schema import WorldConfig

LEFT_EDGE, BOTTOM_EDGE, TOP_EDGE, RIGHT_EDGE = 1, 2, 4, 8
"""Bits of :attr:`Grid.edges`: the cell is at x = 0, y = 0, y = height - 1, x = width - 1."""


class Grid(NamedTuple):
    """The shape of the von Neumann lattice, from which the game's kernels compute a cell's
    neighbours (:func:`model.kernels.neighbour`) instead of reading them from a table."""

    height: int  # cells per column: cell i is at x = i // height, y = i % height
    size: int  # cells, N
    torus: bool
    edges: np.ndarray  # (N,) uint8: the edges of the grid each cell lies on (*_EDGE bits)


@dataclass(frozen=True, eq=False)
class Lattice:
    """The von Neumann lattice as arrays: ``neighbours[i]`` padded with -1 to width 4."""

    neighbours: np.ndarray  # (N, 4) int32, -1 where a border cell has fewer neighbours
    degree: np.ndarray  # (N,) int32, 4 on a torus, 2..4 otherwise
    width: int
    height: int
    torus: bool

    @property
    def size(self) -> int:
        """Number of cells (households), N."""
        return len(self.degree)

    @cached_property
    def ghost_padded_neighbours(self) -> np.ndarray:
        """(N, 4) int32: ``neighbours`` with each -1 replaced by ``N``, a ghost cell one past the
        last household, so a kernel that keeps a neutral entry at index ``N`` reads four
        neighbours of every cell without a test (on a torus the two tables are equal)."""
        return np.where(self.neighbours < 0, self.size, self.neighbours).astype(np.int32)

    @cached_property
    def grid(self) -> Grid:
        """The lattice's shape, from which :func:`model.kernels.neighbour` computes the rows of
        :attr:`ghost_padded_neighbours`."""
        x, y = np.divmod(np.arange(self.size), self.height)
        edges = (
            LEFT_EDGE * (x == 0)
            + BOTTOM_EDGE * (y == 0)
            + TOP_EDGE * (y == self.height - 1)
            + RIGHT_EDGE * (x == self.width - 1)
        )
        return Grid(self.height, self.size, self.torus, edges.astype(np.uint8))

    def group_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` over each household's group (itself and its neighbours), by
        shifting the grid one cell in each direction."""
        grid = np.asarray(values, dtype=float).reshape(self.width, self.height)
        total = grid.copy()
        total[1:, :] += grid[:-1, :]
        total[:-1, :] += grid[1:, :]
        total[:, 1:] += grid[:, :-1]
        total[:, :-1] += grid[:, 1:]
        if self.torus:
            total[0, :] += grid[-1, :]
            total[-1, :] += grid[0, :]
            total[:, 0] += grid[:, -1]
            total[:, -1] += grid[:, 0]
        return total.reshape(-1)

    def neighbours_with(self, flags: np.ndarray, households: np.ndarray) -> np.ndarray:
        """For each of ``households``, how many of its neighbours are flagged (as floats)."""
        table = self.neighbours[households]
        return ((table >= 0) & flags[table]).sum(axis=1).astype(float)


def von_neumann_lattice(width: int, height: int, torus: bool) -> Lattice:
    """Neighbour index arrays of a ``width x height`` von Neumann grid (same topology as
    Mesa's ``OrthogonalVonNeumannGrid``)."""
    x, y = np.divmod(np.arange(width * height), height)
    columns = []
    for dx, dy in ((-1, 0), (0, -1), (0, 1), (1, 0)):
        nx_, ny_ = x + dx, y + dy
        if torus:
            nx_, ny_ = nx_ % width, ny_ % height
            valid = np.ones_like(x, dtype=bool)
        else:
            valid = (nx_ >= 0) & (nx_ < width) & (ny_ >= 0) & (ny_ < height)
        columns.append(np.where(valid, nx_ * height + ny_, -1))
    table = np.stack(columns, axis=1)
    # Push the -1 paddings to the right so that neighbours[i, :degree[i]] are the neighbours.
    order = np.argsort(table < 0, axis=1, kind="stable")
    table = np.take_along_axis(table, order, axis=1).astype(np.int32)
    degree = (table >= 0).sum(axis=1).astype(np.int32)
    return Lattice(table, degree, width, height, torus)


def partition_axis(length: int, parts: int) -> np.ndarray:
    """Block index (0..parts-1) of each coordinate 0..length-1, blocks as equal as possible."""
    return np.arange(length) * parts // length


def block_shape(width: int, height: int, parts: int) -> tuple[int, int]:
    """``(nx, ny)`` with ``nx * ny = parts`` whose blocks of a ``width x height`` rectangle are
    closest to square (each axis cut into at most its length)."""
    shapes = [
        (nx, parts // nx)
        for nx in range(1, parts + 1)
        if parts % nx == 0 and nx <= width and parts // nx <= height
    ]
    return min(shapes, key=lambda s: (abs(np.log((width / s[0]) / (height / s[1]))), s))


def blocks(width: int, height: int, households: int) -> tuple[np.ndarray, int]:
    """Cut a ``width x height`` rectangle into ``round(width * height / households)`` (at
    least 1) rectangular blocks as equal and as square as possible; return each cell's block
    (cells in order ``x * height + y``) and the number of blocks."""
    parts = max(1, min(round(width * height / households), width * height))
    while not any(
        parts % n == 0 and n <= width and parts // n <= height for n in range(1, parts + 1)
    ):
        parts -= 1  # a prime count longer than both sides: one block fewer
    nx, ny = block_shape(width, height, parts)
    x, y = np.divmod(np.arange(width * height), height)
    return partition_axis(width, nx)[x] * ny + partition_axis(height, ny)[y], parts


def households_by_label(labels: np.ndarray, n_labels: int) -> list[np.ndarray]:
    """For each label ``0 .. n_labels-1``, the households that carry it, in ascending order
    (``np.flatnonzero(labels == label)`` for every label, in one sort)."""
    order = np.argsort(labels, kind="stable")
    return np.split(order, np.cumsum(np.bincount(labels, minlength=n_labels))[:-1])


@dataclass(frozen=True)
class Partition:
    """Communities (社区) and grid units (网格) as per-household labels."""

    community: np.ndarray  # (N,) community id, 0..n_communities-1
    grid_unit: np.ndarray  # (N,) grid-unit id, 0..n_grid_units-1, nested in communities
    unit_community: np.ndarray  # (n_grid_units,) the community of each grid unit
    n_communities: int

    @property
    def n_grid_units(self) -> int:
        return len(self.unit_community)

    def community_members(self) -> list[np.ndarray]:
        """The households of each community, in ascending order."""
        return households_by_label(self.community, self.n_communities)


def partition(world: WorldConfig) -> Partition:
    """Cut the grid into communities of about ``community_households`` households, and each
    community into grid units of about ``grid_unit_households`` (rectangular blocks, so
    units never straddle communities and a bigger map has more communities, not bigger
    ones)."""
    community, n_communities = blocks(world.width, world.height, world.community_households)
    x, y = np.divmod(np.arange(world.width * world.height), world.height)
    unit = np.empty_like(community)
    unit_community: list[int] = []
    for c, members in enumerate(households_by_label(community, n_communities)):
        lx, ly = x[members] - x[members].min(), y[members] - y[members].min()
        width, height = int(lx.max()) + 1, int(ly.max()) + 1
        local, n_units = blocks(width, height, world.grid_unit_households)
        unit[members] = len(unit_community) + local[lx * height + ly]
        unit_community.extend([c] * n_units)
    return Partition(community, unit, np.asarray(unit_community), n_communities)


class SocialNetwork:
    """Residents' ties: lattice neighbours plus long-range ties from small-world rewiring.

    Each lattice tie ``(i, j)`` is, with probability ``rewiring``, replaced by ``(i, k)`` with
    ``k`` uniform over all households (Watts-Strogatz rewiring on the 2-D lattice); self-loops
    and duplicates are dropped. Stored as CSR arrays; :attr:`graph` gives a networkx view.
    """

    def __init__(self, lattice: Lattice, rewiring: float, rng: np.random.Generator):
        n = lattice.size
        source = np.repeat(np.arange(n), lattice.degree)
        target = lattice.neighbours[lattice.neighbours >= 0]
        keep = source < target  # each undirected lattice tie once
        source, target = source[keep], target[keep]
        rewire = rng.random(len(source)) < rewiring
        target = np.where(rewire, rng.integers(0, n, size=len(source)), target)
        low, high = np.minimum(source, target), np.maximum(source, target)
        keys = np.sort((low * n + high)[low != high])
        keys = keys[np.r_[True, keys[1:] != keys[:-1]]]  # one key per tie, sorted
        self.edges = np.stack(np.divmod(keys, n), axis=1)  # (E, 2) undirected ties, each once
        first = np.concatenate([self.edges[:, 0], self.edges[:, 1]])
        second = np.concatenate([self.edges[:, 1], self.edges[:, 0]])
        order = np.argsort(first * n + second)
        self.degree = np.bincount(first, minlength=n)
        self.indptr = np.concatenate([[0], np.cumsum(self.degree)])
        self.indices = second[order]
        self.size = n

    def neighbours_of(self, i: int) -> np.ndarray:
        """Indices of resident ``i``'s social ties."""
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    @cached_property
    def graph(self) -> nx.Graph:
        """The network as a networkx graph (built on first use; nodes are resident indices)."""
        graph = nx.Graph()
        graph.add_nodes_from(range(self.size))
        graph.add_edges_from(map(tuple, self.edges.tolist()))
        return graph
