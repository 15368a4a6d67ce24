"""CoGovModel: the Mesa model of multi-actor urban co-governance (多元共治)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from functools import partial
from typing import Any, cast

import mesa
import numpy as np
from mesa.discrete_space import OrthogonalVonNeumannGrid
from omegaconf import DictConfig, OmegaConf

from agents import (
    Assessment,
    CommunityWorkstation,
    Department,
    PartyBranch,
    Resident,
    SocialOrganisation,
    StreetOffice,
    StreetPartyCommittee,
)
from model import kernels
from model.config import as_override, load_config, validate
from model.discovery import Discovery
from model.engines import ENGINES
from model.flow import IssueFlow
from model.issues import QUEUED
from model.metrics import headline, measure
from model.population import Population
from model.routing import generator_addresses
from model.schema import CogovConfig, Engine
from model.shocks import Shock
from model.world import SocialNetwork, partition, von_neumann_lattice

TIME_USES = (
    "party_mobilising",
    "party_contacting",
    "party_coordinating",
    "party_detecting",
    "department_reporting",
    "workstation_training",
    "accountability_effort",
)
"""What the levers cost in time rather than money (member-days or staff-days, run totals):
party members' time by use (the super grid takes it to detection), departments' time
reporting to joint dispatches (报到), workstation staff's training for devolved authority, and
the extra work of offices under accountability pressure."""


class _FromConfig(Enum):
    SEED = "the config's seed"


FROM_CONFIG = _FromConfig.SEED
"""Default of ``seed``/``rng``: use the config's seed."""


def fresh_seed() -> int:
    """A seed from the operating system's entropy, below 2**63 so that it can be stored."""
    entropy = np.random.SeedSequence().entropy  # an int when none is given
    return int(cast(int, entropy) % 2**63)


def _metric(model: CoGovModel, name: str) -> float:
    return model.metrics[name]


class DailyRecord(mesa.DataCollector):
    """Mesa's DataCollector for the daily metrics (:func:`model.metrics.measure`), one row per
    collection: ``model_vars[name]`` is the list of a metric's values and
    :meth:`get_model_vars_dataframe` the table, as with Mesa's own. Its :meth:`collect` appends
    ``model.metrics`` as measured, without calling one reporter per metric and deep-copying
    each value as Mesa's does (the values are floats, which a deep copy returns unchanged)."""

    def __init__(self, names):
        super().__init__(model_reporters={name: partial(_metric, name=name) for name in names})

    def collect(self, model: CoGovModel) -> None:
        self._collection_steps.append(model.time)
        metrics = model.metrics
        for name, values in self.model_vars.items():
            values.append(metrics[name])


