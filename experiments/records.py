"""The run record: the two files a finished run leaves in its directory, and their checks.

A run directory holds ``timeseries.parquet`` (one row per day) and then ``summary.json``
(the completion marker). :mod:`experiments.run` writes them; :mod:`experiments.store`
collects them. This module imports neither the model nor DuckDB, so light commands can use it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUMMARY = "summary.json"
TIMESERIES = "timeseries.parquet"

SUMMARY_KEYS = {
    "config": dict,
    "config_hash": str,
    "seed": int,
    "steps": int,
    "versions": dict,
    "metrics": dict,
}
"""The keys every summary has, and their JSON types (``experiment`` and ``sweep`` are
optional labels: a string or null)."""

RUN_FIELDS = (
    "run_id",
    "config_hash",
    "seed",
    "structure",
    "experiment",
    "sweep",
    "steps",
    "run_dir",
    "collected_at",
    "config",
)
"""What describes a stored run besides its parameters, metrics and versions; no metric may
take one of these names."""

PARAM, VERSION = "param.", "version."
"""Prefixes of the stored parameter and version names; no metric name may start with them."""

MAX_NESTING = 64
"""Deepest nesting of objects and lists a summary may have (the config is 3 levels deep)."""

INT64 = range(-(2**63), 2**63)
"""The integers a summary may hold (a database stores 64-bit integers)."""


def run_id_of(config_hash: str, seed: int) -> str:
    """A run's identity: ``<config_hash>-<seed>``."""
    return f"{config_hash}-{seed}"


@dataclass(frozen=True)
class Run:
    """A finished run on disk whose summary is valid, with the labels it is stored under."""

    run_dir: Path
    summary: dict[str, Any]
    sweep: str | None
    experiment: str | None

    @property
    def run_id(self) -> str:
        return run_id_of(self.summary["config_hash"], self.summary["seed"])

    @property
    def timeseries(self) -> Path:
        return self.run_dir / TIMESERIES


def read_summary(run_dir: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The run's summary, or the problem (one line, naming the file) that makes it unusable."""
    path = run_dir / SUMMARY
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        return None, f"{path}: cannot read ({error.strerror})"
    except UnicodeDecodeError:
        return None, f"{path}: not UTF-8 text"
    except json.JSONDecodeError as error:
        return None, f"{path}: not valid JSON ({error.msg} at line {error.lineno})"
    except RecursionError:
        return None, f"{path}: nested more than {MAX_NESTING} levels deep"
    except ValueError:  # an integer of more digits than Python converts
        return None, f"{path}: holds an integer outside the 64-bit range"
    problem = summary_problem(summary)
    return (None, f"{path}: {problem}") if problem else (summary, None)


def summary_problem(summary: Any) -> str | None:
    """What makes ``summary`` not a cogov summary, or ``None`` if it is one."""
    if not isinstance(summary, dict):
        return "not a cogov summary (expected a JSON object)"
    missing = [key for key in SUMMARY_KEYS if key not in summary]
    if missing:
        return f"not a cogov summary (missing {', '.join(missing)})"
    problem = _size_problem(summary)
    if problem:
        return problem
    for key, kind in SUMMARY_KEYS.items():
        value = summary[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"{key} is {value!r:.40}, expected {kind.__name__}"
    if not re.fullmatch(r"[0-9a-f]{16}", summary["config_hash"]):
        return f"config_hash {summary['config_hash']!r:.40} is not 16 hex digits"
    if summary["seed"] < 0 or summary["steps"] < 0:
        return f"seed {summary['seed']} or steps {summary['steps']} is negative"
    structure = summary["config"].get("structure")
    if not isinstance(structure, dict) or not isinstance(structure.get("name"), str):
        return "config.structure.name is missing"
    for key in ("experiment", "sweep"):
        if not isinstance(summary.get(key), str | None):
            return f"{key} is {summary[key]!r:.40}, expected a string or null"
    if not all(isinstance(value, str) for value in summary["versions"].values()):
        return "versions must all be strings"
    return _metrics_problem(summary["metrics"])


def _size_problem(summary: dict[str, Any]) -> str | None:
    """Whether the summary nests deeper than MAX_NESTING or holds an integer outside INT64
    (walked without recursion)."""
    pending: list[tuple[Any, int]] = [(summary, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > MAX_NESTING:
                return f"nested more than {MAX_NESTING} levels deep"
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
        elif isinstance(value, int) and value not in INT64:
            return f"an integer of {len(str(abs(value)))} digits is outside the 64-bit range"
    return None


def _metrics_problem(metrics: dict[str, Any]) -> str | None:
    """What is wrong with the final metrics (names and values), or ``None``."""
    for name, value in metrics.items():
        lower = name.lower()
        if not name or lower in RUN_FIELDS or lower.startswith((PARAM, VERSION)):
            return f"metric name {name!r} is reserved for another column"
        if isinstance(value, bool) or not isinstance(value, int | float | None):
            return f"metric {name} is {value!r:.40}, expected a number or null"
    if len({name.lower() for name in metrics}) < len(metrics):
        return "two metric names differ only in case"
    return None
