"""An honest comparison: every lever has a price paid from the same budget, capacity binds,
metrics mean what they say, the burn-in is excluded and results do not depend on the map's
size (docs/ODD.md sections 7.9, 7.18 and 9)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats

from model import CoGovModel, load_config
from model.config import CONFIG_DIR
from model.metrics import kaplan_meier, km_median, restricted_mean
from tests.conftest import world

STRUCTURES = ["bureaucratic", "party_led", "grid", "sanshe", "decentralised", "co_governance"]
SMALL = (*world(30, communities=2, units=3), "steps=150", "metrics.burn_in=30")


@cache
def headline(*overrides: str) -> dict[str, float]:
    model = CoGovModel(load_config(*SMALL, *overrides))
    model.run_for(model.config.steps)
    return model.headline()


def over_seeds(metric: str, *overrides: str, seeds=range(4)) -> np.ndarray:
    return np.array([headline(*overrides, f"seed={seed}")[metric] for seed in seeds])


# -- money --------------------------------------------------------------------------------


@pytest.mark.parametrize("structure", STRUCTURES)
def test_no_structure_spends_more_than_its_budget_and_lines_add_up(structure):
    metrics = headline(f"structure={structure}")
    lines = [key for key in metrics if key.startswith("spending_") and key != "spending_total"]
    assert len(lines) == 9
    assert sum(metrics[line] for line in lines) == pytest.approx(metrics["spending_total"])
    assert metrics["spending_total"] <= metrics["total_budget"] + 1e-6
    assert metrics["spending_total"] + metrics["unspent"] == pytest.approx(metrics["total_budget"])


def test_every_structure_is_given_the_same_budget():
    budgets = {headline(f"structure={s}")["total_budget"] for s in STRUCTURES}
    assert len(budgets) == 1


def test_half_the_budget_means_queues_abandoned_issues_and_fewer_problems_solved():
    full = ("structure=bureaucratic",)
    half = ("structure=bureaucratic", f"government.budget={load_config().government.budget / 2}")
    for metric in ("department_queue", "workstation_queue", "abandoned_share"):
        assert over_seeds(metric, *half).mean() > over_seeds(metric, *full).mean(), metric
    assert over_seeds("abandoned_share", *half).mean() > 0
    solved_full = over_seeds("problem_resolution_rate", *full)
    solved_half = over_seeds("problem_resolution_rate", *half)
    assert solved_half.max() < solved_full.min()


# -- every lever has a price -----------------------------------------------------------------

SHARES = "government.budget_shares"
SPLIT = "party.split"


def moved(group: str, to: str, source: str, base: str = "structure=bureaucratic") -> tuple:
    """A tenth of ``group``'s total moved from ``source`` to ``to``."""
    values = dict(load_config(base)[group.split(".")[0]][group.split(".")[1]])
    return (
        [base],
        [
            base,
            f"{group}.{to}={values[to] + 0.1:.6g}",
            f"{group}.{source}={values[source] - 0.1:.6g}",
        ],
    )


def switched(base: list[str], key: str, off, on) -> tuple:
    return [*base, f"{key}={off}"], [*base, f"{key}={on}"]


BUREAUCRATIC = ["structure=bureaucratic"]
PRICED = {
    f"{SHARES}.staff": moved(SHARES, "staff", "grid_workers"),
    f"{SHARES}.grid_workers": moved(SHARES, "grid_workers", "staff"),
    f"{SHARES}.digital_platform": moved(SHARES, "digital_platform", "staff"),
    f"{SHARES}.purchase_of_services": moved(SHARES, "purchase_of_services", "staff"),
    f"{SHARES}.points_rewards": moved(SHARES, "points_rewards", "staff"),
    f"{SPLIT}.mobilise": moved(SPLIT, "mobilise", "contact"),
    f"{SPLIT}.coordinate": moved(SPLIT, "coordinate", "contact", "structure=party_led"),
    f"{SPLIT}.contact": moved(SPLIT, "contact", "mobilise"),
    "government.devolution.authority": switched(
        BUREAUCRATIC, "government.devolution.authority", 0, 0.6
    ),
    "government.devolution.resources": switched(
        BUREAUCRATIC, "government.devolution.resources", 0, 0.6
    ),
    "government.data_sharing": switched(BUREAUCRATIC, "government.data_sharing", 0, 1),
    "party.whistle": switched(["structure=party_led"], "party.whistle", "false", "true"),
    "social_orgs.sanshe": switched(["structure=sanshe"], "social_orgs.sanshe", "false", "true"),
    "discovery.building_leaders": switched(
        BUREAUCRATIC, "discovery.building_leaders", "false", "true"
    ),
    "accountability.enabled": switched(BUREAUCRATIC, "accountability.enabled", "false", "true"),
    "accountability.gaming": switched(["structure=decentralised"], "accountability.gaming", 0, 1),
    "shock.super_grid": switched(
        ["structure=party_led", "shock=epidemic", "shock.start=40"],
        "shock.super_grid",
        "false",
        "true",
    ),
}
"""Every lever a structure preset sets (and the gaming and super-grid levers): the overrides
with the lever off and on. Shares that sum to 1 are switched by moving a tenth between two."""


