"""Typed configuration for cogov: the schema Hydra checks every override against.

Every parameter is declared once, here, with its default, its allowed range and a short
description with units. Hydra merges the YAML presets in ``configs/`` onto this schema, so a
misspelt key or a value of the wrong type fails at composition; :func:`validate` then checks
ranges and names the key and the allowed values in one line.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from model.errors import ConfigError, explain, unknown_key

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
"""The Hydra config tree shipped with the repository (``configs/``)."""

SCHEMA_NAME = "cogov_schema"
"""Name under which the schema is stored in Hydra's ConfigStore (at the root, not in a group)."""

NOT_MODEL_KEYS = ("seed",)
"""Top-level keys that do not enter the config hash (the seed is recorded separately)."""


@dataclass(frozen=True)
class Rule:
    """An allowed range for one parameter: ``check(value)`` and how to say it."""

    describe: str
    check: Callable[[Any], bool]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


POSITIVE = Rule("a number > 0", lambda v: _is_number(v) and v > 0)
NON_NEGATIVE = Rule("a number >= 0", lambda v: _is_number(v) and v >= 0)
UNIT_INTERVAL = Rule("a number in [0, 1]", lambda v: _is_number(v) and 0 <= v <= 1)
POSITIVE_INT = Rule("an integer >= 1", lambda v: isinstance(v, int) and v >= 1)
NON_NEGATIVE_INT = Rule("an integer >= 0", lambda v: isinstance(v, int) and v >= 0)
ANY = Rule("any value", lambda v: True)


def param(default: Any, rule: Rule, doc: str) -> Any:
    """Declare a parameter: its default, its allowed range and a description with units."""
    return field(default=default, metadata={"rule": rule, "doc": doc})


class Engine(enum.Enum):
    """How resident rules are executed; both engines implement the same model."""

    agents = "agents"  # reference: every Resident's own Python methods (Mesa CellAgent)
    fast = "fast"  # array kernels (numpy, numba) over the shared struct-of-arrays state


@dataclass
class WorldConfig:
    """Space: the grid of households, its communities (社区) and grid units (网格)."""

    width: int = param(100, POSITIVE_INT, "grid cells along x; one household per cell")
    height: int = param(100, POSITIVE_INT, "grid cells along y")
    torus: bool = param(False, ANY, "wrap the grid edges (periodic boundaries)")
    communities_per_side: int = param(
        3, POSITIVE_INT, "communities (社区) per side: the grid is cut into n x n blocks"
    )
    grid_unit_side: int = param(
        10, POSITIVE_INT, "target side of a grid unit (网格) in cells; ~side^2 households"
    )
    rewiring: float = param(
        0.05, UNIT_INTERVAL, "probability that a lattice tie of the social network is rewired"
    )


@dataclass
class ResidentsConfig:
    """Residents' co-production game (spatial public goods game with Fermi imitation)."""

    synergy: float = param(4.5, POSITIVE, "r: multiplication factor of a co-production group")
    noise: float = param(0.5, POSITIVE, "K: noise of the Fermi imitation rule (payoff units)")
    cost: float = param(1.0, NON_NEGATIVE, "c: contribution per group by a co-producer")
    initial_participation: float = param(
        0.5, UNIT_INTERVAL, "share of residents co-producing at step 0"
    )
    reward: float = param(0.0, NON_NEGATIVE, "payoff added to each co-producer per step")
    synergy_multiplier: float = param(
        1.0, POSITIVE, "factor on r in every group (institutional synergy; 1 = none)"
    )


@dataclass
class StructureConfig:
    """Which governance structure (a preset of mechanism parameters) is in force."""

    name: str = param("canonical_pgg", ANY, "preset name, set by configs/structure/*.yaml")
    institutions: bool = param(False, ANY, "whether institutions and the issue flow exist")


@dataclass
class CogovConfig:
    """The whole configuration of one run."""

    world: WorldConfig = field(default_factory=WorldConfig)
    residents: ResidentsConfig = field(default_factory=ResidentsConfig)
    structure: StructureConfig = field(default_factory=StructureConfig)
    engine: Engine = param(Engine.fast, ANY, "agents (reference) or fast (kernels)")
    seed: int = param(0, NON_NEGATIVE_INT, "random seed; same config + seed = same run")
    steps: int = param(365, NON_NEGATIVE_INT, "days to simulate (1 step = 1 day = 1 MCS)")


