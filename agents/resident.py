"""Resident (居民户): one household on one grid cell. It co-produces or free-rides, raises and
reports issues, and its trust and satisfaction follow what happens to them."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self, cast, overload

import numpy as np
from mesa.discrete_space import Cell, CellAgent

from model.issues import MAX_SEVERITY, NOT_YET
from model.population import ABANDONED, FIX_FAILED, FIX_HELD

if TYPE_CHECKING:
    from model.model import CoGovModel


def fermi(payoff_gap: float, noise: float) -> float:
    """Probability of imitating a neighbour whose payoff is ``payoff_gap`` below one's own:
    ``1 / (1 + exp(payoff_gap / K))`` (Szabo & Toke 1998)."""
    exponent = payoff_gap / noise
    if exponent > 700:  # exp overflows; the probability is 0 to double precision
        return 0.0
    return 1.0 / (1.0 + math.exp(exponent))


class StateField[T]:
    """A Resident attribute stored in the model's population arrays (struct of arrays)."""

    def __init__(self, cast: Callable[[Any], T]):
        self.cast = cast

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, resident: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, resident: Resident, owner: type | None = None) -> T: ...
    def __get__(self, resident: Resident | None, owner: type | None = None) -> Self | T:
        if resident is None:
            return self
        return self.cast(getattr(resident.model.population, self.name)[resident.index])

    def __set__(self, resident: Resident, value: T) -> None:
        getattr(resident.model.population, self.name)[resident.index] = value