def prices(*overrides: str) -> dict[str, float]:
    """What the levers cost: the planned money per budget line, money paid for services and
    grants, and time by use (party member-days, staff-days)."""
    model = CoGovModel(load_config(*world(30), "metrics.burn_in=0", *overrides))
    model.run_for(60)
    office = model.street_office
    return {
        **{f"plan:{line}": amount for line, amount in office.allocation.items()},
        "paid:purchase_of_services": office.spent_total["purchase_of_services"],
        "paid:social_org_grants": office.spent_total["social_org_grants"],
        **{f"time:{use}": used for use, used in model.time_used.items()},
    }


def preset_levers() -> set[str]:
    """Every key a governance structure preset sets, other than its name."""
    keys = set()

    def walk(node, prefix):
        for k, v in node.items():
            if isinstance(v, dict):
                walk(v, f"{prefix}{k}.")
            else:
                keys.add(f"{prefix}{k}")

    for path in (CONFIG_DIR / "structure").glob("*.yaml"):
        if path.stem != "canonical_pgg":
            walk(yaml.safe_load(Path(path).read_text()), "")
    return keys - {"structure.name", "structure.institutions"}


def test_every_lever_a_structure_sets_is_listed_with_its_price():
    assert preset_levers() <= set(PRICED)


@pytest.mark.parametrize("key", sorted(PRICED))
def test_switching_a_lever_on_costs_money_or_time(key):
    off, on = PRICED[key]
    before, after = prices(*off), prices(*on)
    changed = [name for name in before if not np.isclose(before[name], after[name])]
    assert changed, f"{key} changes no spending line and no use of time"


# -- accountability --------------------------------------------------------------------------


def test_accountability_puts_effort_into_tasks_and_changes_outcomes():
    on = ("structure=bureaucratic", "accountability.enabled=true")
    off = ("structure=bureaucratic", "accountability.enabled=false")
    assert over_seeds("time_accountability_effort", *off).max() == 0
    assert over_seeds("time_accountability_effort", *on).min() > 0
    assert over_seeds("pressure_share", *on).min() > 0
    # effort makes fixes hold more often
    assert over_seeds("recurrence_rate", *on).mean() < over_seeds("recurrence_rate", *off).mean()


def test_gaming_raises_recurrences():
    honest = ("structure=decentralised", "accountability.gaming=0")
    gaming = ("structure=decentralised", "accountability.gaming=1")
    assert (
        over_seeds("recurrence_rate", *gaming).min() > over_seeds("recurrence_rate", *honest).max()
    )


def test_offices_are_named_by_rank_at_each_assessment():
    model = CoGovModel(
        load_config(
            *SMALL,
            "structure=bureaucratic",
            "accountability.enabled=true",
            "accountability.target=0",
            "accountability.bottom_share=0.25",
        )
    )
    model.run_for(model.config.accountability.period_days + 1)
    assert sum(d.under_pressure for d in model.departments) == 1  # the worst of four


def test_the_assessment_tallies_every_issue_ended_in_its_period_once_per_office():
    """Recounted from the issue and task stores: each issue closed or abandoned since the last
    assessment counts once for every office that had one of its tasks."""
    model = CoGovModel(
        load_config(*SMALL, "structure=co_governance", "accountability.enabled=true")
    )
    period = model.config.accountability.period_days
    model.run_for(2 * period - 1)  # the period that began with the assessment on day `period`
    model.assessment.tally()
    issues, tasks = model.flow.issues, model.flow.tasks
    expected = np.zeros((len(model.flow.handlers), 3))
    for issue in range(issues.size):
        closed, abandoned = issues.resolved[issue], issues.abandoned[issue]
        ended = closed if closed >= 0 else abandoned
        if ended < period or issues.first_task[issue] < 0:
            continue
        first = issues.first_task[issue]
        offices = set(tasks.handler[first : first + issues.n_tasks(issue)].tolist())
        on_time = closed >= 0 and closed <= issues.due[issue]
        held = closed >= 0 and issues.held[issue]
        for office in offices:
            expected[office] += (1, on_time, held)
    assert expected[:, 0].sum() > 20
    np.testing.assert_array_equal(model.assessment.tallies[: len(expected), :3], expected)


# -- metrics ---------------------------------------------------------------------------------


