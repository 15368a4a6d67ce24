"""The world: lattice arrays agree with Mesa's grid; communities, grid units, social network."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.kernels import neighbour
from model.schema import WorldConfig
from model.world import SocialNetwork, partition, von_neumann_lattice
from tests.conftest import build, days, world


@given(width=st.integers(3, 9), height=st.integers(3, 9), torus=st.booleans())
def test_lattice_arrays_match_mesa_grid(width, height, torus):
    model = build(*world(width, height), f"world.torus={torus}", *days(0))
    lattice = model.lattice
    for resident in model.resident_list:
        x, y = resident.cell.coordinate
        assert resident.index == x * height + y
        mesa_neighbours = sorted(a.index for a in resident.cell.neighborhood.agents)
        ours = sorted(lattice.neighbours[resident.index, : lattice.degree[resident.index]])
        assert ours == mesa_neighbours
        assert (lattice.neighbours[resident.index, lattice.degree[resident.index] :] == -1).all()


def test_fast_engine_places_residents_on_first_use():
    """The fast engine runs without Mesa's grid and Resident agents; they appear when asked
    for, one per household, and read and write the population arrays."""
    from agents import Resident

    model = build(*world(6), "engine=fast", *days(3))
    model.run_for(3)
    assert model._resident_list is None and Resident not in model.agents_by_type
    resident = model.resident_list[7]
    assert len(model.agents_by_type[Resident]) == 36 and model.grid.width == 6
    assert resident.trust == model.population.trust[7]
    resident.trust = 0.25
    assert model.population.trust[7] == 0.25
    model.run_for(1)  # the run goes on with the residents in place
    assert model.resident_list[7] is resident


@given(
    width=st.integers(1, 9),
    height=st.integers(1, 9),
    torus=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_neighbour_counts_are_group_sums(width, height, torus, seed):
    """Counting flagged neighbours from the lattice table (building leaders) gives the group
    sum less the household itself, also on a torus so small that a neighbour repeats."""
    lattice = von_neumann_lattice(width, height, torus)
    flags = np.random.default_rng(seed).random(lattice.size) < 0.5
    households = np.arange(lattice.size)
    expected = lattice.group_sum(flags) - flags
    assert np.array_equal(lattice.neighbours_with(flags, households), expected)


def test_torus_gives_every_household_four_neighbours():
    lattice = von_neumann_lattice(7, 5, torus=True)
    assert (lattice.degree == 4).all()
    open_grid = von_neumann_lattice(7, 5, torus=False)
    assert sorted(set(open_grid.degree.tolist())) == [2, 3, 4]
    assert (open_grid.degree == 2).sum() == 4  # the corners


@given(width=st.integers(1, 9), height=st.integers(1, 9), torus=st.booleans())
def test_ghost_padded_table_is_the_lattice_table(width, height, torus):
    """The fast kernel's table: the same neighbours, padded with the ghost cell N."""
    if torus and min(width, height) < 3:
        return
    lattice = von_neumann_lattice(width, height, torus)
    padded = lattice.ghost_padded_neighbours
    assert padded.shape == (lattice.size, 4)
    for i in range(lattice.size):
        k = lattice.degree[i]
        assert list(padded[i, :k]) == list(lattice.neighbours[i, :k])
        assert (padded[i, k:] == lattice.size).all()


@given(width=st.integers(2, 9), height=st.integers(2, 9), torus=st.booleans())
def test_neighbours_computed_from_the_grid_are_the_table(width, height, torus):
    """What the game computes on large maps (model.kernels.neighbour on the lattice's Grid)
    is the ghost-padded table, column by column."""
    if torus and min(width, height) < 3:
        return
    lattice = von_neumann_lattice(width, height, torus)
    table = lattice.ghost_padded_neighbours
    computed = [[neighbour(lattice.grid, i, j) for j in range(4)] for i in range(lattice.size)]
    np.testing.assert_array_equal(computed, table)


def _world(width: int, height: int, community: int, unit: int) -> WorldConfig:
    return WorldConfig(
        width=width,
        height=height,
        torus=False,
        household_size=2.31,
        community_households=community,
        grid_unit_households=unit,
        rewiring=0.0,
    )


