"""The two engines: who executes the residents' rules on the shared population arrays.

``agents`` calls each :class:`agents.Resident`'s own methods (the readable reference);
``fast`` runs the same rules as array kernels. Institutions and the issue flow are shared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from model import kernels

if TYPE_CHECKING:
    from model.model import CoGovModel


class AgentEngine:
    """Reference engine: Mesa agents step one by one."""

    def __init__(self, model: CoGovModel):
        self.model = model

    def co_production_round(self) -> None:
        """One Monte Carlo step: N elementary updates, each by a uniformly drawn resident."""
        residents = self.model.resident_list
        n = len(residents)
        for _ in range(n):
            residents[self.model.random.randrange(n)].imitate_neighbour()


class FastEngine:
    """Array engine: numba kernels over the population arrays."""

    def __init__(self, model: CoGovModel):
        self.model = model

    def co_production_round(self) -> None:
        """One Monte Carlo step: N elementary updates (kernel seeded from the model's rng)."""
        model, population, lattice = self.model, self.model.population, self.model.lattice
        kernels.co_production_round(
            population.participating,
            lattice.neighbours,
            lattice.degree,
            population.group_synergy,
            population.bonus,
            model.cost,
            model.noise,
            population.size,
            int(model.rng.integers(2**62)),
        )


ENGINES = {"agents": AgentEngine, "fast": FastEngine}