def iter_params(schema: type = CogovConfig, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(dotted_key, dataclass_field)`` for every leaf parameter of the schema."""
    for f in fields(schema):
        key = f"{prefix}{f.name}"
        if f.default_factory is not MISSING and is_dataclass(f.default_factory):
            yield from iter_params(f.default_factory, f"{key}.")
        else:
            yield key, f


def _leaf_keys(node: DictConfig, prefix: str = "") -> Iterator[str]:
    for key in node:
        if prefix == "" and key == "hydra":
            continue
        child = node._get_node(key)
        if isinstance(child, DictConfig):
            yield from _leaf_keys(child, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def validate(cfg: DictConfig | CogovConfig) -> None:
    """Check every value against its rule and the cross-key constraints.

    Raises :class:`ConfigError` (one line: key, value, allowed values) on the first problem.
    """
    if isinstance(cfg, DictConfig):
        known = {key for key, _ in iter_params()}
        for key in _leaf_keys(cfg):
            if key not in known:
                raise unknown_key(key)
    for key, f in iter_params():
        value = OmegaConf.select(cfg, key) if isinstance(cfg, DictConfig) else _attr(cfg, key)
        if isinstance(value, enum.Enum):
            continue  # OmegaConf has already checked enum members
        rule: Rule = f.metadata["rule"]
        if not rule.check(value):
            raise ConfigError.bad_value(key, value, rule.describe)
    world = cfg.world
    side = min(world.width, world.height)
    if world.communities_per_side > side:
        raise ConfigError.bad_value(
            "world.communities_per_side",
            world.communities_per_side,
            f"an integer between 1 and min(world.width, world.height) = {side}",
        )
    if world.torus and side < 3:
        raise ConfigError.bad_value(
            "world.torus", True, "false when world.width or world.height is below 3"
        )


def _attr(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def register_schema() -> None:
    """Store the schema in Hydra's ConfigStore at the root (so it is not a group option)."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=SCHEMA_NAME, node=CogovConfig)


def load_config(*overrides: str) -> DictConfig:
    """Compose the config exactly as the ``cogov`` command would, e.g.
    ``load_config("structure=canonical_pgg", "world.width=50")``.

    For notebooks and tests; raises :class:`ConfigError` on a bad override or value.
    """
    from hydra import compose, initialize_config_dir

    register_schema()
    try:
        with initialize_config_dir(str(CONFIG_DIR), version_base="1.3", job_name="cogov"):
            cfg = compose(config_name="config", overrides=list(overrides))
    except Exception as error:  # Hydra and OmegaConf errors become one-line ConfigErrors
        user_error = explain(error)
        if user_error is None:
            raise
        raise user_error from error
    validate(cfg)
    return cfg


def _is_group(key: str) -> bool:
    return key.startswith("hydra/") or (CONFIG_DIR / key).is_dir()


def check_overrides(overrides: list[str]) -> None:
    """Compose and validate every run a command line asks for, before anything is written.

    Each sweep value is tried at least once (with the other keys at their first value): a
    preset choice by composing, a plain value by setting it on the composed config.
    Raises :class:`ConfigError` on the first problem.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    first = [
        f"{o.get_key_element()}={next(o.sweep_string_iterator())}"
        if o.is_sweep_override()
        else o.input_line
        for o in parsed
    ]
    cfg = load_config(*first)
    for i, override in enumerate(parsed):
        if not override.is_sweep_override():
            continue
        key = override.key_or_group
        texts = list(override.sweep_string_iterator())[1:]
        values = list(override.sweep_iterator())[1:]
        for text, value in zip(texts, values, strict=True):
            if _is_group(key):
                load_config(*first[:i], f"{override.get_key_element()}={text}", *first[i + 1 :])
                continue
            trial = cfg.copy()
            try:
                OmegaConf.update(trial, key, value, merge=True)
            except Exception as error:
                user_error = explain(error)
                if user_error is None:
                    raise
                raise user_error from error
            validate(trial)


def to_plain(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config as plain JSON-able Python (enums as their names)."""
    return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)  # type: ignore[return-value]


def config_hash(cfg: DictConfig) -> str:
    """A stable 16-hex-digit hash of everything that defines a run except the seed."""
    plain = {k: v for k, v in to_plain(cfg).items() if k not in NOT_MODEL_KEYS}
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
