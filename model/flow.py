"""The issue flow shared by both engines: issue attributes, the record of discovery, routing at
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
from numba import njit

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
from model.routing import (
    JOINT,
    LOCAL,
    SOCIAL_ORG,
    generator,
    route_issues,
)

if TYPE_CHECKING:
    from agents.handler import Handler
    from agents.social_org import SocialOrganisation
    from model.model import CoGovModel

SELF_REPORT = CHANNELS.index("self_report")

NO_DRAW = np.nan
"""Pressure draw of a task whose office is not under pressure (:meth:`IssueFlow._enqueue`)."""


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
        self._checked = 0  # issues below this id have been checked for abandonment
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
        self._contracted_today: set[SocialOrganisation] = set()  # given a project today
        self._done_today: list[int] = []  # tasks done today, in the order done
        departments = range(model.config.government.departments)
        self.other_departments = np.array(  # row k: the departments other than k
            [[d for d in departments if d != k] for k in departments], np.int64
        ).reshape(len(departments), len(departments) - 1)

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
        model, cfg = self.model, self.model.config
        kind, category, departments, sensable, severity = draw_issues(
            self.model.rng_addresses(),
            self.kind_shares(model.steps),
            len(origins),
            cfg.government.departments,
            cfg.issues.max_departments,
            cfg.discovery.sensable_share,
        )
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
        self.undiscovered = np.concatenate([self.undiscovered, ids])
        self.undiscovered_count += len(ids)
        return ids

    def reraise(self, ids: np.ndarray) -> np.ndarray:
        """Fixes that did not hold: each problem is raised again at once, in the order of
        ``ids``, with the same attributes."""
        i = self.issues
        return self._add(
            i.origin[ids],
            i.category[ids],
            i.kind[ids],
            i.severity[ids],
            i.departments[ids],
            i.sensable[ids],
            ids,
        )

    # -- discovery ------------------------------------------------------------------------

    def still_undiscovered(self) -> np.ndarray:
        """Open issues nobody has reported yet."""
        ids = self.undiscovered
        return ids[self.issues.discovered[ids] == NOT_YET]

    def mark_discovered(self, ids: np.ndarray, channel: str) -> np.ndarray:
        """Record the first discovery of ``ids`` (ascending, without repeats) by ``channel``
        (later reports change nothing); return the issues newly discovered."""
        ids = ids[self.issues.discovered[ids] == NOT_YET]
        if len(ids):
            self.issues.discovered[ids] = self.model.steps
            self.issues.channel[ids] = CHANNELS.index(channel)
            self.discoveries[channel] += len(ids)
            self.undiscovered_count -= len(ids)
            self.discovered_today.append(ids)
        return ids

    # -- routing --------------------------------------------------------------------------

    def route_discovered(self) -> None:
        """The street dispatch hub sends every issue discovered today on its way; its deadline
        runs from today.

        Routes are chosen one issue after another, in the order the issues were found: the
        whistle's coordinating time, the purchase account and the social organisations'
        queues are used up in that order, and each issue's draws (the departments a complex
        issue also needs, the local decision, the work of its tasks, accountability pressure
        on the tasks released today) are made in that order. The service needs' handlers are
        chosen first (:meth:`_service_handler`, no draw), then one compiled pass makes the
        routes and draws (:func:`model.routing.route_issues`); the tasks are then created and
        released together (:meth:`_dispatch`).
        """
        if not self.discovered_today:
            return
        ids = np.concatenate(self.discovered_today)
        self.discovered_today = []
        self.undiscovered = self.still_undiscovered()
        model, issues = self.model, self.issues
        day = model.steps
        category, departments = issues.category[ids], issues.departments[ids]
        community = issues.community[ids]
        service_handler = np.full(len(ids), -1, np.int32)
        service_route = np.full(len(ids), -1, np.int8)
        contracted: dict[SocialOrganisation, int] = defaultdict(int)
        for i in np.flatnonzero(category == SERVICE).tolist():
            service_handler[i], service_route[i] = self._service_handler(
                int(community[i]), contracted
            )
        gov, party = model.config.government, model.config.party
        complex_issues = int(np.count_nonzero(departments > 1))
        route, *tasks = route_issues(
            self.model.rng_addresses(),
            category,
            departments,
            community,
            service_handler,
            service_route,
            self.other_departments,
            np.array([d.handler_id for d in model.departments], np.int32),
            np.array([w.handler_id for w in model.workstations], np.int32),
            self._under_pressure(),
            gov.devolution.authority,
            model.party_committee.whistles_affordable(complex_issues),
            day,
            gov.dispatch_delay,
            party.whistle_staff_days,
        )
        used = model.time_used["department_reporting"]
        for count in departments[route == JOINT].tolist():
            model.party_committee.blow_whistle()
            used += party.whistle_staff_days * count  # each department reports (报到)
        model.time_used["department_reporting"] = used
        self._dispatch(ids, route, *tasks)

    def _service_handler(
        self, community: int, contracted: dict[SocialOrganisation, int]
    ) -> tuple[int, int]:
        """三社联动: community finds the need, a social organisation runs it as a purchased
        project, its social workers deliver; otherwise the community workstation does it.
        Returns the handler's id and the route; ``contracted`` counts the projects each
        organisation was given today, not yet in its queue."""
        model = self.model
        org = (
            model.contract_social_org(community, contracted)
            if model.config.social_orgs.sanshe
            else None
        )
        if org is None:
            self.local_services += 1
            return model.workstations[community].handler_id, LOCAL
        if org not in self._contracted_today:
            self._contracted_today.add(org)
            org.projects += 1
            self.projects += 1
        contracted[org] += 1
        return org.handler_id, SOCIAL_ORG

    def _dispatch(
        self,
        ids: np.ndarray,
        route: np.ndarray,
        issue: np.ndarray,
        handlers: np.ndarray,
        normal: np.ndarray,
        extra: np.ndarray,
        ready: np.ndarray,
        released: np.ndarray,
        chained: np.ndarray,
        pressure: np.ndarray,
    ) -> None:
        """Create the tasks of issues ``ids`` as :func:`model.routing.route_issues` chose
        them, in the issues' order, and release or schedule them."""
        issues, tasks = self.issues, self.tasks
        spread = self.model.config.issues.work_spread
        work = self.work_median[issues.kind[ids][issue]] * np.exp(spread * normal) + extra
        first = tasks.size
        task_ids = tasks.add(ids[issue], handlers, work)
        now, later = file_tasks(
            ids,
            route,
            issue,
            chained,
            released,
            ready,
            first,
            self.model.steps,
            self.deadline,
            issues.kind,
            issues.first_dispatch,
            issues.due,
            issues.route,
            issues.tasks_left,
            issues.first_task,
            tasks.next_task,
            tasks.ready,
        )
        for name, count in zip(
            ROUTES, np.bincount(route, minlength=len(ROUTES)).tolist(), strict=True
        ):
            self.routes[name] += count
        self._enqueue(task_ids[now], pressure[now])
        self._release_later(task_ids[later], ready[later])

    def _release_later(self, ids: np.ndarray, days: np.ndarray) -> None:
        """Tasks ``ids`` join their queues on ``days`` (after today), in this order."""
        self.tasks.state[ids] = SCHEDULED
        for task, day in zip(ids.tolist(), days.tolist(), strict=True):
            self.pending[day].append(task)

    def _enqueue(self, ids: np.ndarray, pressure: np.ndarray) -> None:
        """Tasks ``ids`` join their handlers' queues, in this order. A handler under
        accountability pressure puts in extra effort (more work, a fix more likely to hold),
        or, with probability ``accountability.gaming``, closes the task early (less work, a fix
        less likely to hold): ``pressure`` holds the uniform draw that decides it for each task
        of an office under pressure, and ``NO_DRAW`` for the others."""
        model, tasks = self.model, self.tasks
        duty = model.config.accountability
        used, gamed, effort = apply_pressure(
            ids,
            pressure,
            tasks.work,
            tasks.hold,
            model.config.government.fix_quality,
            duty.gaming,
            duty.gaming_saving,
            duty.effort_cost,
            duty.effort_gain,
            model.time_used["accountability_effort"],
        )
        model.time_used["accountability_effort"] = used
        self.gamed_tasks += gamed
        self.effort_tasks += effort
        tasks.state[ids] = QUEUED
        handlers, dues = tasks.handler[ids].tolist(), self.issues.due[tasks.issue[ids]].tolist()
        for task, handler, due in zip(ids.tolist(), handlers, dues, strict=True):
            self.handlers[handler].enqueue(task, due)

    def release_due(self) -> None:
        """Tasks whose delay ends today join their handlers' queues."""
        scheduled = self.pending.pop(self.model.steps, [])
        if not scheduled:
            return
        ids = np.array(scheduled, np.int64)
        ids = ids[self.tasks.state[ids] == SCHEDULED]  # not cancelled meanwhile
        pressed = self._under_pressure()[self.tasks.handler[ids]]
        self._enqueue(ids, draw_pressure(self.model.rng_addresses(), pressed))

    def _under_pressure(self) -> np.ndarray:
        """Whether each handler (by id) is under accountability pressure."""
        return np.array([h.under_pressure for h in self.handlers])

    def hand_over(self, task: int, handler: Handler) -> None:
        """Move a queued task to another handler's queue (a closing social organisation)."""
        self.tasks.handler[task] = handler.handler_id
        handler.enqueue(task, float(self.issues.due[self.tasks.issue[task]]))

    # -- handling and closure -------------------------------------------------------------

    def finished(self, done: list[int]) -> None:
        """A handler has done tasks ``done`` today, in this order (:meth:`close_done_tasks`
        completes them)."""
        self._done_today.extend(done)

    def close_done_tasks(self) -> None:
        """After every handler has worked (phase 15): complete the tasks done today in the
        order they were done (:func:`complete_tasks`). Each releases the next task of a
        sequential issue after a hand-off; an issue whose last task is done is closed
        (:meth:`close`). A successor is released no earlier than tomorrow and nothing a handler
        reads changes when an issue closes, so completing the day's tasks here rather than one
        by one as each is done changes nothing."""
        if not self._done_today:
            return
        done = np.array(self._done_today, np.int64)
        self._done_today = []
        day = self.model.steps
        tasks, issues = self.tasks, self.issues
        following, closed = complete_tasks(
            done,
            day,
            tasks.done,
            tasks.state,
            tasks.issue,
            tasks.hold,
            tasks.next_task,
            issues.quality,
            issues.tasks_left,
        )
        if len(following):
            gov = self.model.config.government
            handoff = max(1, int(gov.handoff_delay * (1 - gov.data_sharing) + 0.5))
            tasks.ready[following] = day + handoff
            self._release_later(following, np.full(len(following), day + handoff))
        self.close(closed)

    def close(self, ids: np.ndarray) -> None:
        """Resolve issues ``ids``, in this order; each fix holds with the product of its tasks'
        chances. A self-reported issue (诉求) gets a return call ``metrics.callback_days``
        later; the offices that worked on it are credited for the assessment (考核); a fix
        that did not hold is raised again (:meth:`reraise`)."""
        if not len(ids):
            return
        model, issues, population = self.model, self.issues, self.model.population
        day = model.steps
        held = resolve_issues(
            model.rng_addresses(),
            ids,
            day,
            issues.quality,
            issues.resolved,
            issues.held,
            issues.origin,
            issues.created,
            population.open_issue,
            population.outcome,
            population.outcome_delay,
        )
        self.resolved_count += len(ids)
        called = ids[issues.channel[ids] == SELF_REPORT]
        self.callbacks[day + model.config.metrics.callback_days].extend(called.tolist())
        self._credit(ids, on_time=day <= issues.due[ids], held=held)
        if not held.all():
            self.reraise(ids[~held])

    def _tasks_of(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The tasks of dispatched issues ``ids`` and, for each, the position in ``ids`` of its
        issue."""
        counts = self.issues.n_tasks(ids)
        which = np.repeat(np.arange(len(ids)), counts)
        offset = np.arange(len(which)) - np.repeat(np.cumsum(counts) - counts, counts)
        return self.issues.first_task[ids][which] + offset, which

    def offices_of(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The offices (handler ids) that worked on dispatched issues ``ids``, each office once
        per issue, in the issues' order, and for each the position in ``ids`` of its issue."""
        tasks, which = self._tasks_of(ids)
        handlers = self.tasks.handler[tasks]
        first = np.unique(which * len(self.handlers) + handlers, return_index=True)[1]
        return handlers[first], which[first]

    def _credit(self, ids: np.ndarray, on_time: np.ndarray, held: np.ndarray) -> None:
        """Tell the assessment (考核), if any, how issues ``ids`` ended (in this order) and how
        satisfied their households are now."""
        assessment = self.model.assessment
        if assessment is None or not len(ids):
            return
        satisfaction = self.model.population.satisfaction[self.issues.origin[ids]]
        assessment.record(ids, on_time, held, satisfaction)

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
        """Issues open for ``max_wait`` days are abandoned; their remaining tasks cancelled.

        Issue ids grow with the day of creation, so the issues created by the cutoff are
        those below an id; the ones below ``_checked`` were abandoned on an earlier day if
        they were still open then."""
        model = self.model
        issues = self.issues
        cutoff = model.steps - model.config.issues.max_wait
        if self._checked == issues.size or issues.created[self._checked] > cutoff:
            return  # no issue has reached the cutoff since the last check
        created = issues.view("created")
        # a scalar of the column's type: with a Python int NumPy would first copy the whole
        # column to int64, a cost that grows with every issue ever raised
        stop = int(np.searchsorted(created, created.dtype.type(cutoff), side="right"))
        overdue = issues.still_open(np.arange(self._checked, stop))
        self._checked = max(self._checked, stop)
        if len(overdue) == 0:
            return
        issues.abandoned[overdue] = model.steps
        self.abandoned_count += len(overdue)
        self.undiscovered_count -= int(np.count_nonzero(issues.discovered[overdue] == NOT_YET))
        origins = issues.origin[overdue]
        model.population.open_issue[origins] = -1
        model.population.outcome[origins] = ABANDONED
        model.population.outcome_delay[origins] = model.steps - issues.created[overdue]
        dispatched = overdue[issues.first_task[overdue] >= 0]
        if len(dispatched):
            self._cancel(self._tasks_of(dispatched)[0])
            no = np.zeros(len(dispatched), bool)
            self._credit(dispatched, on_time=no, held=no)
        self.undiscovered = issues.still_open(self.undiscovered)

    def _cancel(self, ids: np.ndarray) -> None:
        """Cancel the tasks among ``ids`` that are not done; those in a queue leave it (the
        handler skips them)."""
        state = self.tasks.state[ids]
        queued = ids[state == QUEUED]
        handlers, counts = np.unique(self.tasks.handler[queued], return_counts=True)
        for handler, count in zip(handlers.tolist(), counts.tolist(), strict=True):
            self.handlers[handler].queued -= count
        self.tasks.state[ids[(state != DONE) & (state != CANCELLED)]] = CANCELLED

    def new_day(self) -> None:
        """Forget yesterday's contracts (a project is one organisation's contracts of a day)."""
        self._contracted_today = set()


@njit(cache=True)
def draw_categories(rng, shares: np.ndarray, n: int) -> np.ndarray:
    """``n`` draws of a category ``0 .. len(shares) - 1`` with probabilities ``shares``: the
    same numbers as ``rng.choice(len(shares), size=n, p=shares)``, which draws one uniform
    number per draw and looks it up in the cumulative shares, without its checks of ``p``."""
    cdf = np.cumsum(shares)
    cdf /= cdf[-1]
    return np.searchsorted(cdf, rng.random(n), side="right")


@njit(cache=True)
def draw_issues(addresses, shares, n, departments, max_departments, sensable_share):
    """The attributes of ``n`` new issues (:meth:`IssueFlow.raise_issues`), drawn from the
    generator whose :func:`model.routing.generator_addresses` are ``addresses``: the same
    numbers, in the same order, as numpy's ``Generator`` in Python, without the few
    microseconds each of its calls costs. Returns kind, category, departments needed, whether
    sensors can see it, and severity."""
    rng = generator(addresses)
    kind = draw_categories(rng, shares, n)
    is_service = kind == SERVICE_KIND
    category = np.where(is_service, SERVICE, rng.integers(0, departments, n))
    several = rng.integers(2, max(2, max_departments) + 1, n)
    needed = np.where(is_service, 0, np.where(kind == COMPLEX, several, 1))
    sensable = ~is_service & (rng.random(n) < sensable_share)
    severity = rng.integers(1, MAX_SEVERITY + 1, n)
    return kind, category, needed, sensable, severity


@njit(cache=True)
def file_tasks(
    ids,
    route,
    issue,
    chained,
    released,
    ready,
    first,
    day,
    deadline,
    kind,
    first_dispatch,
    due,
    route_of,
    tasks_left,
    first_task,
    next_task,
    task_ready,
):
    """Record the dispatch of issues ``ids`` on ``day`` (:meth:`IssueFlow._dispatch`): each
    issue's first dispatch, its due day (``day`` plus the ``deadline`` of its ``kind``), its
    route and its new tasks ``first``, ``first + 1``, ...: ``issue`` gives each task the
    position of its issue in ``ids`` (an issue's tasks are consecutive), a ``chained`` task is
    followed by the next one (a sequential hand-off), and a ``released`` task joins its queue
    on its ``ready`` day. Returns the positions of the released tasks that join today and of
    those that join later, each in the tasks' order."""
    for k in range(len(ids)):
        first_dispatch[ids[k]] = day
        due[ids[k]] = day + deadline[kind[ids[k]]]
        route_of[ids[k]] = route[k]
        tasks_left[ids[k]] = 0
    now = np.empty(len(issue), np.int64)
    later = np.empty(len(issue), np.int64)
    n_now = n_later = 0
    for t in range(len(issue)):
        owner = ids[issue[t]]
        if tasks_left[owner] == 0:
            first_task[owner] = first + t
        tasks_left[owner] += 1
        if chained[t]:
            next_task[first + t] = first + t + 1
        if released[t]:
            task_ready[first + t] = ready[t]
            if ready[t] <= day:
                now[n_now] = t
                n_now += 1
            else:
                later[n_later] = t
                n_later += 1
    return now[:n_now], later[:n_later]


@njit(cache=True)
def complete_tasks(done, day, done_day, state, issue, hold, next_task, quality, tasks_left):
    """Complete tasks ``done`` on ``day``, in this order: each multiplies its issue's chance
    that the fix holds by its own and takes one off the issue's tasks left. Returns the tasks
    that follow them (sequential hand-offs), in this order, and the issues whose last task was
    among them, in the order of that task."""
    following = np.empty(len(done), np.int64)
    closed = np.empty(len(done), np.int64)
    n_following = n_closed = 0
    for task in done:
        done_day[task] = day
        state[task] = DONE
        owner = issue[task]
        quality[owner] *= hold[task]
        tasks_left[owner] -= 1
        if tasks_left[owner] == 0:
            closed[n_closed] = owner
            n_closed += 1
        if next_task[task] >= 0:
            following[n_following] = next_task[task]
            n_following += 1
    return following[:n_following], closed[:n_closed]


@njit(cache=True)
def resolve_issues(
    addresses, ids, day, quality, resolved, held, origin, created, open_issue, outcome, delay
):
    """Resolve issues ``ids`` on ``day`` (:meth:`IssueFlow.close`): whether each fix holds is
    one uniform draw per issue, in this order, from the generator whose
    :func:`model.routing.generator_addresses` are ``addresses``, against the issue's
    ``quality``; each household's issue is no longer open, and its outcome and the days it
    waited are today's. Returns whether each fix held."""
    fix_held = generator(addresses).random(len(ids)) < quality[ids]
    for k, issue in enumerate(ids):
        resolved[issue] = day
        held[issue] = fix_held[k]
        household = origin[issue]
        open_issue[household] = -1
        outcome[household] = FIX_HELD if fix_held[k] else FIX_FAILED
        delay[household] = day - created[issue]
    return fix_held


@njit(cache=True)
def apply_pressure(
    ids, pressure, work, hold, quality, gaming, gaming_saving, effort_cost, effort_gain, used
):
    """Tasks ``ids`` as they join their queues (:meth:`IssueFlow._enqueue`): a fix holds with
    chance ``quality``; a task whose ``pressure`` draw is below ``gaming`` is closed early
    (``gaming_saving`` less work, a fix that holds less often), any other task with a draw
    gets extra effort (``effort_cost`` more work, ``effort_gain`` of the fix's failures
    averted), and a task with ``NO_DRAW`` neither. Returns ``used`` (staff-days) plus the extra
    effort, added in the tasks' order, and how many tasks were gamed and how many got
    effort."""
    gamed = effort = 0
    for k, task in enumerate(ids):
        hold[task] = quality
        if np.isnan(pressure[k]):
            continue
        if pressure[k] < gaming:
            work[task] *= 1 - gaming_saving
            hold[task] = quality * (1 - gaming_saving)
            gamed += 1
        else:
            used += work[task] * effort_cost
            work[task] *= 1 + effort_cost
            hold[task] = 1 - (1 - quality) * (1 - effort_gain)
            effort += 1
    return used, gamed, effort


@njit(cache=True)
def draw_pressure(addresses, pressed):
    """The accountability-pressure draw of each task released today (:meth:`IssueFlow._enqueue`):
    a uniform number for a task of an office under pressure (``pressed``), drawn in the tasks'
    order from the generator whose :func:`model.routing.generator_addresses` are
    ``addresses``, and ``NO_DRAW`` for the others."""
    rng = generator(addresses)
    pressure = np.full(len(pressed), NO_DRAW)
    for k in range(len(pressed)):
        if pressed[k]:
            pressure[k] = rng.random()
    return pressure