class Resident(CellAgent):
    """A household. It belongs to five co-production groups (the von Neumann groups centred on
    its own cell and on each neighbour; fewer at a non-periodic border) and imitates neighbours
    whose payoff is higher. Each day it may raise an issue, report it, report its neighbours'
    issues (as a building leader), and update its trust and satisfaction."""

    participating = StateField(bool)  # co-producer (共建者) or not
    group_synergy = StateField(float)  # r of the group centred on this household
    bonus = StateField(float)  # payoff added when co-producing (points, mobilisation)
    trust = StateField(float)  # institutional trust, 0..1
    satisfaction = StateField(float)  # 获得感、幸福感、安全感, 0..1
    points = StateField(float)  # points (积分) earned
    service_record = StateField(float)  # decaying count of fixes that held minus failures
    open_issue = StateField(int)  # id of the open issue, or -1
    outcome = StateField(int)  # today's outcome of its issue (model.flow codes)
    outcome_delay = StateField(int)  # days the issue took
    contacted = StateField(bool)  # visited by party members today

    model: CoGovModel

    def __init__(self, model: CoGovModel, cell: Cell, index: int):
        super().__init__(model)
        self.cell = cell
        self.index = index  # position in the population arrays: x * height + y

    def neighbours(self) -> list[Resident]:
        """The households on the lattice neighbours' cells, in Mesa's order."""
        cell = cast(Cell, self.cell)  # a Resident never leaves its cell
        return cast("list[Resident]", list(cell.neighborhood.agents))

    # -- co-production game ---------------------------------------------------------------

    def group(self) -> list[Resident]:
        """The group centred on this household: itself and its lattice neighbours."""
        return [self, *self.neighbours()]

    def group_share(self) -> float:
        """What each member receives from the group centred here: ``r_g * n_c / |g|``."""
        members = self.group()
        co_producers = sum(member.participating for member in members)
        return self.group_synergy * co_producers / len(members)

    def payoff(self) -> float:
        """This round's payoff: the shares of all groups this household belongs to, minus the
        contribution ``c`` to each group and plus the bonus if it co-produces."""
        groups = self.group()
        total = sum(centre.group_share() for centre in groups)
        if self.participating:
            total += self.bonus - self.model.cost * len(groups)
        return total

    def imitate_neighbour(self) -> None:
        """One elementary update: with a small probability try the other strategy; otherwise
        pick a random neighbour and copy its strategy with the Fermi probability
        ``1 / (1 + exp((P_self - P_neighbour) / K))``."""
        exploration = self.model.exploration
        if exploration > 0 and self.random.random() < exploration:
            self.participating = not self.participating
            return
        neighbour = cast(Resident, cast(Cell, self.cell).neighborhood.select_random_agent())
        if neighbour.participating == self.participating:
            return  # copying would change nothing
        if self.random.random() < fermi(self.payoff() - neighbour.payoff(), self.model.noise):
            self.participating = neighbour.participating

    # -- issues ---------------------------------------------------------------------------

    def raise_issue(self) -> None:
        """Without an open issue, raise one with probability
        ``problems_per_household_year / 365 * shock * (1 - prevention * co-producer share of
        own group)``, plus during
        an epidemic ``contagion`` per neighbour whose issue nobody has reported yet."""
        if self.open_issue >= 0:
            return
        model, issues = self.model, self.model.config.issues
        group = self.group()
        co_producing = sum(m.participating for m in group) / len(group)
        chance = (
            issues.problems_per_household_year
            / 365
            * model.shock.rate_multiplier(model.steps)
            * (1 - issues.prevention * co_producing)
        )
        contagion = model.shock.contagion(model.steps)
        if contagion:  # neighbours' unreported issues from before today spread
            chance += contagion * sum(
                n.has_unreported_issue(raised_before=model.steps) for n in group[1:]
            )
        if self.random.random() < chance:
            model.flow.raise_issues(np.array([self.index]))

    def has_unreported_issue(self, raised_before: int | None = None) -> bool:
        """Whether this household has an open issue nobody has reported (optionally: one
        raised before day ``raised_before``)."""
        issue = self.open_issue
        if issue < 0:
            return False
        issues = self.model.flow.issues
        if raised_before is not None and issues.created[issue] >= raised_before:
            return False
        return issues.discovered[issue] == NOT_YET

    def report_issue(self) -> None:
        """Report one's own unreported issue with probability
        ``channel ease * (floor + (1 - floor) * trust)`` (:mod:`model.discovery`)."""
        if not self.has_unreported_issue():
            return
        if self.random.random() < self.model.discovery.self_report_chance(self.trust):
            self.model.flow.mark_discovered(np.array([self.open_issue]), "self_report")

    def report_for_neighbours(self) -> None:
        """三长制: a co-producing building leader reports each neighbour's unreported issue
        with probability ``leader_report``."""
        discovery = self.model.config.discovery
        if not (discovery.building_leaders and self.participating):
            return
        for neighbour in self.neighbours():
            if neighbour.has_unreported_issue() and self.random.random() < discovery.leader_report:
                self.model.flow.mark_discovered(np.array([neighbour.open_issue]), "building_leader")

    # -- trust, satisfaction, points ------------------------------------------------------

    def update_trust(self) -> None:
        """A fix that held raises trust, more the faster it came; a failed fix or an abandoned
        issue lowers it (bad news weighs more); a party visit raises it."""
        residents = self.model.config.residents
        if self.outcome == FIX_HELD:
            speed = math.exp(-self.outcome_delay / residents.trust_patience)
            self.trust += residents.trust_gain * speed * (1 - self.trust)
        elif self.outcome in (FIX_FAILED, ABANDONED):
            self.trust -= residents.trust_loss * self.trust
        if self.contacted:
            self.trust += self.model.config.party.contact_gain * (1 - self.trust)

    def listen_to_neighbours(self, trust_before: np.ndarray) -> None:
        """Move trust towards the mean trust of one's social ties (as it was before today's
        listening)."""
        ties = self.model.social_network.neighbours_of(self.index)
        if len(ties):
            weight = self.model.config.residents.social_influence
            self.trust = (1 - weight) * self.trust + weight * float(trust_before[ties].mean())

    def update_satisfaction(self) -> None:
        """Move satisfaction towards a target set by the household's service record (fixes
        that held, minus failed fixes and abandoned issues), local public goods (co-producers
        in one's group), an open issue's severity and how long it has waited."""
        residents = self.model.config.residents
        event = {FIX_HELD: 1.0, FIX_FAILED: -1.0, ABANDONED: -1.0}.get(self.outcome, 0.0)
        self.service_record = residents.service_memory * self.service_record + event
        group = self.group()
        target = (
            residents.satisfaction_baseline
            + residents.service_gain * self.service_record / (1 + abs(self.service_record))
            + residents.public_goods_gain * sum(m.participating for m in group) / len(group)
        )
        if self.open_issue >= 0:
            issues = self.model.flow.issues
            waited = self.model.steps - int(issues.created[self.open_issue])
            target -= residents.need_penalty * int(issues.severity[self.open_issue]) / MAX_SEVERITY
            target -= residents.delay_penalty * min(1.0, waited / self.model.config.issues.max_wait)
        target = min(1.0, max(0.0, target))
        self.satisfaction += residents.satisfaction_rate * (target - self.satisfaction)

    def collect_points(self, rate: float) -> None:
        """积分: co-producers earn today's points."""
        if self.participating:
            self.points += rate
