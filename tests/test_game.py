"""The resident core: the co-production game is the canonical spatial public goods game.

Payoffs are checked against an independent numpy formula; the Fermi rule, the Monte Carlo
step, absorbing states and the two institutional hooks (reward, synergy multiplier) are
checked in both engines. The fast kernel follows an independent minimal kernel of the game
update by update, and the tables it keeps from day to day stay equal to a fresh count.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.resident import fermi
from experiments.bench_reference import play, torus_neighbours
from model import kernels
from model.world import von_neumann_lattice
from tests.conftest import build, small_game, world

ENGINES = ["agents", "fast"]


def expected_payoffs(model) -> np.ndarray:
    """P_i = sum over groups g containing i of r_g * n_c(g) / |g|, minus c per group and plus
    the bonus if i co-produces; written with a dense adjacency matrix, independently of both
    engines."""
    n = model.population.size
    members = np.eye(n, dtype=bool)  # members[g, i]: i belongs to the group centred on g
    for i in range(n):
        for j in model.lattice.neighbours[i, : model.lattice.degree[i]]:
            members[i, j] = True
    s = model.population.participating.astype(float)
    n_c = members @ s
    share = model.population.group_synergy * n_c / members.sum(axis=1)
    groups_of_i = members.sum(axis=0)
    return members.T.astype(float) @ share + s * (model.population.bonus - model.cost * groups_of_i)


def kernel_payoffs(model) -> np.ndarray:
    pop, lat = model.population, model.lattice
    neighbours = lat.ghost_padded_neighbours
    tables = kernels.GameTables.empty(pop.size)
    kernels.update_tables(
        pop.participating, pop.group_synergy, pop.bonus, neighbours, lat.degree, model.cost, tables
    )
    return np.array(
        [
            kernels._payoff(i, pop.participating, neighbours, tables.value, tables.net_bonus)
            for i in range(pop.size)
        ]
    )


@given(
    seed=st.integers(0, 10_000),
    torus=st.booleans(),
    synergy=st.floats(0.5, 8),
    cost=st.floats(0, 2),
    reward=st.floats(0, 3),
)
def test_payoffs_follow_the_public_goods_formula(seed, torus, synergy, cost, reward):
    model = build(
        *world(6, 5),
        f"world.torus={torus}",
        f"seed={seed}",
        f"residents.synergy={synergy}",
        f"residents.cost={cost}",
        f"residents.reward={reward}",
    )
    expected = expected_payoffs(model)
    agent_payoffs = np.array([r.payoff() for r in model.resident_list])
    np.testing.assert_allclose(agent_payoffs, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(kernel_payoffs(model), expected, rtol=1e-12, atol=1e-12)


def test_canonical_payoff_of_a_lone_cooperator():
    """One co-producer among defectors on a torus: each of its 5 groups holds 1 co-producer,
    so P = 5 * (r/5) - 5c = r - 5c, and each neighbour gets r/5 from two groups."""
    model = build(*small_game(5, "residents.synergy=4", "residents.initial_participation=0"))
    model.population.participating[12] = True  # the centre cell (2, 2)
    assert model.resident_list[12].payoff() == pytest.approx(4 - 5)
    neighbour = model.resident_list[12].cell.neighborhood.agents
    assert all(r.payoff() == pytest.approx(2 * 4 / 5) for r in neighbour)


def test_fermi_rule():
    assert fermi(0.0, 0.5) == 0.5
    assert fermi(-1.0, 0.5) == pytest.approx(1 / (1 + np.exp(-2)))
    assert fermi(1.0, 0.5) < fermi(0.0, 0.5) < fermi(-1.0, 0.5)
    assert fermi(1e6, 0.01) == 0.0  # no overflow
    assert fermi(-1e6, 0.01) == 1.0


@pytest.mark.parametrize("engine", ENGINES)
def test_one_step_is_one_monte_carlo_step(engine, monkeypatch):
    model = build(*small_game(7), f"engine={engine}")
    calls = []
    if engine == "agents":
        from agents.resident import Resident

        original = Resident.imitate_neighbour
        monkeypatch.setattr(
            Resident,
            "imitate_neighbour",
            lambda self: (calls.append(self.index), original(self))[1],
        )
    else:
        original = kernels.co_production_round
        monkeypatch.setattr(
            kernels,
            "co_production_round",
            lambda *args: (calls.extend([None] * args[-2]), original(*args))[1],  # n_updates
        )
    model.step()
    assert len(calls) == 49
    if engine == "agents":
        assert len(set(calls)) < 49  # drawn with replacement (random sequential updating)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("share", [0.0, 1.0])
def test_uniform_states_are_absorbing(engine, share):
    model = build(*small_game(8, f"residents.initial_participation={share}"), f"engine={engine}")
    model.run_for(20)
    assert model.metrics["participation_rate"] == share


def _final(*overrides: str, seed: int, steps: int) -> float:
    model = build(*overrides, f"seed={seed}")
    model.run_for(steps)
    return model.metrics["participation_rate"]


@pytest.mark.parametrize("engine", ENGINES)
def test_reward_to_co_producers_raises_participation(engine):
    """At r = 3.5 co-production dies out; a reward of 1.5 per day keeps it alive."""
    base = [*small_game(16, "residents.synergy=3.5"), f"engine={engine}"]
    without = np.mean([_final(*base, seed=s, steps=120) for s in range(3)])
    rewarded = np.mean([_final(*base, "residents.reward=1.5", seed=s, steps=120) for s in range(3)])
    assert without < 0.1
    assert rewarded > without + 0.4


@pytest.mark.parametrize("engine", ENGINES)
def test_synergy_multiplier_acts_as_a_larger_r(engine):
    """r = 4 with multiplier 1.25 is the same game as r = 5: identical trajectories."""
    scaled = build(
        *small_game(12, "residents.synergy=4", "residents.synergy_multiplier=1.25"),
        f"engine={engine}",
        "seed=7",
    )
    plain = build(*small_game(12, "residents.synergy=5"), f"engine={engine}", "seed=7")
    scaled.run_for(30)
    plain.run_for(30)
    assert np.array_equal(scaled.population.participating, plain.population.participating)


@pytest.mark.parametrize("engine", ENGINES)
def test_hooks_switched_off_change_nothing(engine):
    """Ablation: reward 0 and multiplier 1 reproduce the plain game exactly."""
    hooked = build(
        *small_game(12, "residents.reward=0", "residents.synergy_multiplier=1"),
        f"engine={engine}",
        "seed=3",
    )
    plain = build(*small_game(12), f"engine={engine}", "seed=3")
    hooked.run_for(25)
    plain.run_for(25)
    assert np.array_equal(hooked.population.participating, plain.population.participating)


def test_synergy_multiplier_raises_participation():
    base = small_game(16, "residents.synergy=3.5")
    plain = np.mean([_final(*base, seed=s, steps=120) for s in range(3)])
    boosted = np.mean(
        [_final(*base, "residents.synergy_multiplier=1.5", seed=s, steps=120) for s in range(3)]
    )
    assert boosted > plain + 0.4


def test_resident_attributes_are_views_on_the_population_arrays():
    model = build(*small_game(5))
    resident = model.resident_list[3]
    resident.participating = True
    assert model.population.participating[3]
    model.population.participating[3] = False
    assert resident.participating is False


def test_kernel_follows_the_independent_reference_trajectory():
    """From the same state and the same seeds, the fast engine and the minimal kernel of the
    canonical game in ``experiments/bench_reference.py`` (written independently) make the same
    strategy changes, update by update, for 30 days at three values of r."""
    for synergy in (4.0, 4.5, 5.0):
        model = build(*small_game(20, f"residents.synergy={synergy}"), "seed=4")
        seeds = copy.deepcopy(model.rng)  # the engine seeds each day's kernel from model.rng
        start = model.population.participating.copy()
        strategy = start.astype(np.uint8)
        neighbours = torus_neighbours(20, 20)
        model.run_for(30)
        for _ in range(30):
            play(strategy, neighbours, synergy, 1.0, 0.5, 400, int(seeds.integers(2**62)))
        assert np.array_equal(model.population.participating, strategy.astype(bool))
        assert (model.population.participating != start).sum() > 50  # many changes to match


@pytest.mark.parametrize("torus", [True, False])
def test_kernel_tables_follow_the_strategies(torus):
    """The group counts and shares the kernel keeps from day to day equal a fresh count."""
    model = build(*small_game(12, f"world.torus={torus}", "residents.exploration=0.01"))
    model.run_for(15)
    pop, lattice, tables = model.population, model.lattice, model.engine.game_tables
    n = pop.size
    counts = lattice.group_sum(pop.participating)
    np.testing.assert_array_equal(tables.counts[:n], counts)
    assert np.array_equal(tables.counted, pop.participating)
    shares = pop.group_synergy / (lattice.degree + 1) * counts
    np.testing.assert_array_equal(tables.value[:n], shares)
    assert tables.value[n] == 0  # the ghost cell's share


@given(
    side=st.integers(2, 9),
    torus=st.booleans(),
    seed=st.integers(0, 1000),
    changed=st.tuples(*[st.floats(0, 1)] * 3),
)
def test_tables_brought_up_to_date_equal_fresh_ones(side, torus, seed, changed):
    """After any mix of changed strategies, synergies and bonuses, :func:`kernels.update_tables`
    leaves every table bit for bit as tables built from nothing on the new state."""
    if torus and side < 3:
        return
    lattice = von_neumann_lattice(side, side, torus)
    neighbours, degree, n = lattice.ghost_padded_neighbours, lattice.degree, lattice.size
    rng = np.random.default_rng(seed)
    participating, synergy, bonus = rng.random(n) < 0.5, rng.random(n) * 5, rng.random(n)
    kept = kernels.GameTables.empty(n)
    kernels.update_tables(participating, synergy, bonus, neighbours, degree, 0.7, kept)
    strategy_share, synergy_share, bonus_share = changed
    participating ^= rng.random(n) < strategy_share
    synergy = np.where(rng.random(n) < synergy_share, rng.random(n) * 5, synergy)
    bonus = np.where(rng.random(n) < bonus_share, rng.random(n), bonus)
    kernels.update_tables(participating, synergy, bonus, neighbours, degree, 0.7, kept)
    fresh = kernels.GameTables.empty(n)
    kernels.update_tables(participating, synergy, bonus, neighbours, degree, 0.7, fresh)
    for name, on_kept, on_fresh in zip(kept._fields, kept, fresh, strict=True):
        np.testing.assert_array_equal(on_kept, on_fresh, err_msg=name)


@given(
    width=st.integers(2, 14),
    height=st.integers(2, 14),
    torus=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_the_game_is_the_same_on_the_table_and_on_the_grid(width, height, torus, seed):
    """Large maps compute neighbours from the grid's shape, small ones read the table
    (model.engines.NEIGHBOUR_TABLE_CELLS): from the same state and seed the two make the same
    strategy changes and keep the same tables."""
    if torus and min(width, height) < 3:
        return
    model = build(
        *world(width, height),
        "structure=canonical_pgg",
        f"world.torus={torus}",
        "residents.exploration=0.02",
        f"seed={seed}",
    )
    pop, lattice = model.population, model.lattice
    finals = []
    for neighbours in (lattice.ghost_padded_neighbours, lattice.grid):
        strategies, tables = pop.participating.copy(), kernels.GameTables.empty(pop.size)
        for day in range(5):
            kernels.co_production_round(
                strategies, pop.group_synergy, pop.bonus, neighbours, lattice.degree, tables,
                model.engine.game, pop.size, seed + day,
            )  # fmt: skip
        finals.append((strategies, tables))
    (table_strategies, table_tables), (grid_strategies, grid_tables) = finals
    np.testing.assert_array_equal(table_strategies, grid_strategies)
    for on_table, on_grid in zip(table_tables, grid_tables, strict=True):
        np.testing.assert_array_equal(on_table, on_grid)


@pytest.mark.parametrize("field", ["participating", "group_synergy", "bonus"])
def test_state_changed_between_days_is_picked_up(field):
    """A strategy, synergy or bonus changed by hand between two days (as a notebook or the app
    may do): the next day runs exactly as it would for an engine built on that state."""
    runs = []
    for fresh_tables in (False, True):
        model = build(*small_game(12, "residents.synergy=4.2"), "seed=9")
        model.run_for(10)
        array = getattr(model.population, field)
        array[::7] = ~array[::7] if field == "participating" else array[::7] + 1.5
        if fresh_tables:
            model.engine.game_tables = kernels.GameTables.empty(model.population.size)
        model.run_for(10)
        runs.append(model.population.participating.copy())
    assert np.array_equal(*runs)
