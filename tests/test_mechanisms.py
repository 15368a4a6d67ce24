"""Ablations: switch one mechanism off and its effect vanishes; switch it on and it appears."""

from __future__ import annotations

import numpy as np
import pytest

from model import load_config
from model.issues import ROUTES
from tests.conftest import build, world

SMALL = (*world(30), "metrics.burn_in=0")


def run(*overrides: str, days: int = 60):
    model = build(*SMALL, *overrides)
    model.run_for(days)
    return model


def mean_over_seeds(metric: str, *overrides: str, seeds=range(3), days: int = 120) -> float:
    """A headline metric (over the whole run: no burn-in here), averaged over seeds."""
    return float(
        np.nanmean([run(*overrides, f"seed={s}", days=days).headline()[metric] for s in seeds])
    )


def shares(**values: float) -> list[str]:
    return [f"government.budget_shares.{k}={v}" for k, v in values.items()]


def test_no_whistle_no_joint_dispatch():
    assert run("structure=party_led", "party.whistle=false").metrics["joint_dispatches"] == 0
    assert run("structure=party_led", "party.whistle=true").metrics["joint_dispatches"] > 0


def test_no_coordinating_capacity_no_joint_dispatch():
    off = run("structure=party_led", "party.split.mobilise=0.8", "party.split.coordinate=0")
    assert off.metrics["joint_dispatches"] == 0


def test_no_digital_platform_no_sensing():
    no_digital = shares(
        staff=0.75,
        grid_workers=0.1,
        digital_platform=0.0,
        purchase_of_services=0.1,
        points_rewards=0.05,
    )
    assert run("structure=grid", *no_digital).headline()["discovered_by_digital_sensing"] == 0
    assert run("structure=grid").headline()["discovered_by_digital_sensing"] > 0


def test_no_grid_workers_no_patrol_discoveries():
    no_grid = shares(
        staff=0.8,
        grid_workers=0.0,
        digital_platform=0.1,
        purchase_of_services=0.0,
        points_rewards=0.1,
    )
    assert run("structure=grid", *no_grid).headline()["discovered_by_grid_patrol"] == 0
    assert run("structure=grid").headline()["discovered_by_grid_patrol"] > 0


def test_building_leaders_only_under_sanzhangzhi():
    off = run("structure=grid", "discovery.building_leaders=false").headline()
    on = run("structure=grid", "discovery.building_leaders=true").headline()
    assert off["discovered_by_building_leader"] == 0 and off["spending_building_leaders"] == 0
    assert on["discovered_by_building_leader"] > 0 and on["spending_building_leaders"] > 0


def test_no_purchase_budget_no_social_org_projects():
    no_purchase = shares(
        staff=0.8,
        grid_workers=0.1,
        digital_platform=0.05,
        purchase_of_services=0.0,
        points_rewards=0.05,
    )
    assert run("structure=sanshe", *no_purchase).flow.projects == 0
    assert run("structure=sanshe").flow.projects > 0


def test_without_sanshe_service_needs_never_reach_social_orgs():
    model = run("structure=sanshe", "social_orgs.sanshe=false")
    assert model.flow.routes["social_org"] == 0
    assert model.flow.projects == 0


def test_no_authority_nothing_decided_locally():
    model = run("structure=decentralised", "government.devolution.authority=0")
    issues = model.flow.issues
    local = issues.view("route") == ROUTES.index("local")
    assert not (local & (issues.view("category") >= 0)).any()  # only service needs go local


def test_authority_without_resources_overloads_local_queues():
    unmatched = ("structure=decentralised", "government.devolution.resources=0.05")
    matched = ("structure=decentralised", "government.devolution.resources=0.6")
    assert mean_over_seeds("workstation_queue", *unmatched) > 3 * mean_over_seeds(
        "workstation_queue", *matched
    )


def test_resources_without_authority_sit_idle():
    model = build(*SMALL, "structure=decentralised", "government.devolution.authority=0")
    model.run_for(60)
    assert model.headline()["utilisation_workstation"] < 0.5


def test_shared_data_shortens_hand_offs_between_departments():
    def hand_offs(sharing: float) -> np.ndarray:
        model = run("structure=bureaucratic", f"government.data_sharing={sharing}")
        tasks = model.flow.tasks
        done = np.flatnonzero((tasks.view("next_task") >= 0) & (tasks.view("done") >= 0))
        return tasks.ready[tasks.next_task[done]] - tasks.done[done]

    handoff = load_config().government.handoff_delay
    assert (hand_offs(0) == handoff).all()
    assert (hand_offs(1) == 1).all()  # the next department still starts a day later


def test_prevention_off_issue_rate_ignores_co_production():
    everyone = (
        "structure=canonical_pgg",
        "structure.institutions=true",
        "world.torus=false",
        "residents.initial_participation=1",
        "residents.exploration=0",
        "issues.initial_open_share=0",
    )
    prevented = build(*SMALL, *everyone, "issues.prevention=1")
    prevented.run_for(30)
    assert prevented.metrics["issues_created"] == 0
    unprevented = build(*SMALL, *everyone, "issues.prevention=0")
    unprevented.run_for(30)
    assert unprevented.metrics["issues_created"] > 0


