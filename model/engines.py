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


NEIGHBOUR_TABLE_CELLS = 2**16
"""Largest map (households) on which the game reads neighbours from the lattice's table (16
bytes a household: 1 MiB at 2**16, what the two L2 caches of the 2-core machine hold together;
its 32 MiB L3 is shared with everything else). Measured on that
machine: at 100 x 100 the table takes 38-39 ns an update against 65-80 ns computed; at
400 x 400 it takes 230-270 ns against 124-147 ns computed; between 160 and 250 a side the
two are within the noise of each other (``cogov-bench --only scaling`` shows the effect)."""


PREFETCH_TIES_CELLS = 2**18
"""Largest map (households) on which the wellbeing pass does not prefetch the trust at the
other end of social ties (:func:`model.kernels.wellbeing`). The pass reads households in order,
but a rewired tie (``world.rewiring``) leads anywhere: once the trust array (8 bytes a
household) outgrows the cache, each such read waits on memory, and asking for it
:data:`model.kernels.TIES_AHEAD` ties ahead saves that wait; on smaller maps the prefetch
instructions only cost. Measured on the slower 2-core machine (4 MiB of L2 a core), the same
day's pass in one process, in turns: at 10⁶ households 22-24 ns a household against
29-34 without, at 700 x 700 33-34 against 37-38; at 400 x 400 34 against 30 and at 100 x 100
15 against 11 (the prefetch costs there)."""


class FastEngine:
    """Array engine: numba and numpy kernels over the population arrays.

    The kernels' scalar parameters are records read from the config once, when the engine is
    built (:func:`model.kernels.parameter_record`). The co-production game keeps its group
    counts between days (:func:`model.kernels.co_production_round`). It reads the neighbours
    of a household from the lattice's table while the table fits in the cache (up to
    :data:`NEIGHBOUR_TABLE_CELLS` households) and computes them from the grid's shape on
    larger maps (:func:`model.kernels.neighbour`); both give the same numbers.
    """

    def __init__(self, model: CoGovModel):
        self.model = model
        n = model.population.size
        self.game = kernels.parameter_record(model.config, kernels.GAME_PARAMETERS)
        self.wellbeing_parameters = kernels.parameter_record(
            model.config, kernels.WELLBEING_PARAMETERS
        )
        self.game_tables = kernels.GameTables.empty(n)
        lattice = model.lattice
        small = n <= NEIGHBOUR_TABLE_CELLS
        self.neighbours = lattice.ghost_padded_neighbours if small else lattice.grid
        self.ties_ahead = kernels.TIES_AHEAD if n > PREFETCH_TIES_CELLS else 0

    def co_production_round(self) -> None:
        """One Monte Carlo step: N elementary updates (kernel seeded from the model's rng,
        :func:`model.kernels.draw_seed`)."""
        model, population, lattice = self.model, self.model.population, self.model.lattice
        kernels.co_production_round(
            population.participating,
            population.group_synergy,
            population.bonus,
            self.neighbours,
            lattice.degree,
            self.game_tables,
            self.game,
            population.size,
            kernels.draw_seed(model.rng_addresses()),
        )

    def raise_issues(self) -> None:
        """:meth:`Resident.raise_issue` as one kernel pass (one uniform draw per household,
        in their order), reading each group's co-producers from the game's tables."""
        model, population = self.model, self.model.population
        issues, lattice = model.config.issues, model.lattice
        rate = issues.problems_per_household_year / 365 * model.shock.rate_multiplier(model.steps)
        contagion = model.shock.contagion(model.steps)
        unreported = np.zeros(population.size if contagion else 0, bool)
        if contagion:
            unreported[model.flow.issues.origin[model.flow.still_undiscovered()]] = True
        raised = kernels.raise_issues(
            self.game_tables.counts,
            population.open_issue,
            lattice.neighbours,
            lattice.degree,
            model.rng_addresses(),
            rate,
            issues.prevention,
            contagion,
            unreported,
        )
        raisers = np.flatnonzero(raised)
        if len(raisers):
            model.flow.raise_issues(raisers)

    def report_issues(self) -> None:
        """:meth:`Resident.report_issue` then :meth:`Resident.report_for_neighbours` for all
        households at once (:meth:`model.discovery.Discovery.residents_report`)."""
        self.model.discovery.residents_report()

    def collect_points(self, rate: float) -> None:
        population = self.model.population
        kernels.collect_points(population.points, population.participating, rate)

    def update_wellbeing(self) -> None:
        """:meth:`Resident.update_trust`, :meth:`Resident.listen_to_neighbours` and
        :meth:`Resident.update_satisfaction` as one kernel pass over the households, reading
        each group's co-producers from the game's tables."""
        model, p = self.model, self.model.population
        lattice, network, issues = model.lattice, model.social_network, model.flow.issues
        kernels.wellbeing(
            p.trust,
            p.satisfaction,
            p.service_record,
            p.outcome,
            p.outcome_delay,
            p.contacted,
            self.game_tables.counts,
            p.open_issue,
            issues.created,
            issues.severity,
            network.indptr,
            network.indices,
            lattice.degree,
            model.steps,
            self.wellbeing_parameters,
            self.ties_ahead,
        )


ENGINES = {"agents": AgentEngine, "fast": FastEngine}
