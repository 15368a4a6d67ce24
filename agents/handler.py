"""Handler: any office that works off a queue of tasks with a daily capacity in staff-days."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from mesa import Agent

from model.issues import CANCELLED

if TYPE_CHECKING:
    from model.model import CoGovModel


class Handler(Agent["CoGovModel"]):
    """An office with a queue of tasks, worked earliest deadline first, and a capacity
    (staff-days per day). A task is done when its work (staff-days) has been worked off; work
    left when the day's capacity runs out is continued the next day, and idle capacity is
    lost. Under accountability pressure (考核) the office puts more effort into each task."""

    kind = "handler"  # the handler type named in the utilisation metrics

    def __init__(self, model: CoGovModel, community: int = -1):
        super().__init__(model)
        self.community = community  # -1 for district-level offices
        self.capacity = 0.0  # staff-days available today
        self.queue: list[tuple[float, int]] = []  # heap of (due day, task id)
        self.queued = 0  # live (not cancelled) tasks in the queue
        self.worked_today = 0.0  # staff-days worked today
        self.done_today = 0  # tasks completed today
        self.under_pressure = False  # ranked low or below target at the last assessment
        self.handler_id = model.flow.register(self)

    def enqueue(self, task: int, due: float) -> None:
        heapq.heappush(self.queue, (due, task))
        self.queued += 1

    def work(self) -> None:
        """Work off today's capacity, earliest deadline first. The tasks finished are passed to
        the flow, which completes them once every handler has worked
        (:meth:`model.flow.IssueFlow.close_done_tasks`)."""
        flow = self.model.flow
        state, work = flow.tasks.state, flow.tasks.work
        queue = self.queue
        left = self.capacity
        done = []
        while left > 0 and queue:
            task = queue[0][1]
            if state[task] == CANCELLED:  # its issue was abandoned
                heapq.heappop(queue)
                continue
            need = work[task]
            if need > left:
                work[task] = need - left
                left = 0.0
                break
            heapq.heappop(queue)
            work[task] = 0.0
            left -= need
            done.append(task)
        self.queued -= len(done)
        self.done_today = len(done)
        self.worked_today = self.capacity - left
        flow.record_work(self.kind, self.capacity, self.worked_today)
        flow.finished(done)

    def step(self) -> None:
        self.work()
