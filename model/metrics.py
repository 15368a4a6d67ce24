"""Outcome metrics: a cheap record of every day (:func:`measure`) and the headline metrics of a
run (:func:`headline`), measured over the days after ``metrics.burn_in``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.issues import CHANNELS, NOT_YET, ROUTES, SERVICE

if TYPE_CHECKING:
    from model.model import CoGovModel

HANDLER_KINDS = ("department", "workstation", "social_org", "grid")
"""Handler types whose utilisation is reported (grid: grid workers' time on casework)."""


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal)."""
    values = np.sort(np.asarray(values, dtype=float))
    n, total = len(values), values.sum()
    if n == 0 or total == 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1) @ values / (n * total))


def kaplan_meier(durations: np.ndarray, closed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate of the survival function of time to close.

    ``durations`` are days from creation to closure (``closed``) or to censoring (abandoned or
    still open). Returns the distinct closure times ``t`` and ``S(t)``, the estimated share
    still open just after ``t`` (the product-limit estimator, as in lifelines).
    """
    durations = np.asarray(durations, dtype=float)
    closed = np.asarray(closed, dtype=bool)
    times = np.unique(durations[closed])
    at_risk = len(durations) - np.searchsorted(np.sort(durations), times, side="left")
    events = np.bincount(np.searchsorted(times, durations[closed]), minlength=len(times))
    return times, np.cumprod(1 - events / at_risk)


def km_median(times: np.ndarray, survival: np.ndarray) -> float:
    """The first time at which ``S(t) <= 0.5``; NaN when more than half never close."""
    reached = np.flatnonzero(survival <= 0.5)
    return float(times[reached[0]]) if len(reached) else float("nan")


def restricted_mean(times: np.ndarray, survival: np.ndarray, horizon: float) -> float:
    """Restricted mean time to close: the area under ``S(t)`` from 0 to ``horizon``."""
    if horizon <= 0:
        return float("nan")
    inside = times < horizon
    edges = np.concatenate([[0.0], times[inside], [horizon]])
    levels = np.concatenate([[1.0], survival[inside]])
    return float(np.sum(levels * np.diff(edges)))


def measure(model: CoGovModel) -> dict[str, float]:
    """The metrics of the current day, for the time series. Counts of issues are cumulative;
    queues, backlog and utilisation are today's."""
    population = model.population
    metrics = {"participation_rate": population.participation_rate()}
    if not model.institutions:
        return metrics
    flow = model.flow
    created, resolved, abandoned = flow.issues.size, flow.resolved_count, flow.abandoned_count
    backlog = created - resolved - abandoned
    orgs = model.social_orgs
    metrics |= {
        "backlog": float(backlog),
        "undiscovered": float(flow.undiscovered_count),
        "department_queue": float(sum(d.queued for d in model.departments)),
        "workstation_queue": float(sum(w.queued for w in model.workstations)),
        "social_org_queue": float(sum(o.queued for o in orgs)),
        "mean_trust": float(population.trust.mean()),
        "mean_satisfaction": float(population.satisfaction.mean()),
        "issues_created": float(created),
        "issues_resolved": float(resolved),
        "issues_abandoned": float(abandoned),
        "issues_open": float(backlog),
        "spending_today": sum(model.street_office.spent_today.values()),
        "n_social_orgs": float(len(orgs)),
        "social_org_capacity": float(sum(org.workers for org in orgs)),
        "joint_dispatches": float(flow.routes["joint"]),
        "pressure_share": model.assessment.pressure_share() if model.assessment else 0.0,
    }
    return metrics


def _window_mean(model: CoGovModel, name: str, start: int) -> float:
    """Mean of a daily metric over record rows ``start+1 .. steps`` (days after the burn-in)."""
    values = np.asarray(model.datacollector.model_vars[name][start + 1 :], dtype=float)
    return float(values.mean()) if len(values) else float("nan")


def _share(part: float | np.number, whole: float) -> float:
    return part / whole if whole else float("nan")


