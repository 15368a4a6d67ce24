"""Invariants of the full model under varied valid configurations: issues are conserved,
budgets are never exceeded, every rate and state stays in range."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from model.issues import NOT_YET
from tests.conftest import build

STRUCTURES = ["bureaucratic", "party_led", "grid", "sanshe", "decentralised", "co_governance"]
SHARES = ["staff", "grid_workers", "digital_platform", "purchase_of_services", "points_rewards"]
RATES = [
    "resolution_rate",
    "abandoned",
    "undiscovered_share",
    "participation_rate",
    "mean_trust",
    "mean_satisfaction",
    "satisfaction_gini",
]


@st.composite
def valid_configs(draw) -> list[str]:
    """A small world under any structure and shock, with random budget shares and levers."""
    weights = np.array(draw(st.lists(st.floats(0, 1), min_size=5, max_size=5)))
    weights = weights + 1e-3
    shares = np.round(weights / weights.sum(), 6)
    shares[0] = round(1 - shares[1:].sum(), 6)
    size = draw(st.integers(8, 18))
    return [
        f"structure={draw(st.sampled_from(STRUCTURES))}",
        f"shock={draw(st.sampled_from(['none', 'epidemic', 'disaster']))}",
        "shock.start=5",
        "shock.duration=10",
        f"world.width={size}",
        f"world.height={size + draw(st.integers(0, 5))}",
        f"world.communities_per_side={draw(st.integers(1, 3))}",
        f"world.grid_unit_side={draw(st.integers(2, 6))}",
        f"issues.base_rate={draw(st.floats(0.005, 0.05))}",
        f"issues.max_wait={draw(st.integers(3, 30))}",
        f"government.devolution.authority={draw(st.floats(0, 1))}",
        f"government.devolution.resources={draw(st.floats(0, 1))}",
        f"government.data_sharing={draw(st.floats(0, 1))}",
        f"social_orgs.price={draw(st.floats(0, 4))}",
        *(
            f"government.budget_shares.{name}={share}"
            for name, share in zip(SHARES, shares, strict=True)
        ),
        f"seed={draw(st.integers(0, 10_000))}",
    ]


@given(overrides=valid_configs(), engine=st.sampled_from(["fast", "agents"]))
@settings(max_examples=15)
def test_issues_are_conserved_budgets_kept_and_rates_in_range(overrides, engine):
    model = build(*overrides, f"engine={engine}")
    budget = model.street_office.budget
    for _ in range(30):
        model.step()
        m = model.metrics
        assert (
            m["issues_created"] == m["issues_resolved"] + m["issues_open"] + m["issues_abandoned"]
        )
        fixed = ("department_staff", "devolved_staff", "grid_workers", "digital_platform")
        assert sum(m[f"spending_{line}"] for line in fixed) <= budget + 1e-9
        assert (
            m["spending_points_rewards"] <= model.street_office.allocation["points_rewards"] + 1e-9
        )
        assert sum(model.street_office.spent_total.values()) <= budget * model.steps + 1e-6
        assert all(value >= 0 for key, value in m.items() if key.startswith("spending_"))
        for key in RATES:
            assert 0.0 <= m[key] <= 1.0, key
        population = model.population
        assert ((population.trust >= 0) & (population.trust <= 1)).all()
        assert ((population.satisfaction >= 0) & (population.satisfaction <= 1)).all()
        assert all(handler.queued >= 0 for handler in model.flow.handlers)
        assert all(org.funds >= 0 for org in model.social_orgs)
    issues = model.flow.issues
    open_now = issues.is_open
    # each household has at most one open issue, and it is the one the population records
    assert len(np.unique(issues.origin[open_now])) == open_now.sum()
    assert (model.population.open_issue[issues.origin[open_now]] == np.flatnonzero(open_now)).all()
    # events happen in order
    discovered = issues.discovered != NOT_YET
    assert (issues.discovered[discovered] >= issues.created[discovered]).all()
    resolved = issues.resolved != NOT_YET
    assert (issues.discovered[resolved] != NOT_YET).all()
    assert (issues.resolved[resolved] >= issues.first_dispatch[resolved]).all()
    assert not (resolved & (issues.abandoned != NOT_YET)).any()
    assert sum(model.street_office.spent_total.values()) <= budget * model.steps + 1e-6


def test_every_structure_runs_with_every_shock():
    for structure in STRUCTURES:
        for shock in ["none", "epidemic", "disaster"]:
            model = build(
                f"structure={structure}",
                f"shock={shock}",
                "shock.start=3",
                "world.width=20",
                "world.height=20",
                "steps=10",
            )
            model.run_for(10)
            assert model.metrics["issues_created"] > 0
