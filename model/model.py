"""CoGovModel: the Mesa model of multi-actor urban co-governance (多元共治)."""

from __future__ import annotations

from functools import partial

import mesa
import numpy as np
from mesa.discrete_space import OrthogonalVonNeumannGrid
from omegaconf import DictConfig

from agents import Resident
from model.config import Engine, load_config, validate
from model.engines import ENGINES
from model.population import Population
from model.world import SocialNetwork, partition, von_neumann_lattice


def _metric(model: CoGovModel, name: str) -> float:
    return model.metrics[name]


class CoGovModel(mesa.Model):
    """Households on a grid, their communities and grid units, and (soon) the institutions
    that govern them. One step is one day; the co-production game plays one Monte Carlo step
    (N elementary updates) per day.

    Build it from a composed config: ``CoGovModel(load_config("structure=canonical_pgg"))``.
    """

    def __init__(self, config: DictConfig | None = None, *, rng: int | None = None):
        config = load_config() if config is None else config
        validate(config)
        super().__init__(rng=int(config.seed) if rng is None else rng)
        self.config = config
        world, residents = config.world, config.residents
        self.cost = float(residents.cost)
        self.noise = float(residents.noise)

        self.grid = OrthogonalVonNeumannGrid(
            (world.width, world.height), torus=world.torus, capacity=1, random=self.random
        )
        self.lattice = von_neumann_lattice(world.width, world.height, world.torus)
        self.partition = partition(world)
        self.social_network = SocialNetwork(self.lattice, world.rewiring, self.rng)
        self.population = Population.initial(self.lattice.size, residents, self.rng)
        cells = list(self.grid.all_cells.cells)  # Mesa's order: index = x * height + y
        self.resident_list: list[Resident] = list(
            Resident.create_agents(self, len(cells), cell=cells, index=list(range(len(cells))))
        )
        self.engine = ENGINES[Engine(config.engine).value](self)

        self.metrics: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(_metric, name=name) for name in self.measure()}
        )
        self.metrics = self.measure()
        self.datacollector.collect(self)

    def step(self) -> None:
        """One day: residents play one round of the co-production game; then measure."""
        self.engine.co_production_round()
        self.metrics = self.measure()
        self.datacollector.collect(self)

    def measure(self) -> dict[str, float]:
        """The outcome metrics of the current state (recorded once per step)."""
        return {"participation_rate": float(np.mean(self.population.participating))}
