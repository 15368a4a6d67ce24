"""Discovery (问题发现, ODD 7.4): how an open issue comes to the street's attention.

Every day each undiscovered open issue gets independent chances, in this order: its owner
reports it (7.4.1), building leaders report it (7.4.2), grid patrol notices it (7.4.3) and
sensors detect it (7.4.4); in a shock the super grid adds patrols (7.4.5). The first success
sets the issue's channel (:meth:`model.flow.IssueFlow.mark_discovered`).

The residents' reports are an engine phase: :class:`agents.Resident` makes them one household
at a time (``report_issue``, ``report_for_neighbours``), :meth:`Discovery.residents_report` for
all households at once; both use the chances defined here. Patrols and sensing are shared.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from model import kernels
from model.schema import DiscoveryConfig

if TYPE_CHECKING:
    from model.model import CoGovModel


def building_leader_stipends(households: float, discovery: DiscoveryConfig) -> float:
    """Staff-days a day the street office pays building leaders (三长制): one stipend per
    ``households_per_leader`` households, when the institution is on."""
    if not discovery.building_leaders:
        return 0.0
    return households / discovery.households_per_leader * discovery.leader_stipend


def digital_coverage(digital_per_10k: float, discovery: DiscoveryConfig) -> float:
    """Share of the city the platform covers, from its budget line in staff-days per day per
    10,000 residents: ``1 - exp(-budget / digital_scale)``."""
    return 1 - math.exp(-digital_per_10k / discovery.digital_scale)


class Discovery:
    """The discovery channels of one model, and yesterday's grid casework per grid unit."""

    def __init__(self, model: CoGovModel):
        self.model = model
        self.config = model.config.discovery
        self.grid_casework = np.zeros(model.partition.n_grid_units)  # worker-days, yesterday

    # -- residents (an engine phase) ------------------------------------------------------

    @property
    def channel_ease(self) -> float:
        """Daily reporting probability at full trust: base ease plus digital channels."""
        model = self.model
        coverage = model.street_office.digital_coverage if model.institutions else 0.0
        return min(1.0, self.config.channel_ease + self.config.digital_ease * coverage)

    def self_report_chance[Trust: (float, np.ndarray)](self, trust: Trust) -> Trust:
        """Chance a household with ``trust`` reports its own issue today:
        ``channel ease * (floor + (1 - floor) * trust)``."""
        floor = self.config.report_floor
        return self.channel_ease * (floor + (1 - floor) * trust)

    def residents_report(self) -> None:
        """All households at once, in one compiled pass (:func:`model.kernels.report_issues`):
        owners report their issues, then each co-producing lattice neighbour of an owner
        reports it with chance ``leader_report``, that is with chance
        ``1 - (1 - leader_report)^k`` for ``k`` such neighbours."""
        model, flow, cfg = self.model, self.model.flow, self.config
        population, lattice = model.population, model.lattice
        ids = flow.still_undiscovered()
        owners = flow.issues.origin[ids]
        reported, by_neighbour = kernels.report_issues(
            model.rng_addresses(),
            owners,
            self.self_report_chance(population.trust[owners]),
            population.participating,
            lattice.neighbours,
            lattice.degree,
            cfg.leader_report,
            cfg.building_leaders,
        )
        flow.mark_discovered(ids[reported], "self_report")
        if cfg.building_leaders:
            flow.mark_discovered(ids[~reported][by_neighbour], "building_leader")

    # -- institutions ---------------------------------------------------------------------

    def patrol_visits_per_unit(self) -> np.ndarray:
        """Household inspections per grid unit today: grid workers less yesterday's casework,
        plus in the super grid party members and co-producing volunteers."""
        model, shock = self.model, self.model.config.shock
        partition = model.partition
        patrolling = model.street_office.grid_workers_per_unit() - self.grid_casework
        visits = np.maximum(0.0, patrolling) * self.config.patrol_households
        if model.super_grid_active:
            community = partition.unit_community
            unit_share = model.unit_households / model.community_households[community]
            branch_capacity = np.array([b.capacity for b in model.party_branches])
            visits += branch_capacity[community] * unit_share * shock.party_households
            volunteers = np.bincount(
                partition.grid_unit,
                weights=model.population.participating,
                minlength=partition.n_grid_units,
            )
            visits += volunteers * shock.volunteer_households
        return visits

    def patrol_and_sense(self) -> None:
        """Grid workers patrol their units (网格化管理) and the platform senses (一网统管).

        A grid unit of ``S`` households whose patrols inspect ``H`` household-visits a day
        notices an open issue with probability ``detection * (1 - exp(-H / S))``: with a fixed
        team per unit, bigger units are watched less. Recording what they found takes the grid
        workers' time (``discovery.record_days`` per issue), which the next day's patrol lacks.
        Sensors see a sensable issue with probability ``sensing_max * coverage``.
        """
        model, flow, cfg = self.model, self.model.flow, self.config
        partition, issues = model.partition, flow.issues
        ids = flow.still_undiscovered()
        visits = self.patrol_visits_per_unit()
        chance = cfg.patrol_detection * (1 - np.exp(-visits / model.unit_households))
        sensing = cfg.sensing_max * model.street_office.digital_coverage
        patrolled, sensed = kernels.patrol_and_sense(
            model.rng_addresses(),
            ids,
            issues.origin,
            partition.grid_unit,
            chance,
            issues.sensable,
            sensing,
        )
        found = flow.mark_discovered(ids[patrolled], "grid_patrol")
        found_units = partition.grid_unit[issues.origin[found]]
        self.grid_casework = (
            np.bincount(found_units, minlength=partition.n_grid_units) * cfg.record_days
        )
        workers = model.street_office.allocation["grid_workers"]
        flow.record_work("grid", workers, min(workers, float(self.grid_casework.sum())))
        flow.mark_discovered(ids[sensed], "digital_sensing")