@given(
    width=st.integers(1, 70),
    height=st.integers(1, 70),
    community=st.integers(1, 3000),
    unit=st.integers(1, 3000),
)
def test_partition_nests_grid_units_in_communities(width, height, community, unit):
    part = partition(_world(width, height, community, min(unit, community)))
    assert set(np.unique(part.community)) == set(range(part.n_communities))
    assert set(np.unique(part.grid_unit)) == set(range(part.n_grid_units))
    # every household's community is its grid unit's community
    assert (part.unit_community[part.grid_unit] == part.community).all()


@pytest.mark.parametrize("side", [60, 100, 120, 200])
def test_communities_are_sized_in_households_not_by_the_map(side):
    """A bigger map has more communities of about the same size, not bigger ones."""
    part = partition(_world(side, side, 2400, 290))
    communities = np.bincount(part.community)
    units = np.bincount(part.grid_unit)
    assert part.n_communities == max(1, round(side * side / 2400))
    assert 0.6 * 2400 <= communities.mean() <= 1.4 * 2400
    assert 0.6 * 290 <= units.mean() <= 1.4 * 290


def test_a_map_smaller_than_a_community_is_one_community():
    """30 x 30 at the default sizes (2,400 and 290 households): one community of 900
    households in 3 grid units; the default config composes and runs."""
    from model import load_config

    config = load_config("world.width=30", "world.height=30", "steps=2", "metrics.burn_in=0")
    part = partition(config.world)
    assert part.n_communities == 1 and part.n_grid_units == 3
    model = build("world.width=30", "world.height=30", *days(2))
    model.run_for(2)
    assert len(model.workstations) == 1


def test_communities_are_contiguous_blocks():
    grid = partition(_world(30, 30, 100, 100)).community.reshape(30, 30)
    assert (grid[:10, :10] == 0).all() and (grid[20:, 20:] == 8).all()


def test_network_without_rewiring_is_the_lattice():
    lattice = von_neumann_lattice(8, 6, torus=False)
    network = SocialNetwork(lattice, 0.0, np.random.default_rng(1))
    for i in range(lattice.size):
        assert sorted(network.neighbours_of(i)) == sorted(
            lattice.neighbours[i, : lattice.degree[i]]
        )


def test_rewiring_adds_long_range_ties_and_shortens_paths():
    lattice = von_neumann_lattice(20, 20, torus=True)
    plain = SocialNetwork(lattice, 0.0, np.random.default_rng(1)).graph
    small_world = SocialNetwork(lattice, 0.1, np.random.default_rng(1)).graph
    assert nx.is_connected(plain)
    giant = small_world.subgraph(max(nx.connected_components(small_world), key=len))
    assert nx.average_shortest_path_length(giant) < 0.7 * nx.average_shortest_path_length(plain)
    # rewiring keeps the number of ties except for rare self-loops and duplicates
    assert small_world.number_of_edges() >= 0.97 * plain.number_of_edges()


@given(rewiring=st.floats(0, 1), seed=st.integers(0, 2**32 - 1))
def test_network_is_simple_symmetric_and_seeded(rewiring, seed):
    lattice = von_neumann_lattice(6, 6, torus=True)
    a = SocialNetwork(lattice, rewiring, np.random.default_rng(seed))
    b = SocialNetwork(lattice, rewiring, np.random.default_rng(seed))
    assert np.array_equal(a.edges, b.edges)
    assert (a.edges[:, 0] < a.edges[:, 1]).all()  # no self-loops, each tie once
    assert len(np.unique(a.edges, axis=0)) == len(a.edges)
    assert a.graph.number_of_edges() == len(a.edges)
    for i in range(lattice.size):
        for j in a.neighbours_of(i):
            assert i in a.neighbours_of(j)


def test_model_network_is_seeded_from_the_model_rng():
    one = build(*world(12), "world.rewiring=0.3", "seed=4")
    two = build(*world(12), "world.rewiring=0.3", "seed=4")
    other = build(*world(12), "world.rewiring=0.3", "seed=5")
    assert np.array_equal(one.social_network.edges, two.social_network.edges)
    assert not np.array_equal(one.social_network.edges, other.social_network.edges)