@given(
    durations=st.lists(st.integers(0, 60), min_size=1, max_size=80),
    data=st.data(),
)
def test_kaplan_meier_agrees_with_lifelines(durations, data):
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    closed = data.draw(st.lists(st.booleans(), min_size=len(durations), max_size=len(durations)))
    if not any(closed):
        closed[0] = True
    fitter = KaplanMeierFitter().fit(durations, closed)
    times, survival = kaplan_meier(np.array(durations), np.array(closed))
    expected = fitter.survival_function_.iloc[:, 0]
    np.testing.assert_allclose(survival, expected.loc[times].to_numpy(), atol=1e-12)
    # a curve that lands exactly on 0.5 has no unique median (lifelines' rounding decides)
    assume(not np.isclose(survival, 0.5, rtol=0, atol=1e-9).any())
    median = fitter.median_survival_time_
    assert km_median(times, survival) == pytest.approx(median) or (
        np.isnan(km_median(times, survival)) and np.isinf(median)
    )
    horizon = 70.0
    assert restricted_mean(times, survival, horizon) == pytest.approx(
        restricted_mean_survival_time(fitter, t=horizon)
    )


def test_open_and_abandoned_issues_are_censored_not_dropped():
    """Overload shows in time to close: with too little staff, issues wait until the end
    of the run or abandonment, and the restricted mean counts that time."""
    full = over_seeds("time_to_close_mean", "structure=bureaucratic")
    starved = over_seeds("time_to_close_mean", "structure=bureaucratic", "government.budget=5")
    assert starved.min() > 3 * full.max()


def test_callback_rates_are_shares_of_self_reported_issues_called_back():
    model = CoGovModel(load_config(*SMALL, "structure=bureaucratic"))
    model.run_for(model.config.steps)
    issues, metrics = model.flow.issues, model.headline()
    called = np.flatnonzero(issues.view("callback") > model.config.metrics.burn_in)
    assert len(called) and (issues.channel[called] == 0).all()  # self-reports only
    assert (issues.callback[called] - issues.resolved[called] == 3).all()
    assert metrics["callback_resolved_rate"] == pytest.approx(issues.held[called].mean())
    assert metrics["callback_satisfied_rate"] == pytest.approx(issues.said_satisfied[called].mean())


def test_problem_resolution_counts_a_recurrence_with_its_original():
    model = CoGovModel(load_config(*SMALL, "structure=bureaucratic", "government.fix_quality=0.6"))
    model.run_for(model.config.steps)
    issues, metrics = model.flow.issues, model.headline()
    created = issues.view("created")
    burn_in = model.config.metrics.burn_in
    originals = np.flatnonzero(
        (created > burn_in) & (issues.view("root") == np.arange(issues.size))
    )
    solved = np.isin(originals, issues.view("root")[issues.view("held")])
    assert metrics["problem_resolution_rate"] == pytest.approx(solved.mean())
    # counting every issue instead would count each recurrence as a separate problem
    assert (issues.view("recurrence_of") >= 0).sum() > 0


def test_headline_metrics_exclude_the_burn_in():
    model = CoGovModel(load_config(*SMALL, "structure=sanshe"))
    model.run_for(model.config.steps)
    burn_in = model.config.metrics.burn_in
    series = np.array(model.datacollector.model_vars["participation_rate"])
    metrics = model.headline()
    assert metrics["participation_rate"] == pytest.approx(series[burn_in + 1 :].mean())
    assert metrics["participation_rate"] != pytest.approx(series.mean())
    later = CoGovModel(load_config(*SMALL, "structure=sanshe", "metrics.burn_in=100"))
    later.run_for(later.config.steps)
    # the same run (same seed), measured over a shorter window: fewer problems counted
    assert later.headline()["problems_solved"] < metrics["problems_solved"]
    assert len(later.datacollector.model_vars["backlog"]) == later.config.steps + 1


def test_satisfaction_inequality_is_reported_over_households_and_communities():
    metrics = headline("structure=bureaucratic")
    assert metrics["satisfaction_gini_households"] > metrics["satisfaction_gini_communities"] > 0


# -- size ------------------------------------------------------------------------------------

PER_HOUSEHOLD = ("participation_rate", "problem_resolution_rate", "mean_satisfaction")


def test_per_household_results_do_not_depend_on_the_map_size():
    """Communities and grid units sized in households: a 40 x 40 and an 80 x 80 map (4 and
    16 communities of 400 households) give the same per-household results within their 95%
    confidence intervals, for every structure."""
    sizes = {}
    for side in (40, 80):
        cells = (
            f"world.width={side}",
            f"world.height={side}",
            "world.community_households=400",
            "world.grid_unit_households=100",
            "steps=200",
            "metrics.burn_in=60",
        )
        for structure in ("bureaucratic", "sanshe", "co_governance"):
            runs = []
            for seed in range(5):
                model = CoGovModel(load_config(*cells, f"structure={structure}", f"seed={seed}"))
                model.run_for(200)
                runs.append([model.headline()[m] for m in PER_HOUSEHOLD])
            sizes[side, structure] = np.array(runs)
    for structure in ("bureaucratic", "sanshe", "co_governance"):
        small, large = sizes[40, structure], sizes[80, structure]
        for k, metric in enumerate(PER_HOUSEHOLD):
            p = stats.ttest_ind(small[:, k], large[:, k], equal_var=False).pvalue
            assert p > 0.01 or abs(small[:, k].mean() - large[:, k].mean()) < 0.01, (
                structure,
                metric,
            )
