"""Observed figures the model is set from, fitted to or tested against (``data/targets/``).

Each entry of a targets file names the quantity it constrains, its observed value and
uncertainty, when and where it was observed, its source and confidence, and its role:

* ``input`` — sets a parameter directly (a size, a deadline, a staffing level);
* ``calibrate`` — fitted by the calibration (figures from before the reform);
* ``validate`` — predicted by the model and never used in fitting (figures after it);
* ``context`` — reported beside the others, but no model quantity matches it.

A ``calibrate`` or ``validate`` entry must name a headline metric of the model. The
calibration reads targets only through :func:`calibration_targets`, which never returns a
``validate`` entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.errors import ConfigError

ROLES = ("input", "calibrate", "validate", "context")
FIELDS = (
    "id",
    "quantity",
    "role",
    "value",
    "uncertainty",
    "unit",
    "year",
    "period",
    "place",
    "definition",
    "source",
    "url",
    "confidence",
    "notes",
)
CONFIDENCE = ("H", "M", "L")
REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_TARGETS = REPOSITORY / "data" / "targets" / "beijing.yaml"

MODEL_METRICS = (
    "callback_resolved_rate",
    "callback_satisfied_rate",
    "on_time_rate",
    "requests_per_household_year",
    "time_to_close_median",
    "participation_rate",
    "problem_resolution_rate",
)
"""Headline metrics that a ``calibrate`` or ``validate`` target may name."""


@dataclass(frozen=True)
class Target:
    """One observed figure."""

    id: str
    quantity: str
    role: str
    value: float
    sd: float  # standard deviation; an interval [low, high] counts as a 95% interval
    low: float
    high: float
    period: str
    year: str
    confidence: str
    source: str

    @property
    def when(self) -> str:
        """The period observed, shortened to its year when it has words in Chinese."""
        return self.period if self.period.isascii() and len(self.period) <= 12 else self.year


def _problem(entry: Any, index: int) -> str | None:
    """What makes entry ``index`` unusable, or ``None``."""
    if not isinstance(entry, dict):
        return f"entry {index} is not a mapping"
    name = entry.get("id", f"entry {index}")
    missing = [f for f in FIELDS if f not in entry]
    if missing:
        return f"target {name} has no {', '.join(missing)}"
    if entry["role"] not in ROLES:
        return f"target {name} has role {entry['role']!r}; expected one of: {', '.join(ROLES)}"
    if not str(entry["source"] or "").strip():
        return f"target {name} has no source"
    if entry["confidence"] not in CONFIDENCE:
        return f"target {name} has confidence {entry['confidence']!r}; expected H, M or L"
    if entry["role"] in ("calibrate", "validate") and entry["quantity"] not in MODEL_METRICS:
        return (
            f"target {name} names unknown metric {entry['quantity']!r}; "
            f"expected one of: {', '.join(MODEL_METRICS)}"
        )
    value, uncertainty = entry["value"], entry["uncertainty"]
    if not isinstance(value, int | float) or isinstance(value, bool):
        return f"target {name} has value {value!r}; expected a number"
    if not isinstance(uncertainty, dict) or set(uncertainty) not in ({"sd"}, {"interval"}):
        expected = "{sd: x} or {interval: [low, high]}"
        return f"target {name} has uncertainty {uncertainty!r}; expected {expected}"
    fitted = entry["role"] in ("calibrate", "validate")
    if "sd" in uncertainty:
        sd = uncertainty["sd"]
        if not isinstance(sd, int | float) or sd < 0 or (fitted and sd == 0):
            return f"target {name} has sd {sd!r}; expected a number > 0"
    else:
        bounds = uncertainty["interval"]
        if not (isinstance(bounds, list) and len(bounds) == 2 and bounds[0] <= bounds[1]):
            return f"target {name} has interval {bounds!r}; expected [low, high], low <= high"
        if fitted and bounds[0] == bounds[1]:
            return f"target {name} has an interval of zero width; a fitted figure needs one"
    return None


def load_targets(path: Path | str = DEFAULT_TARGETS) -> list[Target]:
    """Every entry of a targets file, checked; raises a one-line :class:`ConfigError`."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(
            "experiment.targets", f"cannot read targets file {path}: {error.strerror}"
        ) from error
    except yaml.YAMLError as error:
        raise ConfigError("experiment.targets", f"targets file {path} is not valid YAML") from error
    entries = data.get("targets") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError("experiment.targets", f"targets file {path} has no list under 'targets'")
    targets, seen = [], set()
    for index, entry in enumerate(entries):
        problem = _problem(entry, index)
        if problem:
            raise ConfigError("experiment.targets", f"{path.name}: {problem}")
        if entry["id"] in seen:
            raise ConfigError(
                "experiment.targets", f"{path.name}: target id {entry['id']} appears twice"
            )
        seen.add(entry["id"])
        uncertainty, value = entry["uncertainty"], float(entry["value"])
        if "sd" in uncertainty:
            sd = float(uncertainty["sd"])
            low, high = value - 1.96 * sd, value + 1.96 * sd
        else:
            low, high = map(float, uncertainty["interval"])
            sd = (high - low) / (2 * 1.96)
        targets.append(
            Target(
                id=str(entry["id"]),
                quantity=str(entry["quantity"]),
                role=str(entry["role"]),
                value=value,
                sd=sd,
                low=low,
                high=high,
                period=str(entry["period"]),
                year=str(entry["year"]),
                confidence=str(entry["confidence"]),
                source=str(entry["source"]),
            )
        )
    return targets


def calibration_targets(path: Path | str = DEFAULT_TARGETS) -> list[Target]:
    """The entries the calibration may fit: role ``calibrate`` only."""
    return [t for t in load_targets(path) if t.role == "calibrate"]


def validation_targets(path: Path | str = DEFAULT_TARGETS) -> list[Target]:
    """The entries the reform must predict: role ``validate`` only."""
    return [t for t in load_targets(path) if t.role == "validate"]