def test_need_weight_zero_removes_crowding_out_channel():
    model = run(
        "structure=bureaucratic",
        "residents.need_weight=0",
        "social_orgs.sanshe=false",
        days=20,
    )
    r = model.config.residents.synergy
    assert np.allclose(model.population.group_synergy, r)


def test_organising_raises_synergy_only_where_social_orgs_work():
    with_orgs = run("structure=sanshe", days=90)
    without = run("structure=sanshe", "social_orgs.organising_effect=0", days=90)
    assert with_orgs.social_orgs
    assert with_orgs.population.group_synergy.mean() > without.population.group_synergy.mean()


def test_points_budget_zero_pays_no_points():
    no_points = shares(
        staff=0.75,
        grid_workers=0.1,
        digital_platform=0.05,
        purchase_of_services=0.1,
        points_rewards=0.0,
    )
    model = run("structure=co_governance", *no_points)
    assert model.population.points.sum() == 0
    assert model.street_office.spent_total["points_rewards"] == 0
    assert run("structure=co_governance").population.points.sum() > 0


def test_no_mobilisation_no_mobilisation_bonus():
    model = run("structure=party_led", "party.split.mobilise=0", "party.split.contact=0.6")
    assert all(branch.mobilisation_bonus == 0 for branch in model.party_branches)


def test_party_contact_raises_trust():
    quiet = run(
        "structure=bureaucratic",
        "party.split.mobilise=0.5",
        "party.split.coordinate=0.5",
        "party.split.contact=0",
        "party.contact_gain=0.5",
    )
    assert not quiet.population.contacted.any()
    visiting = ("structure=bureaucratic", "party.contact_gain=0.5")
    assert (
        mean_over_seeds("mean_trust", *visiting)
        > mean_over_seeds("mean_trust", *visiting, "party.contact_gain=0") + 0.05
    )


def test_perfect_fixes_never_recur():
    model = run("structure=bureaucratic", "government.fix_quality=1")
    issues = model.flow.issues
    assert (issues.view("recurrence_of") == -1).all()
    assert issues.view("held")[issues.view("resolved") >= 0].all()


def test_failed_fixes_recur_for_the_same_household():
    model = run("structure=bureaucratic", "government.fix_quality=0.5")
    issues = model.flow.issues
    repeats = np.flatnonzero(issues.view("recurrence_of") >= 0)
    assert len(repeats) > 0
    assert (issues.origin[repeats] == issues.origin[issues.recurrence_of[repeats]]).all()
    assert not issues.held[issues.recurrence_of[repeats]].any()
    # a recurrence belongs to its original problem
    assert (issues.root[repeats] == issues.root[issues.recurrence_of[repeats]]).all()


def test_no_abandonment_when_patience_outlasts_the_run():
    assert run("structure=bureaucratic", "issues.max_wait=1000").metrics["issues_abandoned"] == 0


def test_shock_multiplies_issue_rates_only_while_it_lasts():
    quiet = run("structure=bureaucratic", "shock=none", days=40)
    shocked = run(
        "structure=bureaucratic",
        "shock=disaster",
        "shock.start=10",
        "shock.duration=10",
        "shock.rate_multiplier=5",
        days=40,
    )
    created = shocked.flow.issues.view("created")
    calm = quiet.flow.issues.view("created")
    assert (created >= 10).sum() > (calm >= 10).sum()
    assert np.sum((created >= 10) & (created < 20)) > 2.5 * np.sum((calm >= 10) & (calm < 20))


def test_super_grid_adds_party_and_volunteer_visits():
    base = ("structure=grid", "shock=epidemic", "shock.start=1", "shock.duration=50")
    on = build(*SMALL, *base, "shock.super_grid=true")
    off = build(*SMALL, *base, "shock.super_grid=false")
    on.run_for(2)
    off.run_for(2)
    assert (on.discovery.patrol_visits_per_unit() > off.discovery.patrol_visits_per_unit()).all()


def test_social_orgs_without_revenue_live_off_their_grant_and_exit():
    model = run("structure=sanshe", "social_orgs.price=0", days=150)
    orgs = model.config.social_orgs
    lifetime = orgs.incubation_grant / (orgs.wage * orgs.initial_capacity)
    assert model.social_orgs_closed > 0
    assert all(model.steps - org.founded <= lifetime + 1 for org in model.social_orgs)


@pytest.mark.parametrize("engine", ["agents", "fast"])
def test_same_seed_same_full_run(engine):
    overrides = (
        *SMALL,
        *world(14),
        f"engine={engine}",
        "structure=co_governance",
        "shock=epidemic",
        "shock.start=5",
        "seed=9",
    )
    one, two = build(*overrides), build(*overrides)
    one.run_for(30)
    two.run_for(30)
    a = one.datacollector.get_model_vars_dataframe()
    b = two.datacollector.get_model_vars_dataframe()
    assert a.equals(b)
