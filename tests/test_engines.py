"""Engine equivalence: the fast kernels and the Mesa agents give the same outcome distributions.

Both engines run the same configs over 20 seeds each; at every checkpoint the participation
rates are compared with a two-sample Kolmogorov-Smirnov test. Seeds are fixed, so the test is
deterministic; a power check shows the same test does detect a real difference.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp

from tests.conftest import build, small_game, world

SEEDS = range(20)
CHECKPOINTS = (5, 15, 30)
ALPHA = 0.001


def trajectories(engine: str, *overrides: str) -> np.ndarray:
    """Participation at each checkpoint, one row per seed."""
    rows = []
    for seed in SEEDS:
        model = build(*small_game(16, *overrides), f"engine={engine}", f"seed={1000 + seed}")
        model.run_for(max(CHECKPOINTS))
        series = model.datacollector.get_model_vars_dataframe()["participation_rate"]
        rows.append([series.iloc[t] for t in CHECKPOINTS])
    return np.array(rows)


def same_distribution(a: np.ndarray, b: np.ndarray) -> bool:
    return all(ks_2samp(a[:, k], b[:, k]).pvalue > ALPHA for k in range(a.shape[1]))


@pytest.mark.parametrize("synergy", [3.5, 4.5, 5.5])
def test_engines_agree_on_the_canonical_game(synergy):
    agents = trajectories("agents", f"residents.synergy={synergy}")
    fast = trajectories("fast", f"residents.synergy={synergy}")
    assert same_distribution(agents, fast)


def test_engines_agree_with_rewards_on_an_open_grid():
    overrides = ("world.torus=false", "residents.synergy=3.8", "residents.reward=0.5")
    assert same_distribution(trajectories("agents", *overrides), trajectories("fast", *overrides))


def test_equivalence_test_has_power():
    """The same test, same sample sizes, tells r = 4.5 from r = 5.0 in one engine."""
    low = trajectories("fast", "residents.synergy=4.5")
    high = trajectories("fast", "residents.synergy=5.0")
    assert not same_distribution(low, high)


FULL_MODEL = (
    "structure=co_governance",
    *world(20, communities=4),
    "issues.problems_per_household_year=3.65",
    "metrics.burn_in=0",
    "shock=epidemic",
    "shock.start=10",
    "shock.duration=20",
)
FULL_METRICS = (
    "participation_rate",
    "issues_created",
    "issues_resolved",
    "backlog",
    "mean_trust",
    "mean_satisfaction",
    "discovered_by_self_report",
    "discovered_by_building_leader",
)


def full_outcomes(engine: str, *overrides: str, days: int = 40) -> np.ndarray:
    """The full model's metrics on day ``days``, one row per seed."""
    rows = []
    for seed in SEEDS:
        model = build(*FULL_MODEL, *overrides, f"engine={engine}", f"seed={2000 + seed}")
        model.run_for(days)
        metrics = model.headline() | model.metrics  # today's value where there is one
        rows.append([metrics[name] for name in FULL_METRICS])
    return np.array(rows)


def test_engines_agree_on_the_full_model():
    """Institutions, issue flow, trust, satisfaction, points and an epidemic with contagion
    and the super grid: both engines give the same outcome distributions."""
    agents = full_outcomes("agents")
    fast = full_outcomes("fast")
    for k, name in enumerate(FULL_METRICS):
        assert ks_2samp(agents[:, k], fast[:, k]).pvalue > ALPHA, name


def test_full_model_equivalence_test_has_power():
    """The same test tells apart a resident rule changed in one place: building leaders who
    report twice as often."""
    base = full_outcomes("fast")
    changed = full_outcomes("fast", "discovery.leader_report=0.4")
    assert not same_distribution(base, changed)


@pytest.mark.parametrize("ties_ahead", [1, 3, 64])
def test_prefetching_ties_changes_no_number(ties_ahead):
    """Large maps prefetch the trust at the other end of social ties in the wellbeing pass
    (model.engines.PREFETCH_TIES_CELLS): on a small map with many long-range ties, a run that
    prefetches gives exactly the trust and satisfaction of one that does not."""
    runs = []
    for ahead in (0, ties_ahead):
        model = build(*world(15, 11, communities=2), "world.rewiring=0.4", "seed=21")
        model.engine.ties_ahead = ahead
        model.run_for(40)
        runs.append((model.population.trust.copy(), model.population.satisfaction.copy()))
    (trust, satisfaction), (prefetched_trust, prefetched_satisfaction) = runs
    np.testing.assert_array_equal(trust, prefetched_trust)
    np.testing.assert_array_equal(satisfaction, prefetched_satisfaction)
    assert len(np.unique(trust)) > 10  # trust moved: the pass did something to compare
