"""Social organisation (社会组织): social workers who deliver contracted services (三社联动)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agents.handler import Handler

if TYPE_CHECKING:
    from model.model import CoGovModel


class SocialOrganisation(Handler):
    """Capacity (social workers) grows with services delivered and shrinks while funds are
    short. Its funds come from its founding grant and from contracted services; wages are paid
    daily from them, and an organisation that cannot pay its wages exits."""

    kind = "social_org"

    def __init__(self, model: CoGovModel, community: int, funds: float):
        super().__init__(model, community=community)
        self.workers = model.config.social_orgs.initial_capacity
        self.funds = funds  # staff-days
        self.founded = model.steps  # day
        self.delivered = 0
        self.projects = 0

    def step(self) -> None:
        """Deliver services, pay wages, learn or shrink, and exit when broke."""
        orgs = self.model.config.social_orgs
        self.capacity = self.workers
        self.work()
        done = self.done_today
        self.delivered += done
        wages = self.workers * orgs.wage
        if wages > self.funds:
            self.model.close_social_org(self)
            return
        self.funds -= wages
        self.workers = min(orgs.max_capacity, self.workers + orgs.learning * done)
        if self.funds < orgs.reserve_days * orgs.wage * self.workers:
            self.workers *= 1 - orgs.decay

    def accept(self, price: float) -> None:
        """Take a contracted service and its payment."""
        self.funds += price