class CoGovModel(mesa.Model):
    """Households on a grid, their communities and grid units, and the institutions that
    govern them: a street office with district departments and community workstations, party
    branches and the street party committee, and social organisations. One step is one day.

    Build it from a composed config, ``CoGovModel(load_config("structure=sanshe"))``, or from
    keyword overrides as on the command line, dotted keys included, which is how
    ``mesa.batch_run`` passes its parameters: ``CoGovModel(structure="sanshe",
    **{"world.width": 50}, seed=3)``. ``seed`` (or Mesa's ``rng``) replaces the config's
    seed; ``None`` draws a fresh one, recorded in the config. With
    ``structure=canonical_pgg`` only the residents' co-production game runs.
    """

    def __init__(
        self,
        config: DictConfig | None = None,
        *,
        seed: int | _FromConfig | None = FROM_CONFIG,
        rng: int | _FromConfig | None = FROM_CONFIG,
        **overrides: Any,
    ):
        if config is None:
            config = load_config(*(as_override(key, value) for key, value in overrides.items()))
        elif overrides:
            raise TypeError("give CoGovModel a config or keyword overrides, not both")
        chosen = seed if seed is not FROM_CONFIG else rng
        if chosen is not FROM_CONFIG:  # Mesa's convention: None draws a fresh seed
            chosen = fresh_seed() if chosen is None else chosen
            config = config.copy()
            config.seed = int(chosen)
        validate(config)
        super().__init__(rng=int(config.seed))
        self._rng_addresses: tuple[np.random.Generator, np.ndarray] | None = None
        self.config_source = config  # as composed, for records and hashing
        # plain dataclasses: fast reads
        cfg = self.config = cast(CogovConfig, OmegaConf.to_object(config))
        world, residents = cfg.world, cfg.residents
        self.cost = float(residents.cost)
        self.noise = float(residents.noise)
        self.exploration = float(residents.exploration)

        self.lattice = von_neumann_lattice(world.width, world.height, world.torus)
        self.partition = partition(world)
        self.social_network = SocialNetwork(self.lattice, world.rewiring, self.rng)
        self.population = Population.initial(self.lattice.size, residents, self.rng)
        self._grid: OrthogonalVonNeumannGrid | None = None
        self._resident_list: list[Resident] | None = None
        if Engine(cfg.engine) is Engine.agents:  # its residents act as Mesa agents
            self._grid, self._resident_list = self._place_residents()
        self.engine = ENGINES[Engine(cfg.engine).value](self)
        self.shock = Shock(cfg.shock)
        self.flow = IssueFlow(self)
        self.discovery = Discovery(self)
        self.institutions = bool(cfg.structure.institutions)
        self.super_grid_active = False
        self.assessment: Assessment | None = None
        self.time_used: dict[str, float] = dict.fromkeys(TIME_USES, 0.0)
        self.social_orgs_closed = 0
        self.spent_at_burn_in: dict[str, float] = {}
        self.work_at_burn_in: dict[str, tuple[float, float]] = {}
        if self.institutions:
            self._build_institutions()
            self.flow.raise_initial_issues(cfg.issues.initial_open_share)

        self.metrics: dict[str, float] = measure(self)
        self.datacollector = DailyRecord(self.metrics)
        self.datacollector.collect(self)

    def rng_addresses(self) -> np.ndarray:
        """The model's generator as the compiled passes draw from it (routing, new issues,
        raising and reporting issues, party visits, accountability pressure on released tasks,
        whether fixes hold: :func:`model.routing.generator_addresses`), looked up again if
        ``rng`` was replaced."""
        if self._rng_addresses is None or self._rng_addresses[0] is not self.rng:
            self._rng_addresses = (self.rng, generator_addresses(self.rng))
        return self._rng_addresses[1]

    def __getstate__(self) -> dict:
        """A copy or a pickle of the model looks the generator's addresses up again: they are
        where this process keeps this generator."""
        return {**self.__dict__, "_rng_addresses": None}

    def _place_residents(self) -> tuple[OrthogonalVonNeumannGrid, list[Resident]]:
        """Mesa's cell grid with one :class:`Resident` on each cell, and the residents in Mesa's
        order (index ``x * height + y``, as in the population arrays). The agents engine needs
        them from the start; the fast engine never does, so it builds them on first use
        (inspection, visualisation): a Resident reads and writes the population arrays,
        whenever made."""
        world = self.config.world
        grid = OrthogonalVonNeumannGrid(
            (world.width, world.height), torus=world.torus, capacity=1, random=self.random
        )
        cells = grid.all_cells.cells
        return grid, [Resident(self, cell, index) for index, cell in enumerate(cells)]

    @property
    def grid(self) -> OrthogonalVonNeumannGrid:
        """Mesa's cell grid of the households, each cell holding its Resident."""
        if self._grid is None:
            self._grid, self._resident_list = self._place_residents()
        return self._grid

    @property
    def resident_list(self) -> list[Resident]:
        """The households as Mesa agents, ``resident_list[i]`` for household ``i``."""
        if self._resident_list is None:
            self._grid, self._resident_list = self._place_residents()
        return self._resident_list

    def _build_institutions(self) -> None:
        cfg = self.config
        self.unit_households = np.bincount(self.partition.grid_unit)
        self.community_households = np.bincount(self.partition.community)
        self.street_office = StreetOffice(self)
        self.departments = [Department(self, k) for k in range(cfg.government.departments)]
        communities = range(self.partition.n_communities)
        self.workstations = [
            CommunityWorkstation(self, c, int(self.community_households[c])) for c in communities
        ]
        members = self.partition.community_members()
        self.party_branches = [PartyBranch(self, c, members[c]) for c in communities]
        self.party_committee = StreetPartyCommittee(self)
        if cfg.accountability.enabled:
            self.assessment = Assessment(self)
        self.social_orgs: list[SocialOrganisation] = []
        self.social_orgs_by_community: list[list[SocialOrganisation]] = [[] for _ in communities]

    # -- one day --------------------------------------------------------------------------

    def step(self) -> None:
        """One day. Institutions open the day (budget, party work), residents play one round
        of the co-production game and raise and report issues, grid workers and sensors find
        more, the street dispatches, handlers work their queues, overdue issues are abandoned,
        and residents update trust and satisfaction."""
        if self.institutions:
            self.govern_one_day()
        else:
            self.engine.co_production_round()
        self.metrics = measure(self)
        self.datacollector.collect(self)
        if self.steps == self.config.metrics.burn_in and self.institutions:
            self._mark_burn_in()

    def _mark_burn_in(self) -> None:
        """Remember the running totals at the end of the burn-in, so that headline metrics
        count only what happens after it."""
        self.spent_at_burn_in = dict(self.street_office.spent_total)
        self.work_at_burn_in = {
            kind: (self.flow.capacity_offered[kind], self.flow.work_done[kind])
            for kind in self.flow.work_done
        }

    def headline(self) -> dict[str, float | None]:
        """The run's headline metrics over the days after ``metrics.burn_in``
        (:func:`model.metrics.headline`)."""
        return headline(self)

    def govern_one_day(self) -> None:
        self.population.new_day()
        self.flow.new_day()
        self.super_grid_active = self.shock.super_grid(self.steps)
        if self.assessment is not None:
            self.assessment.step()
        self.street_office.step()
        self.party_committee.step()
        for branch in self.party_branches:
            branch.step()
        self.update_game_fields()
        self.engine.co_production_round()
        self.engine.raise_issues()
        self.engine.report_issues()
        self.discovery.patrol_and_sense()
        self.flow.route_discovered()
        self.flow.release_due()
        for handler in [*self.departments, *self.workstations, *self.social_orgs]:
            handler.step()
        self.flow.close_done_tasks()
        self.flow.abandon_overdue()
        rate = self.street_office.pay_points(self.population.co_producers())
        self.engine.collect_points(rate)
        self.engine.update_wellbeing()
        self.flow.call_back()

    # -- what institutions do to the co-production game -----------------------------------

    def update_game_fields(self) -> None:
        """Set today's co-production payoffs from institutions and local need:

        * bonus to co-producers = exogenous reward + announced points rate + party
          mobilisation bonus of the community;
        * group synergy = r x multiplier x social-organisation organising factor of the
          community x need factor, where the need factor ``(1 - w) + w min(1, u / u_ref)``
          falls when few households of the grid unit have an open issue ``u`` (a government
          that meets all needs leaves little to co-produce).

        The community factors are computed here, the households' fields in one kernel pass
        (:func:`model.kernels.set_game_fields`).
        """
        cfg = self.config
        population, partition = self.population, self.partition
        residents, orgs = cfg.residents, cfg.social_orgs
        mobilisation = np.array([b.mobilisation_bonus for b in self.party_branches])
        workers = np.zeros(partition.n_communities)
        for org in self.social_orgs:
            workers[org.community] += org.workers
        density = workers * 10_000 / (self.community_households * cfg.world.household_size)
        organising = 1 + orgs.organising_effect * (1 - np.exp(-density / orgs.organising_scale))
        kernels.set_game_fields(
            population.bonus,
            population.group_synergy,
            partition.community,
            partition.grid_unit,
            population.open_issue,
            self.unit_households,
            residents.reward + self.street_office.points_rate,
            mobilisation,
            residents.synergy * residents.synergy_multiplier,
            organising,
            residents.need_weight,
            residents.need_reference,
        )

    # -- services the institutions offer one another --------------------------------------

    def social_orgs_in(self, community: int) -> list[SocialOrganisation]:
        return self.social_orgs_by_community[community]

    def contract_social_org(
        self, community: int, contracted: Mapping[SocialOrganisation, int]
    ) -> SocialOrganisation | None:
        """Buy one service from the community's least-loaded social organisation (tasks in
        its queue, plus ``contracted`` to it today and not yet queued, per worker), if there
        is one and today's purchase budget can pay the price."""
        candidates = self.social_orgs_in(community)
        if not candidates:
            return None
        org = min(
            candidates,
            key=lambda o: ((o.queued + contracted.get(o, 0)) / max(o.workers, 1e-9), o.unique_id),
        )
        price = self.config.social_orgs.price
        if not self.street_office.buy_service(price):
            return None
        org.accept(price)
        return org

    def found_social_org(self, community: int, funds: float) -> SocialOrganisation:
        """A new social organisation in ``community`` with ``funds`` staff-days."""
        org = SocialOrganisation(self, community, funds)
        self.social_orgs.append(org)
        self.social_orgs_by_community[community].append(org)
        return org

    def close_social_org(self, org: SocialOrganisation) -> None:
        """A broke organisation exits; the community workstation takes over its queue."""
        station = self.workstations[org.community]
        for _, task in sorted(org.queue):
            if self.flow.tasks.state[task] == QUEUED:  # not cancelled
                self.flow.hand_over(task, station)
        org.queue, org.queued = [], 0
        self.social_orgs_closed += 1
        self.social_orgs.remove(org)
        self.social_orgs_by_community[org.community].remove(org)
        org.remove()
