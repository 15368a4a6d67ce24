"""Shocks (全周期管理): a period in which issues surge, e.g. an epidemic or a disaster."""

from __future__ import annotations

from model.schema import ShockConfig


class Shock:
    """The shock schedule: active on days ``start <= day < start + duration``."""

    def __init__(self, shock: ShockConfig):
        self.config = shock

    def active(self, day: int) -> bool:
        start = self.config.start
        return self.config.duration > 0 and start <= day < start + self.config.duration

    def rate_multiplier(self, day: int) -> float:
        """Factor on every household's issue rate today."""
        return self.config.rate_multiplier if self.active(day) else 1.0

    def contagion(self, day: int) -> float:
        """Issue chance added per neighbour with an unreported issue today."""
        return self.config.contagion if self.active(day) else 0.0

    def super_grid(self, day: int) -> bool:
        """Whether the super grid (超级网格) is mobilised today."""
        return self.config.super_grid and self.active(day)
