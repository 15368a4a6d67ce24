"""Handler: any office that works through a queue of tasks with a daily capacity."""

from __future__ import annotations

from collections import deque

from mesa import Agent

from model.issues import CANCELLED


class Handler(Agent):
    """An office with a FIFO queue of tasks, a capacity (tasks per day) and a quality (chance
    that a fix it makes holds). Whole tasks are done; a fractional capacity is carried to the
    next day, idle whole units are lost."""

    def __init__(self, model, quality: float, community: int = -1):
        super().__init__(model)
        self.quality = quality
        self.community = community  # -1 for district-level offices
        self.capacity = 0.0  # tasks per day, set each day from staff
        self.queue: deque[int] = deque()  # task ids, oldest first
        self.queued = 0  # live (not cancelled) tasks in the queue
        self.carry = 0.0
        self.done_today = 0
        self.idle_today = 0.0
        self.handler_id = model.flow.register(self)

    def enqueue(self, task: int) -> None:
        self.queue.append(task)
        self.queued += 1

    def work(self) -> None:
        """Do up to today's capacity of tasks from the front of the queue."""
        available = self.capacity + self.carry
        whole = int(available)
        self.carry = available - whole
        tasks = self.model.flow.tasks
        done = 0
        while done < whole and self.queue:
            task = self.queue.popleft()
            if tasks.state[task] == CANCELLED:
                continue  # its issue was abandoned; already discounted from `queued`
            self.queued -= 1
            self.model.flow.complete(task, self)
            done += 1
        self.done_today = done
        self.idle_today = available - self.carry - done if not self.queue else 0.0

    def quality_for(self, category: int) -> float:
        """Chance that this handler's fix of an issue of ``category`` holds."""
        return self.quality

    def step(self) -> None:
        self.work()