def headline(model: CoGovModel) -> dict[str, float | None]:
    """The run's headline metrics over the days after ``metrics.burn_in`` (the window);
    issue-based rates count the issues created, closed or called back in the window."""
    burn_in, end = model.config.metrics.burn_in, model.steps
    metrics: dict[str, float | None] = {
        "participation_rate": _window_mean(model, "participation_rate", burn_in)
    }
    if not model.institutions:
        return metrics
    flow, population = model.flow, model.population
    issues = flow.issues
    created = issues.view("created")
    resolved_day = issues.view("resolved")
    abandoned_day = issues.view("abandoned")
    held = issues.view("held")
    ids = np.flatnonzero(created > burn_in)  # issues of the window
    closed = resolved_day[ids] != NOT_YET
    left = abandoned_day[ids] != NOT_YET
    roots = ids[issues.root[ids] == ids]  # original problems of the window
    solved_roots = np.unique(issues.root[: issues.size][held])
    fixed_in_window = np.flatnonzero(held & (resolved_day > burn_in))
    called = np.flatnonzero(issues.view("callback") > burn_in)
    dispatched = np.flatnonzero(issues.view("first_dispatch") > burn_in)
    due = issues.due[dispatched]
    judged = dispatched[(due <= end) | (resolved_day[dispatched] != NOT_YET)]
    on_time = (resolved_day[judged] != NOT_YET) & (resolved_day[judged] <= issues.due[judged])
    closed_in_window = np.flatnonzero(resolved_day > burn_in)

    # time to close: closure is the event; abandonment and the run's end censor
    stop = np.where(closed, resolved_day[ids], np.where(left, abandoned_day[ids], end))
    durations = stop - created[ids]
    horizon = end - burn_in  # days in the window (none before the burn-in has passed)
    times, survival = kaplan_meier(durations, closed)
    departments = issues.departments[ids]

    def restricted(mask: np.ndarray) -> float:
        if not mask.any():
            return float("nan")
        return restricted_mean(*kaplan_meier(durations[mask], closed[mask]), horizon)

    office = model.street_office
    spent_window = {
        line: office.spent_total[line] - model.spent_at_burn_in.get(line, 0.0)
        for line in office.LINES
    }
    service = dispatched[issues.category[dispatched] == SERVICE]
    found = issues.channel[dispatched]
    utilisation = {
        f"utilisation_{kind}": _share(
            flow.work_done[kind] - model.work_at_burn_in.get(kind, (0.0, 0.0))[1],
            flow.capacity_offered[kind] - model.work_at_burn_in.get(kind, (0.0, 0.0))[0],
        )
        for kind in HANDLER_KINDS
    }
    community_satisfaction = (
        np.bincount(model.partition.community, weights=population.satisfaction)
        / model.community_households
    )
    problems_solved = len(fixed_in_window)
    metrics |= {
        "problem_resolution_rate": _share(np.isin(roots, solved_roots).sum(), len(roots)),
        "problems_solved": float(problems_solved),
        "problems_unsolved": float(len(roots) - np.isin(roots, solved_roots).sum()),
        "callback_resolved_rate": _share(issues.said_solved[called].sum(), len(called)),
        "callback_satisfied_rate": _share(issues.said_satisfied[called].sum(), len(called)),
        "on_time_rate": _share(on_time.sum(), len(judged)),
        "time_to_close_median": km_median(times, survival),
        "time_to_close_mean": restricted_mean(times, survival, horizon),
        "time_to_close_single": restricted(departments == 1),
        "time_to_close_complex": restricted(departments >= 2),
        "time_to_close_service": restricted(departments == 0),
        "abandoned_share": _share(left.sum(), len(ids)),
        "recurrence_rate": _share((~held[closed_in_window]).sum(), len(closed_in_window)),
        "backlog": _window_mean(model, "backlog", burn_in),
        "undiscovered_share": _share(
            _window_mean(model, "undiscovered", burn_in), _window_mean(model, "backlog", burn_in)
        ),
        "department_queue": _window_mean(model, "department_queue", burn_in),
        "workstation_queue": _window_mean(model, "workstation_queue", burn_in),
        "mean_trust": _window_mean(model, "mean_trust", burn_in),
        "mean_satisfaction": _window_mean(model, "mean_satisfaction", burn_in),
        "satisfaction_gini_households": gini(population.satisfaction),
        "satisfaction_gini_communities": gini(community_satisfaction),
        **{f"spending_{line}": office.spent_total[line] for line in office.LINES},
        "spending_total": sum(office.spent_total.values()),
        "total_budget": office.budget * end,
        "unspent": office.budget * end - sum(office.spent_total.values()),
        "cost_per_problem_solved": _share(sum(spent_window.values()), problems_solved),
        **utilisation,
        "n_social_orgs": _window_mean(model, "n_social_orgs", burn_in),
        "social_org_capacity": _window_mean(model, "social_org_capacity", burn_in),
        "social_org_service_share": _share(
            (issues.route[service] == ROUTES.index("social_org")).sum(), len(service)
        ),
        "joint_dispatches": float((issues.route[dispatched] == ROUTES.index("joint")).sum()),
        **{
            f"discovered_by_{channel}": _share((found == i).sum(), len(dispatched))
            for i, channel in enumerate(CHANNELS)
        },
        "requests_per_household_year": (found == 0).sum() / population.size / (horizon / 365)
        if horizon > 0
        else float("nan"),
        "pressure_share": _window_mean(model, "pressure_share", burn_in),
        **{f"time_{use}": used for use, used in model.time_used.items()},
        "issues_created": float(issues.size),
        "issues_resolved": float(flow.resolved_count),
        "issues_abandoned": float(flow.abandoned_count),
        "issues_open": float(issues.size - flow.resolved_count - flow.abandoned_count),
    }
    shock = model.config.shock
    if shock.duration > 0 and shock.name != "none":
        backlog = np.asarray(model.datacollector.model_vars["backlog"], dtype=float)
        metrics |= resilience(backlog, shock.start, shock.duration)
    else:
        metrics |= {"peak_backlog": None, "recovery_days": None}
    return metrics


def resilience(backlog: np.ndarray, start: int, duration: int, window: int = 30) -> dict:
    """Peak backlog from the shock's start, and days after the shock ends until the backlog
    is back within 10% (and 5 issues) of its mean over the ``window`` days before the shock;
    ``None`` when it never recovers. ``backlog[t]`` is the backlog at the end of day ``t``."""
    before = backlog[max(0, start - window) : start]
    baseline = float(before.mean()) if len(before) else 0.0
    peak = float(backlog[start:].max()) if len(backlog) > start else float("nan")
    end = start + duration
    recovered = np.flatnonzero(backlog[end:] <= max(1.1 * baseline, baseline + 5))
    return {
        "peak_backlog": peak,
        "recovery_days": float(recovered[0]) if len(recovered) else None,
    }
