"""Invariants of the full model under varied valid configurations: issues are conserved,
budgets are never exceeded, every rate and state stays in range."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.flow import draw_categories
from model.issues import NOT_YET, IssueStore, TaskStore
from tests.conftest import build, days, world

STRUCTURES = ["bureaucratic", "party_led", "grid", "sanshe", "decentralised", "co_governance"]
SHARES = ["staff", "grid_workers", "digital_platform", "purchase_of_services", "points_rewards"]
RATES = [
    "problem_resolution_rate",
    "callback_resolved_rate",
    "callback_satisfied_rate",
    "on_time_rate",
    "abandoned_share",
    "recurrence_rate",
    "undiscovered_share",
    "participation_rate",
    "mean_trust",
    "mean_satisfaction",
    "satisfaction_gini_households",
    "satisfaction_gini_communities",
    "utilisation_department",
    "utilisation_workstation",
    "utilisation_social_org",
    "utilisation_grid",
    "social_org_service_share",
    "pressure_share",
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
        *world(
            size, size + draw(st.integers(0, 5)), draw(st.integers(1, 9)), draw(st.integers(1, 4))
        ),
        f"issues.problems_per_household_year={draw(st.floats(1, 20))}",
        f"issues.max_wait={draw(st.integers(3, 30))}",
        f"government.devolution.authority={draw(st.floats(0, 1))}",
        f"government.devolution.resources={draw(st.floats(0, 1))}",
        f"government.data_sharing={draw(st.floats(0, 1))}",
        f"social_orgs.price={draw(st.floats(0, 4))}",
        f"accountability.enabled={draw(st.booleans())}",
        f"accountability.period_days={draw(st.integers(1, 10))}",
        f"accountability.gaming={draw(st.floats(0, 1))}",
        f"discovery.building_leaders={draw(st.booleans())}",
        f"party.whistle={draw(st.booleans())}",
        f"issues.work_spread={draw(st.floats(0, 2))}",
        "metrics.burn_in=10",
        *days(30),
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
    office = model.street_office
    for _ in range(30):
        model.step()
        m = model.metrics
        assert (
            m["issues_created"] == m["issues_resolved"] + m["issues_open"] + m["issues_abandoned"]
        )
        # money: no line beyond what the budget gave it, no more spent than the budget so far
        assert sum(office.spent_total.values()) <= office.budget * model.steps + 1e-6
        for line in ("department_staff", "workstation_staff", "grid_workers", "points_rewards"):
            assert office.spent_today[line] <= office.allocation[line] + 1e-9
        assert all(value >= 0 for value in office.spent_today.values())
        population = model.population
        assert ((population.trust >= 0) & (population.trust <= 1)).all()
        assert ((population.satisfaction >= 0) & (population.satisfaction <= 1)).all()
        assert all(handler.queued >= 0 for handler in model.flow.handlers)
        assert model.flow.undiscovered_count == len(model.flow.still_undiscovered())
        assert all(org.funds >= 0 for org in model.social_orgs)
        assert all(w.fund >= 0 for w in model.workstations) and office.purchase_left >= -1e-9
    metrics = model.headline()
    for key in RATES:
        assert np.isnan(metrics[key]) or 0.0 <= metrics[key] <= 1.0, key
    assert metrics["unspent"] >= -1e-6
    spent = sum(metrics[f"spending_{line}"] for line in office.LINES)
    assert spent + metrics["unspent"] == pytest.approx(metrics["total_budget"])
    issues = model.flow.issues
    created = issues.view("created")
    open_now = (issues.view("resolved") == NOT_YET) & (issues.view("abandoned") == NOT_YET)
    # each household has at most one open issue, and it is the one the population records
    assert len(np.unique(issues.origin[: issues.size][open_now])) == open_now.sum()
    owners = issues.origin[: issues.size][open_now]
    assert (model.population.open_issue[owners] == np.flatnonzero(open_now)).all()
    # events happen in order
    discovered = issues.view("discovered") != NOT_YET
    assert (issues.view("discovered")[discovered] >= created[discovered]).all()
    resolved = issues.view("resolved") != NOT_YET
    assert (issues.view("discovered")[resolved] != NOT_YET).all()
    assert (issues.view("resolved")[resolved] >= issues.view("first_dispatch")[resolved]).all()
    assert not (resolved & (issues.view("abandoned") != NOT_YET)).any()
    called = issues.view("callback") != NOT_YET
    assert (issues.view("callback")[called] >= issues.view("resolved")[called]).all()


def test_every_structure_runs_with_every_shock():
    for structure in STRUCTURES:
        for shock in ["none", "epidemic", "disaster"]:
            model = build(
                f"structure={structure}",
                f"shock={shock}",
                "shock.start=3",
                *world(20),
                *days(10),
            )
            model.run_for(10)
            assert model.metrics["issues_created"] > 0


@pytest.mark.parametrize("store", [IssueStore, TaskStore])
def test_every_column_is_declared_for_type_checkers(store):
    assert set(store.__annotations__) == set(store.columns)


@given(
    weights=st.lists(st.floats(0, 1), min_size=1, max_size=6).filter(lambda w: sum(w) > 0.01),
    n=st.integers(0, 50),
    seed=st.integers(0, 2**32 - 1),
)
def test_categories_are_drawn_as_generator_choice_draws_them(weights, n, seed):
    shares = np.array(weights) / sum(weights)
    drawn = draw_categories(np.random.default_rng(seed), shares, n)
    expected = np.random.default_rng(seed).choice(len(shares), size=n, p=shares)
    np.testing.assert_array_equal(drawn, expected)
