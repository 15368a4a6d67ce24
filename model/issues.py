"""The columnar issue store: one row per issue (诉求/事件) and one row per handling task.

Issues are arrays, not objects, so a million households raise and close thousands of issues a
day cheaply. Every issue is tracked from creation through discovery and dispatch to resolution
or abandonment, with the day of each event; each task records which handler did it and when.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

NOT_YET = -1
"""Day value of an event that has not happened."""

SERVICE = -1
"""Category of a service need (elder care, ...); department issues have category 0..K-1."""

# How a discovered issue was first found.
CHANNELS = ("self_report", "building_leader", "grid_patrol", "digital_sensing")
# Where a discovered issue was routed.
ROUTES = ("department", "joint", "local", "social_org")


class ColumnStore:
    """Growable named columns of equal length, with amortised O(1) appends."""

    columns: ClassVar[dict[str, tuple[type, object]]] = {}

    def __init__(self, capacity: int = 1024):
        self.size = 0
        self._data = {
            name: np.full(capacity, fill, dtype=dtype)
            for name, (dtype, fill) in self.columns.items()
        }
        self._expose()

    def _expose(self) -> None:
        """Each column as an attribute: a view of its first ``size`` rows."""
        for name, column in self._data.items():
            setattr(self, name, column[: self.size])

    def _append(self, count: int) -> slice:
        """Make room for ``count`` new rows; return their slice."""
        needed = self.size + count
        capacity = len(next(iter(self._data.values())))
        if needed > capacity:
            new_capacity = max(needed, 2 * capacity)
            for name, (dtype, fill) in self.columns.items():
                grown = np.full(new_capacity, fill, dtype=dtype)
                grown[: self.size] = self._data[name][: self.size]
                self._data[name] = grown
        rows = slice(self.size, needed)
        self.size = needed
        self._expose()
        return rows


class IssueStore(ColumnStore):
    """All issues ever raised in a run."""

    columns = {  # noqa: RUF012
        "origin": (np.int64, -1),  # household index
        "community": (np.int32, -1),
        "category": (np.int16, SERVICE),  # department 0..K-1, or SERVICE
        "severity": (np.int8, 1),  # 1 minor, 2 moderate, 3 serious
        "departments": (np.int16, 0),  # departments needed (1 unless cross-cutting)
        "sensable": (np.bool_, False),  # digital sensors can detect it
        "created": (np.int32, NOT_YET),
        "discovered": (np.int32, NOT_YET),
        "channel": (np.int8, -1),  # index into CHANNELS
        "first_dispatch": (np.int32, NOT_YET),
        "route": (np.int8, -1),  # index into ROUTES
        "resolved": (np.int32, NOT_YET),
        "abandoned": (np.int32, NOT_YET),
        "held": (np.bool_, False),  # the fix held (quality)
        "tasks_left": (np.int16, 0),
        "first_task": (np.int64, -1),  # its tasks are first_task .. first_task + n_tasks - 1
        "quality": (np.float64, 1.0),  # product of the qualities of the handlers so far
        "recurrence_of": (np.int64, -1),  # the issue whose failed fix this one repeats
    }

    def add(
        self,
        day: int,
        origin: np.ndarray,
        community: np.ndarray,
        category: np.ndarray,
        severity: np.ndarray,
        departments: np.ndarray,
        sensable: np.ndarray,
        recurrence_of: np.ndarray | None = None,
    ) -> np.ndarray:
        """Append new issues created on ``day``; return their ids."""
        rows = self._append(len(origin))
        data = self._data
        data["origin"][rows] = origin
        data["community"][rows] = community
        data["category"][rows] = category
        data["severity"][rows] = severity
        data["departments"][rows] = departments
        data["sensable"][rows] = sensable
        data["created"][rows] = day
        if recurrence_of is not None:
            data["recurrence_of"][rows] = recurrence_of
        return np.arange(rows.start, rows.stop)

    def set(self, column: str, ids: np.ndarray | int, value) -> None:
        """Write ``value`` into ``column`` for the issues ``ids``."""
        self._data[column][ids] = value

    def n_tasks(self, ids: np.ndarray | int) -> np.ndarray | int:
        """Tasks an issue needs: one per department, one for a service need."""
        return np.maximum(1, self.departments[ids])

    @property
    def is_open(self) -> np.ndarray:
        """Mask over all issues: neither resolved nor abandoned."""
        return (self.resolved == NOT_YET) & (self.abandoned == NOT_YET)

    def still_open(self, ids: np.ndarray) -> np.ndarray:
        """The issues among ``ids`` that are neither resolved nor abandoned."""
        return ids[(self.resolved[ids] == NOT_YET) & (self.abandoned[ids] == NOT_YET)]


# Task states.
WAITING, SCHEDULED, QUEUED, DONE, CANCELLED = range(5)


class TaskStore(ColumnStore):
    """Handling tasks: one per department an issue needs (or one for a local or social-org
    handler). A task is released (enters a queue) on ``ready`` and is done on ``done``."""

    columns = {  # noqa: RUF012
        "issue": (np.int64, -1),
        "handler": (np.int32, -1),
        "ready": (np.int32, NOT_YET),
        "done": (np.int32, NOT_YET),
        "state": (np.int8, WAITING),
        "next_task": (np.int64, -1),  # released after this one (sequential hand-off), or -1
    }

    def add(self, issue: int, handler: int, ready: int, next_task: int = -1) -> int:
        """Append one task; return its id."""
        rows = self._append(1)
        data = self._data
        data["issue"][rows] = issue
        data["handler"][rows] = handler
        data["ready"][rows] = ready
        data["next_task"][rows] = next_task
        return rows.start

    def set(self, column: str, ids: np.ndarray | int, value) -> None:
        """Write ``value`` into ``column`` for the tasks ``ids``."""
        self._data[column][ids] = value
