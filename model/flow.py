"""The issue flow shared by both engines: issue attributes, institutional discovery, routing at
the street dispatch hub, task scheduling, closure and abandonment.

Routing follows the chain "社区发现、街道呼叫、集中派单、协同整治" [S002]: a discovered issue is
sent to the community workstation when it has authority (重心下移), to its departments jointly
when the street party committee blows the whistle (街道吹哨、部门报到), or else up to the
departments one after another (九龙治水); service needs go to a social organisation as a
purchased project under 三社联动, or to the community workstation.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from model.issues import (
    CANCELLED,
    CHANNELS,
    DONE,
    NOT_YET,
    QUEUED,
    ROUTES,
    SCHEDULED,
    SERVICE,
    IssueStore,
    TaskStore,
)
from model.population import ABANDONED, FIX_FAILED, FIX_HELD

if TYPE_CHECKING:
    from agents.handler import Handler
    from model.model import CoGovModel


class IssueFlow:
    """Creates, routes, schedules and closes issues; keeps the counters the metrics read."""

    def __init__(self, model: CoGovModel):
        self.model = model
        self.issues = IssueStore()
        self.tasks = TaskStore()
        self.handlers: list[Handler] = []
        self.open_ids = np.zeros(0, np.int64)  # open issues, oldest first
        self.undiscovered = np.zeros(0, np.int64)  # open issues nobody has reported yet
        self.discovered_today: list[np.ndarray] = []
        self.pending: dict[int, list[int]] = defaultdict(list)  # day -> tasks released that day
        self.discoveries = dict.fromkeys(CHANNELS, 0)
        self.routes = dict.fromkeys(ROUTES, 0)
        self.projects = 0  # 三社联动 contracts: one per social organisation and day
        self.local_services = 0  # service needs the community workstations took on
        self._contracted_today: set[int] = set()

    # -- handlers -------------------------------------------------------------------------

    def register(self, handler: Handler) -> int:
        """Give a handler its id (its index in ``handlers``)."""
        self.handlers.append(handler)
        return len(self.handlers) - 1

    # -- creation -------------------------------------------------------------------------

    def raise_issues(self, origins: np.ndarray) -> np.ndarray:
        """Households ``origins`` (each without an open issue) raise one issue each today.

        Category, severity, departments needed and whether sensors can see it are drawn here:
        a service need with probability ``service_share`` (more during an epidemic), else a
        department issue of a uniform category that is cross-cutting with probability
        ``cross_share`` and then needs 2..max_departments departments.
        """
        model, rng = self.model, self.model.rng
        cfg = model.config
        n = len(origins)
        service_share = model.shock.service_share(model.steps)
        is_service = rng.random(n) < service_share
        category = np.where(is_service, SERVICE, rng.integers(0, cfg.government.departments, n))
        cross = ~is_service & (rng.random(n) < cfg.issues.cross_share)
        extra = rng.integers(2, max(2, cfg.issues.max_departments) + 1, n)
        departments = np.where(
            is_service, 0, np.where(cross & (cfg.issues.max_departments > 1), extra, 1)
        )
        sensable = ~is_service & (rng.random(n) < cfg.discovery.sensable_share)
        severity = rng.integers(1, 4, n)
        return self._add(origins, category, severity, departments, sensable)

    def raise_initial_issues(self, share: float) -> None:
        """Step 0: a district starts with a backlog: each household has an open, unreported
        issue with probability ``share`` (drawn like any other issue, created on day 0)."""
        if share == 0:
            return
        households = self.model.population.size
        origins = np.flatnonzero(self.model.rng.random(households) < share)
        if len(origins):
            self.raise_issues(origins)

    def _add(self, origins, category, severity, departments, sensable, recurrence_of=None):
        model = self.model
        ids = self.issues.add(
            model.steps,
            origins,
            model.partition.community[origins],
            category,
            severity,
            departments,
            sensable,
            recurrence_of,
        )
        model.population.open_issue[origins] = ids
        self.open_ids = np.concatenate([self.open_ids, ids])
        self.undiscovered = np.concatenate([self.undiscovered, ids])
        return ids

    def reraise(self, issue: int) -> None:
        """A fix that did not hold: the same problem is raised again at once."""
        i = self.issues
        self._add(
            i.origin[[issue]],
            i.category[[issue]],
            i.severity[[issue]],
            i.departments[[issue]],
            i.sensable[[issue]],
            np.array([issue]),
        )

    # -- discovery ------------------------------------------------------------------------

    def still_undiscovered(self) -> np.ndarray:
        """Open issues nobody has reported yet."""
        ids = self.undiscovered
        return ids[self.issues.discovered[ids] == NOT_YET]

    def mark_discovered(self, ids: np.ndarray, channel: str) -> None:
        """Record the first discovery of ``ids`` by ``channel`` (later reports change nothing)."""
        ids = np.unique(ids[self.issues.discovered[ids] == NOT_YET])
        if len(ids) == 0:
            return
        self.issues.set("discovered", ids, self.model.steps)
        self.issues.set("channel", ids, CHANNELS.index(channel))
        self.discoveries[channel] += len(ids)
        self.discovered_today.append(ids)

    def patrol_and_sense(self) -> None:
        """Grid workers patrol their units (网格化管理) and the platform senses (一网统管).

        A grid unit of ``S`` households whose patrols inspect ``H`` household-visits a day
        notices an open issue with probability ``detection * (1 - exp(-H / S))``: with a fixed
        team per unit, bigger units are watched less. In the super grid (超级网格) party members
        and co-producing volunteers add their visits. Sensors see a sensable issue with
        probability ``sensing_max * coverage``.
        """
        model, rng, cfg = self.model, self.model.rng, self.model.config.discovery
        ids = self.still_undiscovered()
        if len(ids) == 0:
            return
        unit = model.partition.grid_unit[self.issues.origin[ids]]
        visits = model.patrol_visits_per_unit()
        chance = cfg.patrol_detection * (1 - np.exp(-visits / model.unit_households))
        self.mark_discovered(ids[rng.random(len(ids)) < chance[unit]], "grid_patrol")
        ids = self.still_undiscovered()
        sensing = cfg.sensing_max * model.street_office.digital_coverage
        seen = self.issues.sensable[ids] & (rng.random(len(ids)) < sensing)
        self.mark_discovered(ids[seen], "digital_sensing")

    # -- routing --------------------------------------------------------------------------

    def route_discovered(self) -> None:
        """The street dispatch hub sends every issue discovered today on its way."""
        if not self.discovered_today:
            return
        ids = np.concatenate(self.discovered_today)
        self.discovered_today = []
        self.undiscovered = self.still_undiscovered()
        self.issues.set("first_dispatch", ids, self.model.steps)
        for issue in ids.tolist():
            if self.issues.category[issue] == SERVICE:
                self._route_service_need(issue)
            else:
                self._route_department_issue(issue)

    def _route_department_issue(self, issue: int) -> None:
        model, rng, gov = self.model, self.model.rng, self.model.config.government
        day = model.steps
        lead = int(self.issues.category[issue])
        count = int(self.issues.departments[issue])
        needed = [lead]
        if count > 1:  # the other departments a cross-cutting issue needs
            others = [d for d in range(gov.departments) if d != lead]
            needed += rng.choice(others, size=count - 1, replace=False).tolist()
        if rng.random() < gov.devolution.authority:  # the community may decide it
            station = model.workstations[self.issues.community[issue]]
            self._dispatch(issue, "local", [station] * count, day, sequential=False)
        elif count > 1 and model.party_committee.blow_whistle():  # 街道吹哨、部门报到
            departments = [model.departments[d] for d in needed]
            self._dispatch(issue, "joint", departments, day + gov.dispatch_delay, sequential=False)
        else:  # up the line, one department after another
            departments = [model.departments[d] for d in needed]
            self._dispatch(
                issue, "department", departments, day + gov.dispatch_delay, sequential=True
            )

    def _route_service_need(self, issue: int) -> None:
        """三社联动: community finds the need, a social organisation runs it as a purchased
        project, its social workers deliver; otherwise the community workstation does it."""
        model = self.model
        community = int(self.issues.community[issue])
        org = model.contract_social_org(community) if model.config.social_orgs.sanshe else None
        if org is not None:
            if org.unique_id not in self._contracted_today:
                self._contracted_today.add(org.unique_id)
                org.projects += 1
                self.projects += 1
            self._dispatch(issue, "social_org", [org], model.steps, sequential=False)
        else:
            station = model.workstations[community]
            self.local_services += 1
            self._dispatch(issue, "local", [station], model.steps, sequential=False)

    def _dispatch(self, issue: int, route: str, handlers: list, ready: int, sequential: bool):
        """Create one task per handler; release them all on ``ready``, or (``sequential``) the
        first on ``ready`` and each next one a hand-off after its predecessor is done."""
        self.issues.set("route", issue, ROUTES.index(route))
        self.issues.set("tasks_left", issue, len(handlers))
        self.routes[route] += 1
        ids = [self.tasks.add(issue, h.handler_id, NOT_YET) for h in handlers]
        self.issues.set("first_task", issue, ids[0])
        if sequential:
            for this, following in itertools.pairwise(ids):
                self.tasks.set("next_task", this, following)
            self.schedule(ids[0], ready)
        else:
            for task in ids:
                self.schedule(task, ready)

    def schedule(self, task: int, day: int) -> None:
        """Release ``task`` into its handler's queue on ``day`` (today: at once)."""
        self.tasks.set("ready", task, day)
        if day <= self.model.steps:
            self._enqueue(task)
        else:
            self.tasks.set("state", task, SCHEDULED)
            self.pending[day].append(task)

    def _enqueue(self, task: int) -> None:
        self.tasks.set("state", task, QUEUED)
        self.handlers[self.tasks.handler[task]].enqueue(task)

    def release_due(self) -> None:
        """Tasks whose delay ends today join their handlers' queues."""
        for task in self.pending.pop(self.model.steps, []):
            if self.tasks.state[task] == SCHEDULED:
                self._enqueue(task)

    def hand_over(self, task: int, handler: Handler) -> None:
        """Move a queued task to another handler's queue (a closing social organisation)."""
        self.tasks.set("handler", task, handler.handler_id)
        handler.enqueue(task)

    # -- handling and closure -------------------------------------------------------------

    def complete(self, task: int, handler: Handler) -> None:
        """``handler`` has done ``task``: hand over to the next department, or close the issue
        when its last task is done."""
        day = self.model.steps
        issue = int(self.tasks.issue[task])
        self.tasks.set("done", task, day)
        self.tasks.set("state", task, DONE)
        quality = self.issues.quality[issue] * handler.quality_for(int(self.issues.category[issue]))
        self.issues.set("quality", issue, quality)
        following = int(self.tasks.next_task[task])
        if following >= 0:
            handoff = self.model.config.government.handoff_delay
            sharing = self.model.config.government.data_sharing
            self.schedule(following, day + max(1, int(handoff * (1 - sharing) + 0.5)))
        left = self.issues.tasks_left[issue] - 1
        self.issues.set("tasks_left", issue, left)
        if left == 0:
            self.close(issue)

    def close(self, issue: int) -> None:
        """Resolve ``issue``; the fix holds with the product of its handlers' qualities."""
        model = self.model
        held = bool(model.rng.random() < self.issues.quality[issue])
        self.issues.set("resolved", issue, model.steps)
        self.issues.set("held", issue, held)
        origin = int(self.issues.origin[issue])
        population = model.population
        population.open_issue[origin] = -1
        population.outcome[origin] = FIX_HELD if held else FIX_FAILED
        population.outcome_delay[origin] = model.steps - int(self.issues.created[issue])
        if not held:
            self.reraise(issue)

    def abandon_overdue(self) -> None:
        """Issues open for ``max_wait`` days are abandoned; their remaining tasks cancelled."""
        model = self.model
        issues = self.issues
        self.open_ids = issues.still_open(self.open_ids)
        cutoff = model.steps - model.config.issues.max_wait
        overdue = self.open_ids[issues.created[self.open_ids] <= cutoff]
        if len(overdue) == 0:
            return
        issues.set("abandoned", overdue, model.steps)
        origins = issues.origin[overdue]
        model.population.open_issue[origins] = -1
        model.population.outcome[origins] = ABANDONED
        model.population.outcome_delay[origins] = model.steps - issues.created[overdue]
        for issue in overdue[issues.first_task[overdue] >= 0].tolist():
            first = int(issues.first_task[issue])
            self._cancel(range(first, first + int(issues.n_tasks(issue))))
        self.open_ids = issues.still_open(self.open_ids)
        self.undiscovered = issues.still_open(self.undiscovered)

    def _cancel(self, tasks) -> None:
        for task in tasks:
            state = self.tasks.state[task]
            if state in (DONE, CANCELLED):
                continue
            if state == QUEUED:
                self.handlers[self.tasks.handler[task]].queued -= 1
            self.tasks.set("state", task, CANCELLED)

    def new_day(self) -> None:
        """Forget yesterday's contracts (a project is one organisation's contracts of a day)."""
        self._contracted_today = set()
