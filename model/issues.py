"""The columnar issue store: one row per issue (诉求/事件) and one row per handling task.

Issues are arrays, not objects, so a million households raise and close thousands of issues a
day cheaply. Every issue is tracked from creation through discovery and dispatch to resolution
or abandonment and the return call, with the day of each event; each task records which
handler did it, its work and when it was done.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

NOT_YET = -1
"""Day value of an event that has not happened."""

SERVICE = -1
"""Category of a service need (elder care, ...); department issues have category 0..K-1."""

KINDS = ("emergency", "utility", "general", "complex", "service")
"""Kinds of issue (``issues.<kind>`` in the config): a complex issue needs several
departments, a service need goes to a social organisation or a workstation."""
COMPLEX, SERVICE_KIND = KINDS.index("complex"), KINDS.index("service")

MAX_SEVERITY = 3
"""Severity runs from 1 (minor) to MAX_SEVERITY (serious)."""

CHANNELS: tuple[str, ...] = ("self_report", "building_leader", "grid_patrol", "digital_sensing")
"""How a discovered issue was first found; a self-report is a 诉求 with a return call."""
ROUTES: tuple[str, ...] = ("department", "joint", "local", "social_org")
"""Where a discovered issue was routed."""


class ColumnStore:
    """Growable named columns of equal length, with amortised O(1) appends.

    Each column is an attribute holding the whole allocated array (rows ``size`` and beyond
    are unused); index it by id. :meth:`view` gives the live rows of a column.
    """

    columns: ClassVar[dict[str, tuple[type, object]]] = {}

    def __init__(self, capacity: int = 1024):
        self.size = 0
        self.capacity = capacity
        for name, (dtype, fill) in self.columns.items():
            setattr(self, name, np.full(capacity, fill, dtype=dtype))

    def view(self, name: str) -> np.ndarray:
        """The live rows ``0 .. size-1`` of column ``name``."""
        return getattr(self, name)[: self.size]

    def _append(self, count: int) -> slice:
        """Make room for ``count`` new rows; return their slice."""
        needed = self.size + count
        if needed > self.capacity:
            self.capacity = max(needed, 2 * self.capacity)
            for name, (dtype, fill) in self.columns.items():
                grown = np.full(self.capacity, fill, dtype=dtype)
                grown[: self.size] = getattr(self, name)[: self.size]
                setattr(self, name, grown)
        rows = slice(self.size, needed)
        self.size = needed
        return rows


class IssueStore(ColumnStore):
    """All issues ever raised in a run."""

    columns = {  # noqa: RUF012
        "origin": (np.int64, -1),  # household index
        "community": (np.int32, -1),
        "category": (np.int16, SERVICE),  # department 0..K-1, or SERVICE
        "kind": (np.int8, 0),  # index into KINDS
        "severity": (np.int8, 1),  # 1 minor .. MAX_SEVERITY serious
        "departments": (np.int16, 0),  # departments needed (1 unless complex; 0 for a service)
        "sensable": (np.bool_, False),  # digital sensors can detect it
        "created": (np.int32, NOT_YET),
        "discovered": (np.int32, NOT_YET),
        "channel": (np.int8, -1),  # index into CHANNELS
        "first_dispatch": (np.int32, NOT_YET),
        "due": (np.float64, np.inf),  # day by which it must be closed: dispatch + deadline
        "route": (np.int8, -1),  # index into ROUTES
        "resolved": (np.int32, NOT_YET),
        "abandoned": (np.int32, NOT_YET),
        "held": (np.bool_, False),  # the fix held
        "tasks_left": (np.int16, 0),
        "first_task": (np.int64, -1),  # its tasks are first_task .. first_task + n_tasks - 1
        "quality": (np.float64, 1.0),  # chance the fix holds: product over its tasks so far
        "recurrence_of": (np.int64, -1),  # the issue whose failed fix this one repeats
        "root": (np.int64, -1),  # the original problem (itself unless a recurrence)
        "callback": (np.int32, NOT_YET),  # day of the return call (回访), self-reports only
        "said_solved": (np.bool_, False),  # at the return call the caller says it is solved
        "said_satisfied": (np.bool_, False),  # at the return call the caller is satisfied
    }
    # the columns, for type checkers (ColumnStore makes them from ``columns``)
    origin: np.ndarray
    community: np.ndarray
    category: np.ndarray
    kind: np.ndarray
    severity: np.ndarray
    departments: np.ndarray
    sensable: np.ndarray
    created: np.ndarray
    discovered: np.ndarray
    channel: np.ndarray
    first_dispatch: np.ndarray
    due: np.ndarray
    route: np.ndarray
    resolved: np.ndarray
    abandoned: np.ndarray
    held: np.ndarray
    tasks_left: np.ndarray
    first_task: np.ndarray
    quality: np.ndarray
    recurrence_of: np.ndarray
    root: np.ndarray
    callback: np.ndarray
    said_solved: np.ndarray
    said_satisfied: np.ndarray

    def add(
        self,
        day: int,
        origin: np.ndarray,
        community: np.ndarray,
        category: np.ndarray,
        kind: np.ndarray,
        severity: np.ndarray,
        departments: np.ndarray,
        sensable: np.ndarray,
        recurrence_of: np.ndarray | None = None,
    ) -> np.ndarray:
        """Append new issues created on ``day``; return their ids. A recurrence keeps the
        root (original problem) of the issue it repeats."""
        rows = self._append(len(origin))
        self.origin[rows] = origin
        self.community[rows] = community
        self.category[rows] = category
        self.kind[rows] = kind
        self.severity[rows] = severity
        self.departments[rows] = departments
        self.sensable[rows] = sensable
        self.created[rows] = day
        ids = np.arange(rows.start, rows.stop)
        if recurrence_of is None:
            self.root[rows] = ids
        else:
            self.recurrence_of[rows] = recurrence_of
            self.root[rows] = self.root[recurrence_of]
        return ids

    def n_tasks(self, ids: np.ndarray | int) -> np.ndarray | int:
        """Tasks an issue needs: one per department, one for a service need."""
        return np.maximum(1, self.departments[ids])

    def still_open(self, ids: np.ndarray) -> np.ndarray:
        """The issues among ``ids`` that are neither resolved nor abandoned."""
        return ids[(self.resolved[ids] == NOT_YET) & (self.abandoned[ids] == NOT_YET)]


# Task states.
WAITING, SCHEDULED, QUEUED, DONE, CANCELLED = range(5)


class TaskStore(ColumnStore):
    """Handling tasks: one per department an issue needs (or one per task of a local or
    social-organisation handler). A task is released into its handler's queue on ``ready``
    and is done on ``done``, when its ``work`` (staff-days) has been worked off."""

    columns = {  # noqa: RUF012
        "issue": (np.int64, -1),
        "handler": (np.int32, -1),
        "ready": (np.int32, NOT_YET),
        "done": (np.int32, NOT_YET),
        "state": (np.int8, WAITING),
        "next_task": (np.int64, -1),  # released after this one (sequential hand-off), or -1
        "work": (np.float64, 0.0),  # staff-days of work left
        "hold": (np.float64, 1.0),  # chance the fix this task makes holds
    }
    # the columns, for type checkers (ColumnStore makes them from ``columns``)
    issue: np.ndarray
    handler: np.ndarray
    ready: np.ndarray
    done: np.ndarray
    state: np.ndarray
    next_task: np.ndarray
    work: np.ndarray
    hold: np.ndarray

    def add(self, issue: np.ndarray, handlers: np.ndarray, work: np.ndarray) -> np.ndarray:
        """Append one task per handler, for the issue ``issue`` names at the same position,
        with its ``work`` (staff-days); return their ids."""
        rows = self._append(len(handlers))
        self.issue[rows] = issue
        self.handler[rows] = handlers
        self.work[rows] = work
        return np.arange(rows.start, rows.stop)
