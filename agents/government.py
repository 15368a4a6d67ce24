"""Government: the street office (街道办事处) with its budget, district departments (区职能部门)
and community workstations (社区工作站) with their grid workers (网格员)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from agents.handler import Handler
from model.discovery import building_leader_stipends, digital_coverage

if TYPE_CHECKING:
    from model.model import CoGovModel

PURCHASE_HORIZON = 30
"""Days for which unspent purchase-of-services money stays available (a monthly account);
older money lapses and is reported as unspent."""


class Department(Handler):
    """A district department: handles the tasks of its own issue category."""

    kind = "department"

    def __init__(self, model: CoGovModel, category: int):
        super().__init__(model)
        self.category = category


class CommunityWorkstation(Handler):
    """A community's own office: handles the issues it has authority for (and service needs
    when no social organisation takes them), and keeps the community fund (社区基金) that
    incubates social organisations. Authority takes training time from its staff."""

    kind = "workstation"

    def __init__(self, model: CoGovModel, community: int, households: int):
        super().__init__(model, community=community)
        self.households = households
        self.fund = 0.0  # staff-days in the community fund (社区基金), not yet spent

    def step(self) -> None:
        self.work()
        self.incubate()

    def incubate(self) -> None:
        """Found a social organisation with a grant from the community fund when the community
        has none and the fund can pay the grant."""
        grant = self.model.config.social_orgs.incubation_grant
        if self.model.social_orgs_in(self.community) or self.fund < grant:
            return
        self.fund -= grant
        self.model.street_office.record("social_org_grants", grant)
        self.model.found_social_org(self.community, funds=grant)


class StreetOffice(Agent["CoGovModel"]):
    """Holds the district budget and turns it, each day, into staff capacity, grid patrols,
    digital coverage, the levers' running costs, purchase of services and points rewards.

    The budget is ``government.budget`` staff-days per day per 10,000 residents. The levers'
    running costs (data sharing, building leaders' stipends) are paid first; the rest is
    split by ``government.budget_shares``. Staff, grid, digital and lever lines are paid in
    full each day; points, contracts and grants are paid as used. Money transferred to
    community funds or left in the purchase account is not spent until it buys something,
    and purchase money older than a month lapses: it stays unspent.
    """

    LINES: tuple[str, ...] = (
        "department_staff",
        "workstation_staff",
        "grid_workers",
        "digital_platform",
        "data_sharing",
        "building_leaders",
        "purchase_of_services",
        "social_org_grants",
        "points_rewards",
    )
    """Spending lines; ``unspent`` is the budget minus their sum."""

    def __init__(self, model: CoGovModel):
        super().__init__(model)
        cfg = model.config
        gov, discovery = cfg.government, cfg.discovery
        shares = gov.budget_shares
        households = model.population.size
        self.per_10k = households * cfg.world.household_size / 10_000  # residents / 10,000
        self.budget = gov.budget * self.per_10k  # staff-days per day
        overheads = {
            "data_sharing": gov.data_sharing * gov.data_sharing_cost * self.per_10k,
            "building_leaders": building_leader_stipends(households, discovery),
        }
        net = self.budget - sum(overheads.values())  # validate() keeps it >= 0
        staff = net * shares.staff
        self.allocation = {
            "department_staff": staff * (1 - gov.devolution.resources),
            "workstation_staff": staff * gov.devolution.resources,
            "grid_workers": net * shares.grid_workers,
            "digital_platform": net * shares.digital_platform,
            **overheads,
            "purchase_of_services": net * shares.purchase_of_services,
            "social_org_grants": 0.0,  # paid from community funds (purchase line)
            "points_rewards": net * shares.points_rewards,
        }
        self.training = gov.devolution.authority * gov.devolution.training_days * self.per_10k
        self.spent_today = dict.fromkeys(self.LINES, 0.0)
        self.spent_total = dict.fromkeys(self.LINES, 0.0)
        self.purchase_left = 0.0
        digital_per_10k = self.allocation["digital_platform"] / self.per_10k
        self.digital_coverage = digital_coverage(digital_per_10k, discovery)
        self.points_rate = 0.0

    def step(self) -> None:
        """Open the day: pay staff and running costs, set capacities, feed community funds and
        the purchase account, and announce today's points rate."""
        model = self.model
        self.spent_today = dict.fromkeys(self.LINES, 0.0)
        for line in (
            "department_staff",
            "workstation_staff",
            "grid_workers",
            "digital_platform",
            "data_sharing",
            "building_leaders",
        ):
            self.record(line, self.allocation[line])
        for department in model.departments:
            department.capacity = self.allocation["department_staff"] / len(model.departments)
        households = model.population.size
        staff = self.allocation["workstation_staff"]
        model.time_used["workstation_training"] += min(staff, self.training)
        for station in model.workstations:
            station.capacity = max(0.0, staff - self.training) * station.households / households
        purchase = self.allocation["purchase_of_services"]
        to_funds = purchase * model.config.social_orgs.community_fund_share
        for station in model.workstations:
            station.fund += to_funds * station.households / households
        self.purchase_left = min(
            self.purchase_left + purchase - to_funds, (purchase - to_funds) * PURCHASE_HORIZON
        )
        gov = model.config.government
        co_producers = max(1, model.population.co_producers())
        budget_rate = self.allocation["points_rewards"] * gov.points_value / co_producers
        self.points_rate = min(gov.points_cap, budget_rate)

    def grid_workers_per_unit(self) -> float:
        """Grid workers employed today, shared equally among grid units (one team per 网格)."""
        return self.allocation["grid_workers"] / self.model.partition.n_grid_units

    def buy_service(self, price: float) -> bool:
        """Pay for one contracted service from the purchase account, if enough is left."""
        if price > self.purchase_left + 1e-12:
            return False
        self.purchase_left -= price
        self.record("purchase_of_services", price)
        return True

    def pay_points(self, co_producers: int) -> float:
        """Pay today's points to ``co_producers``; return the payoff each receives."""
        gov = self.model.config.government
        if co_producers == 0 or gov.points_value == 0:
            return 0.0
        affordable = self.allocation["points_rewards"] * gov.points_value / co_producers
        rate = min(self.points_rate, affordable)
        self.record("points_rewards", rate * co_producers / gov.points_value)
        return rate

    def record(self, line: str, amount: float) -> None:
        """Book ``amount`` staff-days as spent on ``line``."""
        self.spent_today[line] += amount
        self.spent_total[line] += amount
