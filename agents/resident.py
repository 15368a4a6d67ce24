"""Resident (居民户): one household on one grid cell, playing the co-production game."""

from __future__ import annotations

import math

from mesa.discrete_space import CellAgent


def fermi(payoff_gap: float, noise: float) -> float:
    """Probability of imitating a neighbour whose payoff is ``payoff_gap`` below one's own:
    ``1 / (1 + exp(payoff_gap / K))`` (Szabo & Toke 1998)."""
    exponent = payoff_gap / noise
    if exponent > 700:  # exp overflows; the probability is 0 to double precision
        return 0.0
    return 1.0 / (1.0 + math.exp(exponent))


class StateField:
    """A Resident attribute stored in the model's population arrays (struct of arrays)."""

    def __init__(self, cast: type):
        self.cast = cast

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, resident: Resident | None, owner: type | None = None):
        if resident is None:
            return self
        return self.cast(getattr(resident.model.population, self.name)[resident.index])

    def __set__(self, resident: Resident, value) -> None:
        getattr(resident.model.population, self.name)[resident.index] = value


class Resident(CellAgent):
    """A household. It belongs to five co-production groups (the von Neumann groups centred on
    its own cell and on each neighbour; fewer at a non-periodic border) and imitates neighbours
    whose payoff is higher."""

    participating = StateField(bool)  # co-producer (共建者) or not
    group_synergy = StateField(float)  # r of the group centred on this household
    bonus = StateField(float)  # payoff added when co-producing (rewards)

    def __init__(self, model, cell, index: int):
        super().__init__(model)
        self.cell = cell
        self.index = index  # position in the population arrays: x * height + y

    def group_share(self) -> float:
        """What each member receives from the group centred here: ``r_g * n_c / |g|``."""
        members = [self, *self.cell.neighborhood.agents]
        co_producers = sum(member.participating for member in members)
        return self.group_synergy * co_producers / len(members)

    def payoff(self) -> float:
        """This round's payoff: the shares of all groups this household belongs to, minus the
        contribution ``c`` to each group and plus the bonus if it co-produces."""
        groups = [self, *self.cell.neighborhood.agents]
        total = sum(centre.group_share() for centre in groups)
        if self.participating:
            total += self.bonus - self.model.cost * len(groups)
        return total

    def imitate_neighbour(self) -> None:
        """One elementary update: pick a random neighbour and copy its strategy with the Fermi
        probability ``1 / (1 + exp((P_self - P_neighbour) / K))``."""
        neighbour = self.cell.neighborhood.select_random_agent()
        if neighbour.participating == self.participating:
            return  # copying would change nothing
        if self.random.random() < fermi(self.payoff() - neighbour.payoff(), self.model.noise):
            self.participating = neighbour.participating
