"""Assessment (考核/问责): the monthly scoring and ranking of the offices that handle issues."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

if TYPE_CHECKING:
    from model.model import CoGovModel


class Assessment(Agent["CoGovModel"]):
    """Scores departments and community workstations every ``accountability.period_days`` on
    the 三率 of the issues they worked on that closed or were abandoned in the period:
    the share closed on time, the share whose fix held, and the mean satisfaction of their
    households when the issue ended (whatever channel found it).
    Within each type, offices are ranked by the mean of the three; the bottom
    ``bottom_share`` of those scored (rounded at random, so the share does not depend on how
    many offices the map has) and any below ``target`` are under pressure until the next
    assessment
    (:meth:`model.flow.IssueFlow._enqueue` says what pressure does)."""

    def __init__(self, model: CoGovModel):
        super().__init__(model)
        # per handler id: issues credited, on time, fix held, sum of satisfaction
        self.tallies = np.zeros((0, 4))
        self.ended: list[tuple[np.ndarray, ...]] = []  # not yet tallied (:meth:`record`)
        self.assessments = 0
        self.share_under_pressure = 0.0  # of departments and workstations, since the last one

    def record(
        self, ids: np.ndarray, on_time: np.ndarray, held: np.ndarray, satisfaction: np.ndarray
    ) -> None:
        """Issues ``ids`` have closed or been abandoned, in this order: whether each closed on
        time, whether its fix held, and its household's satisfaction now. They are tallied
        at the next assessment (:meth:`tally`): the offices of an ended issue no longer
        change."""
        self.ended.append((ids, on_time, held, satisfaction))

    def tally(self) -> None:
        """Add the issues ended since the last assessment to the offices that worked on them
        (each office once per issue), in the order they ended."""
        if not self.ended:
            return
        ids, on_time, held, satisfaction = (
            np.concatenate(column) for column in zip(*self.ended, strict=True)
        )
        self.ended = []
        flow = self.model.flow
        handlers, which = flow.offices_of(ids)
        needed = len(flow.handlers)
        if len(self.tallies) < needed:
            self.tallies = np.vstack([self.tallies, np.zeros((needed - len(self.tallies), 4))])
        outcomes = np.column_stack(
            [np.ones(len(handlers)), on_time[which], held[which], satisfaction[which]]
        )
        np.add.at(self.tallies, handlers, outcomes)

    def step(self) -> None:
        duty = self.model.config.accountability
        if self.model.steps % duty.period_days:
            return
        self.tally()
        for offices in (self.model.departments, self.model.workstations):
            scores = {}
            for office in offices:
                if office.handler_id >= len(self.tallies):
                    continue
                closed, on_time, held, satisfaction = self.tallies[office.handler_id]
                if closed:
                    scores[office.handler_id] = (on_time + held + satisfaction) / (3 * closed)
            ranked = sorted(scores, key=lambda h: (scores[h], h))
            # the bottom share of the scored offices, rounded up or down at random so that on
            # average it is the same share whatever the number of offices (map size)
            expected = duty.bottom_share * len(ranked)
            count = int(expected) + int(self.model.rng.random() < expected % 1)
            named = set(ranked[:count])
            for office in offices:
                score = scores.get(office.handler_id)
                office.under_pressure = office.handler_id in named or (
                    score is not None and score < duty.target
                )
        self.tallies[:] = 0.0
        self.assessments += 1
        offices = [*self.model.departments, *self.model.workstations]
        self.share_under_pressure = sum(o.under_pressure for o in offices) / len(offices)

    def pressure_share(self) -> float:
        """Share of departments and workstations under pressure now (set at each assessment)."""
        return self.share_under_pressure
