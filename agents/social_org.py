"""Social organisation (社会组织): social workers who deliver contracted services (三社联动)."""

from __future__ import annotations

from agents.handler import Handler


class SocialOrganisation(Handler):
    """Capacity (social workers) grows with services delivered and shrinks while funds are
    short; wages are paid daily from funds, which come from contracted services. An
    organisation whose funds run out exits."""

    def __init__(self, model, community: int):
        orgs = model.config.social_orgs
        super().__init__(model, quality=orgs.quality, community=community)
        self.workers = orgs.initial_capacity
        self.funds = orgs.initial_funds
        self.delivered = 0
        self.projects = 0

    def step(self) -> None:
        """Deliver services, pay wages, learn or shrink, and exit when broke."""
        orgs = self.model.config.social_orgs
        self.capacity = self.workers * orgs.productivity
        self.work()
        self.delivered += self.done_today
        self.funds -= self.workers * orgs.wage
        if self.funds < 0:
            self.model.close_social_org(self)
            return
        self.workers = min(orgs.max_capacity, self.workers + orgs.learning * self.done_today)
        if self.funds < orgs.reserve_days * orgs.wage * self.workers:
            self.workers *= 1 - orgs.decay

    def accept(self, price: float) -> None:
        """Take a contracted service and its payment."""
        self.funds += price
