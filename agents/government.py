"""Government: the street office (街道办事处) with its budget, district departments (区职能部门)
and community workstations (社区工作站) with their grid workers (网格员)."""

from __future__ import annotations

import math

import numpy as np
from mesa import Agent

from agents.handler import Handler
from model.issues import SERVICE


class Department(Handler):
    """A district department: handles the tasks of its own issue category."""

    def __init__(self, model, category: int):
        super().__init__(model, quality=model.config.government.department_quality)
        self.category = category


class CommunityWorkstation(Handler):
    """A community's own office: handles issues it has authority for (and service needs when
    no social organisation takes them), employs the grid workers who patrol its grid units, and
    keeps the community fund (社区基金) that incubates social organisations."""

    def __init__(self, model, community: int):
        super().__init__(model, quality=model.config.government.local_quality, community=community)
        self.households = int(np.sum(model.partition.community == community))
        self.fund = 0.0

    def quality_for(self, category: int) -> float:
        """Local knowledge for department issues; staff-provided services are less good."""
        return self.model.config.government.service_quality if category == SERVICE else self.quality

    def step(self) -> None:
        self.work()
        self.incubate()

    def incubate(self) -> None:
        """Found a social organisation from the community fund when the community has none."""
        orgs = self.model.config.social_orgs
        if self.model.social_orgs_in(self.community) or self.fund < orgs.incubation_cost:
            return
        self.fund -= orgs.incubation_cost
        self.model.found_social_org(self.community)


PURCHASE_HORIZON = 30
"""Days for which unspent purchase-of-services money stays available (a monthly account)."""


class StreetOffice(Agent):
    """Holds the district budget and turns it, each day, into staff capacity, grid patrols,
    digital coverage, purchase of services and points rewards. Never spends more than the
    budget: staff, grid and digital lines are paid in full each day; points are paid as used;
    purchase money not yet used stays available for up to a month, so spending to date never
    exceeds the budget to date."""

    LINES = (
        "department_staff",
        "devolved_staff",
        "grid_workers",
        "digital_platform",
        "purchase_of_services",
        "points_rewards",
    )

    def __init__(self, model):
        super().__init__(model)
        gov = model.config.government
        shares = gov.budget_shares
        self.budget = gov.budget * model.population.size / 1000  # units per day
        staff = self.budget * shares.staff
        self.allocation = {
            "department_staff": staff * (1 - gov.devolution.resources),
            "devolved_staff": staff * gov.devolution.resources,
            "grid_workers": self.budget * shares.grid_workers,
            "digital_platform": self.budget * shares.digital_platform,
            "purchase_of_services": self.budget * shares.purchase_of_services,
            "points_rewards": self.budget * shares.points_rewards,
        }
        self.spent_today = dict.fromkeys(self.LINES, 0.0)
        self.spent_total = dict.fromkeys(self.LINES, 0.0)
        self.purchase_left = 0.0
        digital_per_1000 = self.allocation["digital_platform"] * 1000 / model.population.size
        self.digital_coverage = 1 - math.exp(
            -digital_per_1000 / model.config.discovery.digital_scale
        )
        self.points_rate = 0.0

    def step(self) -> None:
        """Open the day: pay staff, set capacities, and announce today's points rate."""
        model, gov = self.model, self.model.config.government
        self.spent_today = dict.fromkeys(self.LINES, 0.0)
        for line in ("department_staff", "devolved_staff", "grid_workers", "digital_platform"):
            self.spend(line, self.allocation[line])
        for department in model.departments:
            department.capacity = (
                self.allocation["department_staff"] / len(model.departments) * gov.productivity
            )
        for station in model.workstations:
            share = station.households / model.population.size
            station.capacity = self.allocation["devolved_staff"] * share * gov.productivity
        purchase = self.allocation["purchase_of_services"]
        to_funds = purchase * model.config.social_orgs.community_fund_share
        for station in model.workstations:
            station.fund += to_funds * station.households / model.population.size
        self.spend("purchase_of_services", to_funds)
        # Unspent purchase money stays available for up to PURCHASE_HORIZON days.
        self.purchase_left = min(
            self.purchase_left + purchase - to_funds, (purchase - to_funds) * PURCHASE_HORIZON
        )
        co_producers = max(1, int(model.population.participating.sum()))
        budget_rate = self.allocation["points_rewards"] * gov.points_value / co_producers
        self.points_rate = min(gov.points_cap, budget_rate)

    def grid_workers_per_unit(self) -> float:
        """Grid workers employed today, shared equally among grid units (one team per 网格)."""
        return self.allocation["grid_workers"] / self.model.partition.n_grid_units

    def buy_service(self, price: float) -> bool:
        """Pay for one contracted service from today's purchase budget, if enough is left."""
        if price > self.purchase_left + 1e-12:
            return False
        self.purchase_left -= price
        self.spend("purchase_of_services", price)
        return True

    def pay_points(self, co_producers: int) -> float:
        """Pay today's points to ``co_producers``; return the payoff each receives."""
        gov = self.model.config.government
        if co_producers == 0 or gov.points_value == 0:
            return 0.0
        affordable = self.allocation["points_rewards"] * gov.points_value / co_producers
        rate = min(self.points_rate, affordable)
        self.spend("points_rewards", rate * co_producers / gov.points_value)
        return rate

    def spend(self, line: str, amount: float) -> None:
        self.spent_today[line] += amount
        self.spent_total[line] += amount
