"""The two engines: who executes the residents' rules on the shared population arrays.

``agents`` calls each :class:`agents.Resident`'s own methods (the readable reference);
``fast`` runs the same rules as array kernels. Institutions and the issue flow are shared.
Each method is one phase of the day; within a phase the residents' actions are independent,
so both engines give the same distribution of outcomes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import kernels

if TYPE_CHECKING:
    from model.model import CoGovModel


class AgentEngine:
    """Reference engine: Mesa agents act one by one."""

    def __init__(self, model: CoGovModel):
        self.model = model

    @property
    def residents(self):
        from agents import Resident

        return self.model.agents_by_type[Resident]

    def co_production_round(self) -> None:
        """One Monte Carlo step: N elementary updates, each by a uniformly drawn resident."""
        residents = self.model.resident_list
        n = len(residents)
        for _ in range(n):
            residents[self.model.random.randrange(n)].imitate_neighbour()

    def raise_issues(self) -> None:
        self.residents.do("raise_issue")

    def report_issues(self) -> None:
        self.residents.do("report_issue")
        self.residents.do("report_for_neighbours")

    def collect_points(self, rate: float) -> None:
        self.residents.do("collect_points", rate)

    def update_wellbeing(self) -> None:
        self.residents.do("update_trust")
        trust_before = self.model.population.trust.copy()
        self.residents.do("listen_to_neighbours", trust_before)
        self.residents.do("update_satisfaction")


class FastEngine:
    """Array engine: numba and numpy kernels over the population arrays."""

    def __init__(self, model: CoGovModel):
        self.model = model

    def co_production_round(self) -> None:
        """One Monte Carlo step: N elementary updates (kernel seeded from the model's rng)."""
        model, population, lattice = self.model, self.model.population, self.model.lattice
        kernels.co_production_round(
            population.participating,
            lattice.width,
            lattice.height,
            lattice.torus,
            population.group_synergy,
            population.bonus,
            model.cost,
            model.noise,
            model.exploration,
            population.size,
            int(model.rng.integers(2**62)),
        )

    def raise_issues(self) -> None:
        """Vectorised :meth:`Resident.raise_issue`."""
        model, population = self.model, self.model.population
        issues = model.config.issues
        co_producing = model.lattice.group_mean(population.participating)
        rate = issues.problems_per_household_year / 365 * model.shock.rate_multiplier(model.steps)
        chance = rate * (1 - issues.prevention * co_producing)
        contagion = model.shock.contagion(model.steps)
        if contagion:
            unreported = np.zeros(population.size)
            unreported[model.flow.issues.origin[model.flow.still_undiscovered()]] = 1
            chance = chance + contagion * (model.lattice.group_sum(unreported) - unreported)
        free = population.open_issue < 0
        raisers = np.flatnonzero(free & (model.rng.random(population.size) < chance))
        if len(raisers):
            model.flow.raise_issues(raisers)

    def report_issues(self) -> None:
        """Vectorised :meth:`Resident.report_issue` then :meth:`Resident.report_for_neighbours`."""
        model, population, flow = self.model, self.model.population, self.model.flow
        discovery = model.config.discovery
        ids = flow.still_undiscovered()
        owners = flow.issues.origin[ids]
        floor = discovery.report_floor
        chance = model.channel_ease * (floor + (1 - floor) * population.trust[owners])
        flow.mark_discovered(ids[model.rng.random(len(ids)) < chance], "self_report")
        if not discovery.building_leaders:
            return
        ids = flow.still_undiscovered()
        owners = flow.issues.origin[ids]
        leaders = (
            model.lattice.group_sum(population.participating)[owners]
            - (population.participating[owners])
        )
        chance = 1 - (1 - discovery.leader_report) ** leaders
        flow.mark_discovered(ids[model.rng.random(len(ids)) < chance], "building_leader")

    def collect_points(self, rate: float) -> None:
        population = self.model.population
        population.points[population.participating] += rate

    def update_wellbeing(self) -> None:
        """:meth:`Resident.update_trust`, :meth:`Resident.listen_to_neighbours` and
        :meth:`Resident.update_satisfaction` as one kernel pass over the households."""
        model, p = self.model, self.model.population
        r, lattice, network = model.config.residents, model.lattice, model.social_network
        issues = model.flow.issues
        kernels.wellbeing(
            p.trust,
            p.satisfaction,
            p.service_record,
            p.outcome,
            p.outcome_delay,
            p.contacted,
            p.participating,
            p.open_issue,
            issues.created,
            issues.severity,
            network.indptr,
            network.indices,
            lattice.width,
            lattice.height,
            lattice.torus,
            model.steps,
            model.config.issues.max_wait,
            r.trust_gain,
            r.trust_loss,
            r.trust_patience,
            model.config.party.contact_gain,
            r.social_influence,
            r.service_memory,
            r.satisfaction_baseline,
            r.service_gain,
            r.public_goods_gain,
            r.need_penalty,
            r.delay_penalty,
            r.satisfaction_rate,
        )


ENGINES = {"agents": AgentEngine, "fast": FastEngine}
