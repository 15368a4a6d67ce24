"""The issue flow shared by both engines: issue attributes, institutional discovery, routing at
the street dispatch hub, task scheduling, closure, abandonment and the return call.

Routing follows the chain "社区发现、街道呼叫、集中派单、协同整治" [S002]: a discovered issue is
sent to the community workstation when it has authority (重心下移), to its departments jointly
when the street party committee blows the whistle (街道吹哨、部门报到), or else up to the
departments one after another (九龙治水); service needs go to a social organisation as a
purchased project under 三社联动, or to the community workstation.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from model.issues import (
    CANCELLED,
    CHANNELS,
    COMPLEX,
    DONE,
    KINDS,
    MAX_SEVERITY,
    NOT_YET,
    QUEUED,
    ROUTES,
    SCHEDULED,
    SERVICE,
    SERVICE_KIND,
    IssueStore,
    TaskStore,
)
from model.population import ABANDONED, FIX_FAILED, FIX_HELD

if TYPE_CHECKING:
    from agents.handler import Handler
    from model.model import CoGovModel

SELF_REPORT = CHANNELS.index("self_report")


class IssueFlow:
    """Creates, routes, schedules and closes issues; keeps the counters the metrics read."""

    def __init__(self, model: CoGovModel):
        self.model = model
        issues = model.config.issues
        kinds = [getattr(issues, name) for name in KINDS]
        self.kind_share = np.array([kind.share for kind in kinds])
        self.deadline = np.array([kind.deadline_days for kind in kinds])
        self.work_median = np.array([kind.work_days for kind in kinds])
        self.issues = IssueStore()
        self.tasks = TaskStore()
        self.handlers: list[Handler] = []
        self.open_ids = np.zeros(0, np.int64)  # open issues, oldest first
        self.undiscovered = np.zeros(0, np.int64)  # open issues nobody has reported yet
        self.undiscovered_count = 0  # of them (the array may still hold some found today)
        self.discovered_today: list[np.ndarray] = []
        self.pending: dict[int, list[int]] = defaultdict(list)  # day -> tasks released that day
        self.callbacks: dict[int, list[int]] = defaultdict(list)  # day -> issues to call back
        self.discoveries = dict.fromkeys(CHANNELS, 0)
        self.routes = dict.fromkeys(ROUTES, 0)
        self.projects = 0  # 三社联动 contracts: one per social organisation and day
        self.local_services = 0  # service needs the community workstations took on
        self.resolved_count = 0
        self.abandoned_count = 0
        self.effort_tasks = 0  # tasks done with extra effort under accountability pressure
        self.gamed_tasks = 0  # tasks closed early under pressure (gaming)
        self.capacity_offered: dict[str, float] = defaultdict(float)  # staff-days, by handler kind
        self.work_done: dict[str, float] = defaultdict(float)
        self.grid_casework = np.zeros(model.partition.n_grid_units)  # worker-days, yesterday
        self._contracted_today: set[int] = set()

    # -- handlers -------------------------------------------------------------------------

    def register(self, handler: Handler) -> int:
        """Give a handler its id (its index in ``handlers``)."""
        self.handlers.append(handler)
        return len(self.handlers) - 1

    def record_work(self, kind: str, capacity: float, worked: float) -> None:
        """A handler of ``kind`` had ``capacity`` staff-days today and worked ``worked``."""
        self.capacity_offered[kind] += capacity
        self.work_done[kind] += worked

    # -- creation -------------------------------------------------------------------------

    def kind_shares(self, day: int) -> np.ndarray:
        """Today's shares of the kinds of issue: during a shock service needs take
        ``shock.service_share`` and the other kinds share the rest in their usual proportions."""
        shock = self.model.shock
        if not shock.active(day):
            return self.kind_share
        service = shock.config.service_share
        others = self.kind_share.copy()
        others[SERVICE_KIND] = 0.0
        total = others.sum()
        shares = others * (1 - service) / total if total else others
        shares[SERVICE_KIND] = service if total else 1.0
        return shares

    def raise_issues(self, origins: np.ndarray) -> np.ndarray:
        """Households ``origins`` (each without an open issue) raise one issue each today.

        Kind, category, severity, departments needed and whether sensors can see it are drawn
        here: a service need, or a department issue of a uniform category; a complex issue
        needs 2..max_departments departments.
        """
        model, rng = self.model, self.model.rng
        cfg = model.config
        n = len(origins)
        kind = rng.choice(len(KINDS), size=n, p=self.kind_shares(model.steps))
        is_service = kind == SERVICE_KIND
        category = np.where(is_service, SERVICE, rng.integers(0, cfg.government.departments, n))
        several = rng.integers(2, max(2, cfg.issues.max_departments) + 1, n)
        departments = np.where(is_service, 0, np.where(kind == COMPLEX, several, 1))
        sensable = ~is_service & (rng.random(n) < cfg.discovery.sensable_share)
        severity = rng.integers(1, MAX_SEVERITY + 1, n)
        return self._add(origins, category, kind, severity, departments, sensable)

    def raise_initial_issues(self, share: float) -> None:
        """Step 0: a district starts with a backlog: each household has an open, unreported
        issue with probability ``share`` (drawn like any other issue, created on day 0)."""
        if share == 0:
            return
        households = self.model.population.size
        origins = np.flatnonzero(self.model.rng.random(households) < share)
        if len(origins):
            self.raise_issues(origins)

    def _add(self, origins, category, kind, severity, departments, sensable, recurrence_of=None):
        model = self.model
        ids = self.issues.add(
            model.steps,
            origins,
            model.partition.community[origins],
            category,
            kind,
            severity,
            departments,
            sensable,
            recurrence_of,
        )
        model.population.open_issue[origins] = ids
        self.open_ids = np.concatenate([self.open_ids, ids])
        self.undiscovered = np.concatenate([self.undiscovered, ids])
        self.undiscovered_count += len(ids)
        return ids

    def reraise(self, issue: int) -> None:
        """A fix that did not hold: the same problem is raised again at once."""
        i = self.issues
        ids = [issue]
        self._add(
            i.origin[ids],
            i.category[ids],
            i.kind[ids],
            i.severity[ids],
            i.departments[ids],
            i.sensable[ids],
            np.array(ids),
        )

    # -- discovery ------------------------------------------------------------------------

    def still_undiscovered(self) -> np.ndarray:
        """Open issues nobody has reported yet."""
        ids = self.undiscovered
        return ids[self.issues.discovered[ids] == NOT_YET]

    def mark_discovered(self, ids: np.ndarray, channel: str) -> np.ndarray:
        """Record the first discovery of ``ids`` by ``channel`` (later reports change nothing);
        return the issues newly discovered."""
        ids = np.unique(ids[self.issues.discovered[ids] == NOT_YET])
        if len(ids):
            self.issues.discovered[ids] = self.model.steps
            self.issues.channel[ids] = CHANNELS.index(channel)
            self.discoveries[channel] += len(ids)
            self.undiscovered_count -= len(ids)
            self.discovered_today.append(ids)
        return ids

    def patrol_and_sense(self) -> None:
        """Grid workers patrol their units (网格化管理) and the platform senses (一网统管).

        A grid unit of ``S`` households whose patrols inspect ``H`` household-visits a day
        notices an open issue with probability ``detection * (1 - exp(-H / S))``: with a fixed
        team per unit, bigger units are watched less. Recording what they found takes the grid
        workers' time (``discovery.record_days`` per issue), which the next day's patrol lacks.
        In the super grid (超级网格) party members and co-producing volunteers add their visits.
        Sensors see a sensable issue with probability ``sensing_max * coverage``.
        """
        model, rng, cfg = self.model, self.model.rng, self.model.config.discovery
        ids = self.still_undiscovered()
        unit = model.partition.grid_unit[self.issues.origin[ids]]
        visits = model.patrol_visits_per_unit()
        chance = cfg.patrol_detection * (1 - np.exp(-visits / model.unit_households))
        found = self.mark_discovered(ids[rng.random(len(ids)) < chance[unit]], "grid_patrol")
        found_units = model.partition.grid_unit[self.issues.origin[found]]
        units = model.partition.n_grid_units
        self.grid_casework = np.bincount(found_units, minlength=units) * cfg.record_days
        workers = model.street_office.allocation["grid_workers"]
        self.record_work("grid", workers, min(workers, float(self.grid_casework.sum())))
        ids = self.still_undiscovered()
        sensing = cfg.sensing_max * model.street_office.digital_coverage
        seen = self.issues.sensable[ids] & (rng.random(len(ids)) < sensing)
        self.mark_discovered(ids[seen], "digital_sensing")

    # -- routing --------------------------------------------------------------------------

    def route_discovered(self) -> None:
        """The street dispatch hub sends every issue discovered today on its way; its deadline
        runs from today."""
        if not self.discovered_today:
            return
        ids = np.concatenate(self.discovered_today)
        self.discovered_today = []
        self.undiscovered = self.still_undiscovered()
        day = self.model.steps
        self.issues.first_dispatch[ids] = day
        self.issues.due[ids] = day + self.deadline[self.issues.kind[ids]]
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
        if count > 1:  # the other departments a complex issue needs
            others = [d for d in range(gov.departments) if d != lead]
            needed += rng.choice(others, size=count - 1, replace=False).tolist()
        if rng.random() < gov.devolution.authority:  # the community may decide it
            station = model.workstations[self.issues.community[issue]]
            self._dispatch(issue, "local", [station] * count, day, sequential=False)
        elif count > 1 and model.party_committee.blow_whistle():  # 街道吹哨、部门报到
            departments = [model.departments[d] for d in needed]
            extra = model.config.party.whistle_staff_days  # each department reports (报到)
            model.time_used["department_reporting"] += extra * count
            self._dispatch(
                issue, "joint", departments, day + gov.dispatch_delay, sequential=False, extra=extra
            )
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

    def _dispatch(
        self,
        issue: int,
        route: str,
        handlers: list[Handler],
        ready: int,
        sequential: bool,
        extra: float = 0.0,
    ) -> None:
        """Create one task per handler, each with lognormal work (median by the issue's kind)
        plus ``extra`` staff-days; release them all on ``ready``, or (``sequential``) the
        first on ``ready`` and each next one a hand-off after its predecessor is done."""
        issues, rng = self.issues, self.model.rng
        issues.route[issue] = ROUTES.index(route)
        issues.tasks_left[issue] = len(handlers)
        self.routes[route] += 1
        median = self.work_median[issues.kind[issue]]
        spread = self.model.config.issues.work_spread
        work = median * np.exp(spread * rng.standard_normal(len(handlers))) + extra
        ids = self.tasks.add(issue, [h.handler_id for h in handlers], work)
        issues.first_task[issue] = ids[0]
        if sequential:
            self.tasks.next_task[ids[:-1]] = ids[1:]
            self.schedule(int(ids[0]), ready)
        else:
            for task in ids.tolist():
                self.schedule(task, ready)

    def schedule(self, task: int, day: int) -> None:
        """Release ``task`` into its handler's queue on ``day`` (today: at once)."""
        self.tasks.ready[task] = day
        if day <= self.model.steps:
            self._enqueue(task)
        else:
            self.tasks.state[task] = SCHEDULED
            self.pending[day].append(task)

    def _enqueue(self, task: int) -> None:
        """The task joins its handler's queue. A handler under accountability pressure puts in
        extra effort (more work, a fix more likely to hold), or, with probability
        ``accountability.gaming``, closes it early (less work, a fix less likely to hold)."""
        model, tasks = self.model, self.tasks
        handler = self.handlers[tasks.handler[task]]
        quality = model.config.government.fix_quality
        if handler.under_pressure:
            duty = model.config.accountability
            if model.rng.random() < duty.gaming:
                tasks.work[task] *= 1 - duty.gaming_saving
                quality *= 1 - duty.gaming_saving
                self.gamed_tasks += 1
            else:
                model.time_used["accountability_effort"] += tasks.work[task] * duty.effort_cost
                tasks.work[task] *= 1 + duty.effort_cost
                quality = 1 - (1 - quality) * (1 - duty.effort_gain)
                self.effort_tasks += 1
        tasks.hold[task] = quality
        tasks.state[task] = QUEUED
        handler.enqueue(task, float(self.issues.due[tasks.issue[task]]))

    def release_due(self) -> None:
        """Tasks whose delay ends today join their handlers' queues."""
        for task in self.pending.pop(self.model.steps, []):
            if self.tasks.state[task] == SCHEDULED:
                self._enqueue(task)

    def hand_over(self, task: int, handler: Handler) -> None:
        """Move a queued task to another handler's queue (a closing social organisation)."""
        self.tasks.handler[task] = handler.handler_id
        handler.enqueue(task, float(self.issues.due[self.tasks.issue[task]]))

    # -- handling and closure -------------------------------------------------------------

    def complete(self, task: int, handler: Handler) -> None:
        """``handler`` has done ``task``: hand over to the next department, or close the issue
        when its last task is done."""
        day = self.model.steps
        tasks, issues = self.tasks, self.issues
        issue = int(tasks.issue[task])
        tasks.done[task] = day
        tasks.state[task] = DONE
        issues.quality[issue] *= tasks.hold[task]
        following = int(tasks.next_task[task])
        if following >= 0:
            gov = self.model.config.government
            self.schedule(
                following, day + max(1, int(gov.handoff_delay * (1 - gov.data_sharing) + 0.5))
            )
        issues.tasks_left[issue] -= 1
        if issues.tasks_left[issue] == 0:
            self.close(issue)

    def close(self, issue: int) -> None:
        """Resolve ``issue``; the fix holds with the product of its tasks' chances. A self-
        reported issue (诉求) gets a return call ``metrics.callback_days`` later; the offices
        that worked on it are credited for the assessment (考核)."""
        model, issues = self.model, self.issues
        day = model.steps
        held = bool(model.rng.random() < issues.quality[issue])
        issues.resolved[issue] = day
        issues.held[issue] = held
        self.resolved_count += 1
        origin = int(issues.origin[issue])
        population = model.population
        population.open_issue[origin] = -1
        population.outcome[origin] = FIX_HELD if held else FIX_FAILED
        population.outcome_delay[origin] = day - int(issues.created[issue])
        if issues.channel[issue] == SELF_REPORT:
            self.callbacks[day + model.config.metrics.callback_days].append(issue)
        self._credit(issue, on_time=day <= issues.due[issue], held=held)
        if not held:
            self.reraise(issue)

    def _credit(self, issue: int, on_time: bool, held: bool) -> None:
        """Tell the assessment (考核), if any, how an issue ended for the offices that worked
        on it."""
        assessment = self.model.assessment
        if assessment is None:
            return
        issues = self.issues
        first = int(issues.first_task[issue])
        handlers = self.tasks.handler[first : first + int(issues.n_tasks(issue))]
        satisfaction = float(self.model.population.satisfaction[issues.origin[issue]])
        assessment.credit(handlers, on_time, held, satisfaction)

    def call_back(self) -> None:
        """Return calls (回访) due today: the caller says the problem is solved if the fix
        held, and is satisfied with probability equal to their satisfaction today."""
        due = self.callbacks.pop(self.model.steps, [])
        if not due:
            return
        ids = np.array(due)
        issues = self.issues
        satisfaction = self.model.population.satisfaction[issues.origin[ids]]
        issues.callback[ids] = self.model.steps
        issues.said_solved[ids] = issues.held[ids]
        issues.said_satisfied[ids] = self.model.rng.random(len(ids)) < satisfaction

    def abandon_overdue(self) -> None:
        """Issues open for ``max_wait`` days are abandoned; their remaining tasks cancelled."""
        model = self.model
        issues = self.issues
        self.open_ids = issues.still_open(self.open_ids)
        cutoff = model.steps - model.config.issues.max_wait
        overdue = self.open_ids[issues.created[self.open_ids] <= cutoff]
        if len(overdue) == 0:
            return
        issues.abandoned[overdue] = model.steps
        self.abandoned_count += len(overdue)
        self.undiscovered_count -= int(np.count_nonzero(issues.discovered[overdue] == NOT_YET))
        origins = issues.origin[overdue]
        model.population.open_issue[origins] = -1
        model.population.outcome[origins] = ABANDONED
        model.population.outcome_delay[origins] = model.steps - issues.created[overdue]
        for issue in overdue[issues.first_task[overdue] >= 0].tolist():
            first = int(issues.first_task[issue])
            self._cancel(range(first, first + int(issues.n_tasks(issue))))
            self._credit(issue, on_time=False, held=False)
        self.open_ids = issues.still_open(self.open_ids)
        self.undiscovered = issues.still_open(self.undiscovered)

    def _cancel(self, tasks) -> None:
        for task in tasks:
            state = self.tasks.state[task]
            if state in (DONE, CANCELLED):
                continue
            if state == QUEUED:
                self.handlers[self.tasks.handler[task]].queued -= 1
            self.tasks.state[task] = CANCELLED

    def new_day(self) -> None:
        """Forget yesterday's contracts (a project is one organisation's contracts of a day)."""
        self._contracted_today = set()
