"""Outcome metrics, measured once per day from the population arrays and the issue store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.issues import CHANNELS, NOT_YET

if TYPE_CHECKING:
    from model.model import CoGovModel


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal)."""
    values = np.sort(np.asarray(values, dtype=float))
    n, total = len(values), values.sum()
    if n == 0 or total == 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1) @ values / (n * total))


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else float("nan")


def measure(model: CoGovModel) -> dict[str, float]:
    """All metrics of the current day. Rates and shares are in [0, 1]; times in days;
    spending in budget units per day; counts cumulative unless named otherwise."""
    population = model.population
    metrics = {"participation_rate": float(population.participating.mean())}
    if not model.institutions:
        return metrics

    issues, flow = model.flow.issues, model.flow
    created = issues.size
    resolved = issues.resolved != NOT_YET
    abandoned = int(np.count_nonzero(issues.abandoned != NOT_YET))
    held = int(np.count_nonzero(resolved & issues.held))
    open_now = created - int(resolved.sum()) - abandoned
    response = (issues.resolved - issues.created)[resolved]
    departments = issues.departments[resolved]
    undiscovered = len(flow.still_undiscovered())
    community_satisfaction = (
        np.bincount(model.partition.community, weights=population.satisfaction)
        / model.community_households
    )
    services_routed = flow.routes["social_org"] + flow.local_services
    office = model.street_office
    spent_total = sum(office.spent_total.values())
    orgs = model.social_orgs
    metrics |= {
        "resolution_rate": held / created if created else 0.0,
        "mean_response_time": _mean(response),
        "median_response_time": float(np.median(response)) if len(response) else float("nan"),
        "response_time_single": _mean(response[departments == 1]),
        "response_time_cross": _mean(response[departments >= 2]),
        "response_time_service": _mean(response[departments == 0]),
        "backlog": float(open_now),
        "undiscovered_share": undiscovered / open_now if open_now else 0.0,
        "abandoned": abandoned / created if created else 0.0,
        "mean_trust": float(population.trust.mean()),
        "mean_satisfaction": float(population.satisfaction.mean()),
        "satisfaction_gini": gini(community_satisfaction),
        "cost_per_resolved": spent_total / held if held else float("nan"),
        **{f"spending_{line}": office.spent_today[line] for line in office.LINES},
        "spending_total": sum(office.spent_today.values()),
        "n_social_orgs": float(len(orgs)),
        "social_org_capacity": float(sum(org.workers for org in orgs)),
        "social_org_projects": float(flow.projects),
        "social_org_service_share": _share(flow.routes["social_org"], services_routed),
        "joint_dispatches": float(flow.routes["joint"]),
        **{f"discovered_by_{channel}": float(flow.discoveries[channel]) for channel in CHANNELS},
        "department_queue": float(sum(d.queued for d in model.departments)),
        "local_queue": float(sum(w.queued for w in model.workstations)),
        "issues_created": float(created),
        "issues_resolved": float(resolved.sum()),
        "issues_open": float(open_now),
        "issues_abandoned": float(abandoned),
    }
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
