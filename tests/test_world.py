"""The world: lattice arrays agree with Mesa's grid; communities, grid units, social network."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from model import load_config
from model.schema import WorldConfig
from model.world import SocialNetwork, partition, von_neumann_lattice
from tests.conftest import build


@given(width=st.integers(3, 9), height=st.integers(3, 9), torus=st.booleans())
def test_lattice_arrays_match_mesa_grid(width, height, torus):
    model = build(
        f"world.width={width}",
        f"world.height={height}",
        f"world.torus={torus}",
        "world.communities_per_side=1",
        "steps=0",
    )
    lattice = model.lattice
    for resident in model.resident_list:
        x, y = resident.cell.coordinate
        assert resident.index == x * height + y
        mesa_neighbours = sorted(a.index for a in resident.cell.neighborhood.agents)
        ours = sorted(lattice.neighbours[resident.index, : lattice.degree[resident.index]])
        assert ours == mesa_neighbours
        assert (lattice.neighbours[resident.index, lattice.degree[resident.index] :] == -1).all()


def test_torus_gives_every_household_four_neighbours():
    lattice = von_neumann_lattice(7, 5, torus=True)
    assert (lattice.degree == 4).all()
    open_grid = von_neumann_lattice(7, 5, torus=False)
    assert sorted(set(open_grid.degree.tolist())) == [2, 3, 4]
    assert (open_grid.degree == 2).sum() == 4  # the corners


@pytest.mark.parametrize("width,height,n", [(100, 100, 3), (37, 23, 2), (10, 10, 1), (60, 45, 4)])
def test_partition_nests_grid_units_in_communities(width, height, n):
    world = WorldConfig(
        width=width,
        height=height,
        torus=False,
        communities_per_side=n,
        grid_unit_side=10,
        rewiring=0.0,
    )
    part = partition(world)
    assert part.n_communities == n * n
    assert set(np.unique(part.community)) == set(range(n * n))
    assert set(np.unique(part.grid_unit)) == set(range(part.n_grid_units))
    # every household's community is its grid unit's community
    assert (part.unit_community[part.grid_unit] == part.community).all()


def test_default_grid_units_hold_about_a_hundred_households():
    part = partition(load_config().world)
    sizes = np.bincount(part.grid_unit)
    assert part.n_communities == 9
    assert sizes.min() >= 50 and sizes.max() <= 200
    assert abs(sizes.mean() - 100) < 25


def test_communities_are_contiguous_blocks():
    world = WorldConfig(
        width=30, height=30, torus=False, communities_per_side=3, grid_unit_side=10, rewiring=0.0
    )
    grid = partition(world).community.reshape(30, 30)
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
    one = build("world.width=12", "world.height=12", "world.rewiring=0.3", "seed=4")
    two = build("world.width=12", "world.height=12", "world.rewiring=0.3", "seed=4")
    other = build("world.width=12", "world.height=12", "world.rewiring=0.3", "seed=5")
    assert np.array_equal(one.social_network.edges, two.social_network.edges)
    assert not np.array_equal(one.social_network.edges, other.social_network.edges)
