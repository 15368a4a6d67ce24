"""Party organisations (党组织): one branch per community and the street party committee
(一核多元). Party capacity (member-days) is time, the same in every structure; structures
choose how it is split between mobilising, coordinating and contacting residents."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent
from numba import njit

from model.routing import generator, sample_without_replacement

if TYPE_CHECKING:
    from model.model import CoGovModel


class PartyBranch(Agent["CoGovModel"]):
    """A community party branch (社区党组织)."""

    def __init__(self, model: CoGovModel, community: int, members: np.ndarray):
        super().__init__(model)
        self.community = community
        self.members = members  # the community's households
        residents = len(members) * model.config.world.household_size
        self.capacity = model.config.party.capacity * residents / 10_000  # member-days per day
        self.mobilisation_bonus = 0.0  # payoff per co-producer per day in this community

    def step(self) -> None:
        """Mobilise co-producers and contact residents (unless the super grid has taken the
        members to emergency detection)."""
        time = self.model.time_used
        if self.model.super_grid_active:
            self.mobilisation_bonus = 0.0
            time["party_detecting"] += self.capacity
            return
        split = self.model.config.party.split
        time["party_mobilising"] += self.capacity * split.mobilise
        time["party_contacting"] += self.capacity * split.contact
        self.mobilise()
        self.contact_residents()

    def mobilise(self) -> None:
        """党员带头: a payoff bonus to co-producers that saturates with effort per resident."""
        party = self.model.config.party
        effort = party.capacity * party.split.mobilise  # member-days per 10,000 residents
        self.mobilisation_bonus = party.mobilisation_effect * (
            1 - math.exp(-effort / party.mobilisation_scale)
        )

    def contact_residents(self) -> None:
        """联系群众: visit randomly chosen households, who gain trust."""
        party = self.model.config.party
        expected = self.capacity * party.split.contact * party.contacts_per_day
        chosen = draw_visits(self.model.rng_addresses(), self.members, expected)
        self.model.population.contacted[chosen] = True


class StreetPartyCommittee(Agent["CoGovModel"]):
    """街道党工委: pools the branches' coordinating time and blows the whistle (街道吹哨、
    部门报到) so that departments act jointly on a complex issue. Each joint dispatch takes
    ``party.whistle_cost`` member-days (and each department called spends staff-days
    reporting, added to its task)."""

    def __init__(self, model: CoGovModel):
        super().__init__(model)
        self.coordination_left = 0.0
        self.coordination_today = 0.0
        self.whistles = 0

    def step(self) -> None:
        party = self.model.config.party
        active = party.whistle and not self.model.super_grid_active
        capacity = sum(branch.capacity for branch in self.model.party_branches)
        self.coordination_today = capacity * party.split.coordinate if active else 0.0
        self.coordination_left = self.coordination_today

    def whistles_affordable(self, limit: int) -> int:
        """How many joint dispatches, up to ``limit``, the coordinating time left today pays
        for, one after another (:meth:`blow_whistle`)."""
        cost = self.model.config.party.whistle_cost
        left, count = self.coordination_left, 0
        while count < limit and left + 1e-12 >= cost:
            left -= cost
            count += 1
        return count

    def blow_whistle(self) -> bool:
        """Spend coordinating time on one joint dispatch, if enough is left today."""
        if not self.whistles_affordable(1):
            return False
        cost = self.model.config.party.whistle_cost
        self.coordination_left -= cost
        self.model.time_used["party_coordinating"] += cost
        self.whistles += 1
        return True


@njit(cache=True)
def draw_visits(addresses, members, expected):
    """The households a branch visits today: ``expected`` visits rounded up or down at random
    (unbiased), drawn without replacement from ``members`` (:func:`model.routing.generator`
    over the model's generator: the same numbers as ``rng.random()`` and then
    ``rng.choice(members, size=..., replace=False)``, without its overhead per call)."""
    rng = generator(addresses)
    visits = int(expected) + int(rng.random() < expected % 1)
    return sample_without_replacement(rng, members, min(visits, len(members)))
