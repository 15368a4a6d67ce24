"""Typed configuration for cogov: the schema Hydra checks every override against.

Every parameter is declared once, here, with its default, its allowed range and a short
description with units. Hydra merges the YAML presets in ``configs/`` onto this schema, so a
misspelt key or a value of the wrong type fails at composition; :func:`validate` then checks
ranges and names the key and the allowed values in one line.
"""

from __future__ import annotations

import copy
import enum
import functools
import hashlib
import json
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from omegaconf import MISSING as UNSET
from omegaconf import DictConfig, OmegaConf

from model.errors import ConfigError, unknown_key, user_errors

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
"""The Hydra config tree shipped with the repository (``configs/``)."""

SCHEMA_NAME = "cogov_schema"
"""Name under which the schema is stored in Hydra's ConfigStore (at the root, not in a group)."""

NOT_MODEL_KEYS = ("seed", "experiment", "results", "lang")
"""Top-level keys that do not enter the config hash: the seed (recorded separately) and the
keys that say how runs are organised and shown, not what is simulated."""


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
OPEN_UNIT = Rule("a number in (0, 1]", lambda v: _is_number(v) and 0 < v <= 1)
POSITIVE_INT = Rule("an integer >= 1", lambda v: isinstance(v, int) and v >= 1)
NON_NEGATIVE_INT = Rule("an integer >= 0", lambda v: isinstance(v, int) and v >= 0)
ANY = Rule("any value", lambda v: True)


def param(rule: Rule, doc: str) -> Any:
    """Declare a parameter: its allowed range and a description with units.

    Values come from the YAML presets in ``configs/`` (the single source of defaults); a preset
    that leaves a parameter unset fails at composition.
    """
    return field(default=UNSET, metadata={"rule": rule, "doc": doc})


def group(schema: type) -> Any:
    """A nested config group."""
    return field(default_factory=schema)


class Engine(enum.Enum):
    """How resident rules are executed; both engines implement the same model."""

    agents = "agents"  # reference: every Resident's own Python methods (Mesa CellAgent)
    fast = "fast"  # array kernels (numpy, numba) over the shared struct-of-arrays state


@dataclass
class WorldConfig:
    """Space: the grid of households, its communities (社区) and grid units (网格)."""

    width: int = param(POSITIVE_INT, "grid cells along x; one household per cell")
    height: int = param(POSITIVE_INT, "grid cells along y")
    torus: bool = param(ANY, "wrap the grid edges (periodic boundaries)")
    communities_per_side: int = param(POSITIVE_INT, "communities (社区) per side: n x n blocks")
    grid_unit_side: int = param(POSITIVE_INT, "target side of a grid unit (网格), cells")
    rewiring: float = param(UNIT_INTERVAL, "probability a lattice tie of the network is rewired")


@dataclass
class ResidentsConfig:
    """Residents: the co-production game, trust and satisfaction."""

    synergy: float = param(POSITIVE, "r: multiplication factor of a co-production group")
    noise: float = param(POSITIVE, "K: noise of the Fermi imitation rule, payoff units")
    cost: float = param(NON_NEGATIVE, "c: contribution per group by a co-producer, payoff units")
    initial_participation: float = param(UNIT_INTERVAL, "share co-producing at step 0")
    reward: float = param(NON_NEGATIVE, "payoff added to each co-producer per day")
    synergy_multiplier: float = param(POSITIVE, "factor on r in every group (1 = none)")
    exploration: float = param(
        UNIT_INTERVAL, "chance an elementary update tries the other strategy instead of imitating"
    )
    need_weight: float = param(
        UNIT_INTERVAL, "weight of local unmet need in the value of co-producing (0 = none)"
    )
    need_reference: float = param(
        OPEN_UNIT, "share of the grid unit with an open issue at which co-producing has full value"
    )
    initial_trust: float = param(UNIT_INTERVAL, "institutional trust at step 0")
    trust_gain: float = param(UNIT_INTERVAL, "trust gained from a prompt fix, share of 1 - trust")
    trust_loss: float = param(UNIT_INTERVAL, "trust lost from a failed fix or abandonment, share")
    trust_patience: float = param(POSITIVE, "days: a fix after d days gains exp(-d/patience)")
    social_influence: float = param(UNIT_INTERVAL, "daily weight of network neighbours' trust")
    initial_satisfaction: float = param(UNIT_INTERVAL, "satisfaction at step 0")
    satisfaction_rate: float = param(UNIT_INTERVAL, "daily share of the gap to target closed")
    satisfaction_baseline: float = param(UNIT_INTERVAL, "target satisfaction with no events")
    service_gain: float = param(
        UNIT_INTERVAL, "most target satisfaction gained (lost) by a record of fixes (failures)"
    )
    service_memory: float = param(UNIT_INTERVAL, "daily retention of the service record")
    need_penalty: float = param(UNIT_INTERVAL, "target satisfaction lost to an open issue")
    delay_penalty: float = param(UNIT_INTERVAL, "target satisfaction lost to waiting max_wait")
    public_goods_gain: float = param(
        UNIT_INTERVAL, "target satisfaction added when one's whole group co-produces"
    )


@dataclass
class IssuesConfig:
    """Issues (诉求/事件): how many arise, of which kinds, and how long they may wait."""

    base_rate: float = param(UNIT_INTERVAL, "issues per household per day, no shock")
    prevention: float = param(
        UNIT_INTERVAL, "share of issues prevented when a household's whole group co-produces"
    )
    service_share: float = param(UNIT_INTERVAL, "share of issues that are service needs")
    cross_share: float = param(UNIT_INTERVAL, "p_cross: share of department issues (九龙治水)")
    max_departments: int = param(POSITIVE_INT, "most departments a cross-cutting issue needs")
    max_wait: int = param(POSITIVE_INT, "days an open issue waits before it is abandoned")
    initial_open_share: float = param(
        UNIT_INTERVAL, "share of households with an (unreported) open issue at step 0"
    )


@dataclass
class DiscoveryConfig:
    """Discovery channels (问题发现)."""

    channel_ease: float = param(UNIT_INTERVAL, "daily reporting probability at full trust")
    report_floor: float = param(UNIT_INTERVAL, "reporting propensity at zero trust, relative")
    digital_ease: float = param(UNIT_INTERVAL, "channel ease added at full digital coverage")
    patrol_households: float = param(NON_NEGATIVE, "households a grid worker inspects per day")
    patrol_detection: float = param(UNIT_INTERVAL, "chance an inspected issue is noticed")
    building_leaders: bool = param(ANY, "三长制: co-producers report neighbours' issues")
    leader_report: float = param(UNIT_INTERVAL, "daily chance a co-producing neighbour reports")
    sensing_max: float = param(
        UNIT_INTERVAL, "daily sensing chance of a sensable issue, full cover"
    )
    sensable_share: float = param(UNIT_INTERVAL, "share of department issues sensors can detect")
    digital_scale: float = param(
        POSITIVE, "digital spending, units per day per 1000 households, for 63% coverage"
    )


@dataclass
class BudgetShares:
    """Shares of the government budget by line; they sum to 1."""

    staff: float = param(UNIT_INTERVAL, "handling staff: departments and devolved")
    grid_workers: float = param(UNIT_INTERVAL, "grid workers (网格员) patrolling grid units")
    digital_platform: float = param(UNIT_INTERVAL, "digital platform (城市大脑/一网统管)")
    purchase_of_services: float = param(UNIT_INTERVAL, "purchase of services (政府购买服务)")
    points_rewards: float = param(UNIT_INTERVAL, "points rewards (积分) to co-producers")


@dataclass
class DevolutionConfig:
    """Decentralisation (治理重心下移): two separate levers."""

    authority: float = param(UNIT_INTERVAL, "share of department issues local handlers decide")
    resources: float = param(UNIT_INTERVAL, "share of the staff budget moved to local handlers")


@dataclass
class GovernmentConfig:
    """Street office and district departments, one budget."""

    budget: float = param(
        NON_NEGATIVE, "budget, units per day per 1000 households (1 unit = 1 staff-day)"
    )
    departments: int = param(POSITIVE_INT, "K district departments, one issue category each")
    budget_shares: BudgetShares = group(BudgetShares)
    devolution: DevolutionConfig = group(DevolutionConfig)
    productivity: float = param(POSITIVE, "tasks a handling staff member completes per day")
    department_quality: float = param(UNIT_INTERVAL, "chance a department's fix holds")
    local_quality: float = param(UNIT_INTERVAL, "chance a local (community) fix holds")
    service_quality: float = param(UNIT_INTERVAL, "chance a service delivered by staff holds")
    dispatch_delay: int = param(NON_NEGATIVE_INT, "days to pass an issue up to a department")
    handoff_delay: int = param(NON_NEGATIVE_INT, "days to hand a task to the next department")
    data_sharing: float = param(UNIT_INTERVAL, "shared data: share of hand-off delay removed")
    points_value: float = param(NON_NEGATIVE, "payoff units one budget unit of points buys")
    points_cap: float = param(NON_NEGATIVE, "most points payoff per co-producer per day")


@dataclass
class PartySplit:
    """How party capacity is spent; the shares sum to 1."""

    mobilise: float = param(UNIT_INTERVAL, "mobilising co-producers (党员带头)")
    coordinate: float = param(UNIT_INTERVAL, "coordinating departments (吹哨)")
    contact: float = param(UNIT_INTERVAL, "contacting residents (联系群众)")


@dataclass
class PartyConfig:
    """Party branches (one per community) and the street party committee (一核多元)."""

    capacity: float = param(NON_NEGATIVE, "party member-days per day per 1000 households")
    split: PartySplit = group(PartySplit)
    whistle: bool = param(ANY, "街道吹哨、部门报到: joint dispatch of cross-cutting issues")
    whistle_cost: float = param(POSITIVE, "party member-days one joint dispatch takes")
    mobilisation_effect: float = param(NON_NEGATIVE, "most payoff bonus per co-producer per day")
    mobilisation_scale: float = param(POSITIVE, "member-days per 1000 households for 63% effect")
    contacts_per_day: float = param(NON_NEGATIVE, "households contacted per member-day")
    contact_gain: float = param(UNIT_INTERVAL, "trust gained per contact, share of 1 - trust")


@dataclass
class SocialOrgsConfig:
    """Social organisations (社会组织) and 三社联动."""

    sanshe: bool = param(ANY, "三社联动: service needs become projects run by social orgs")
    initial_per_community: int = param(NON_NEGATIVE_INT, "social organisations per community")
    initial_capacity: float = param(POSITIVE, "social workers of a new organisation")
    initial_funds: float = param(NON_NEGATIVE, "funds of a new organisation, units")
    max_capacity: float = param(POSITIVE, "most social workers an organisation can have")
    wage: float = param(NON_NEGATIVE, "units per social worker per day")
    productivity: float = param(POSITIVE, "services a social worker delivers per day")
    price: float = param(NON_NEGATIVE, "units the government pays per contracted service")
    learning: float = param(NON_NEGATIVE, "social workers added per service delivered")
    decay: float = param(UNIT_INTERVAL, "daily share of workers lost while funds are short")
    reserve_days: float = param(NON_NEGATIVE, "days of wages below which funds are short")
    quality: float = param(UNIT_INTERVAL, "chance a professional service holds")
    community_fund_share: float = param(UNIT_INTERVAL, "share of purchase budget to 社区基金")
    incubation_cost: float = param(POSITIVE, "community funds needed to incubate one")
    organising_effect: float = param(NON_NEGATIVE, "most increase of r from organising")
    organising_scale: float = param(POSITIVE, "social workers per 1000 households for 63%")


@dataclass
class ShockConfig:
    """Shocks (全周期管理): a period of surging issues, optionally with a super grid."""

    name: str = param(ANY, "preset name, set by configs/shock/*.yaml")
    start: int = param(NON_NEGATIVE_INT, "first day of the shock")
    duration: int = param(NON_NEGATIVE_INT, "days the shock lasts")
    rate_multiplier: float = param(POSITIVE, "factor on the issue rate during the shock")
    service_share: float = param(UNIT_INTERVAL, "share of service needs during the shock")
    contagion: float = param(
        UNIT_INTERVAL, "issue chance per day added per neighbour with an unreported issue"
    )
    super_grid: bool = param(ANY, "超级网格: grid workers, party, volunteers turn to detection")
    volunteer_households: float = param(NON_NEGATIVE, "households a volunteer watches per day")
    party_households: float = param(NON_NEGATIVE, "households a party member-day watches")


@dataclass
class StructureConfig:
    """Which governance structure (a preset of mechanism parameters) is in force."""

    name: str = param(ANY, "preset name, set by configs/structure/*.yaml")
    institutions: bool = param(ANY, "whether institutions and the issue flow exist")


class Method(enum.Enum):
    """How an experiment chooses its parameter points."""

    grid = "grid"  # every combination of the listed values
    sobol = "sobol"  # Saltelli sample for Sobol indices (SALib)
    morris = "morris"  # Morris trajectories for elementary effects (SALib)


@dataclass
class ExperimentConfig:
    """A sweep preset (configs/experiment/*.yaml): which runs, how many seeds, what to show."""

    name: str = param(ANY, "preset name, set by configs/experiment/*.yaml")
    description: str = param(ANY, "one line on what the experiment asks")
    figure: str = param(ANY, "the figure drawn from its runs (experiments/figures.py)")
    structures: list[str] = param(ANY, "structures compared; every point runs under each")
    seeds: int = param(POSITIVE_INT, "replicates (seeds 0..n-1) per structure and point")
    overrides: list[str] = param(ANY, "overrides applied to every run, e.g. shock=epidemic")
    grid: dict[str, list[Any]] = param(ANY, "method=grid: values per key; all combinations")
    method: Method = param(ANY, "grid, sobol or morris")
    levers: dict[str, list[float]] = param(ANY, "sobol/morris: [low, high] per key")
    samples: int = param(POSITIVE_INT, "sobol: base sample N; morris: trajectories")
    outputs: list[str] = param(ANY, "metrics tabulated and analysed")
    workers: int = param(POSITIVE_INT, "processes running the experiment in parallel")


@dataclass
class ResultsConfig:
    """Where runs, the results database and figures go."""

    db: str = param(ANY, "DuckDB file with tables runs and timeseries")
    runs_dir: str = param(ANY, "folder for the run directories of experiments")
    figures_dir: str = param(ANY, "folder for figures (PNG 300 dpi and PDF)")


LANGUAGES = ("en", "zh")
LANGUAGE = Rule("one of: en, zh", lambda v: v in LANGUAGES)


@dataclass
class CogovConfig:
    """The whole configuration of one run."""

    world: WorldConfig = group(WorldConfig)
    residents: ResidentsConfig = group(ResidentsConfig)
    issues: IssuesConfig = group(IssuesConfig)
    discovery: DiscoveryConfig = group(DiscoveryConfig)
    government: GovernmentConfig = group(GovernmentConfig)
    party: PartyConfig = group(PartyConfig)
    social_orgs: SocialOrgsConfig = group(SocialOrgsConfig)
    shock: ShockConfig = group(ShockConfig)
    structure: StructureConfig = group(StructureConfig)
    engine: Engine = param(ANY, "agents (reference) or fast (kernels)")
    seed: int = param(NON_NEGATIVE_INT, "random seed; same config + seed = same run")
    steps: int = param(NON_NEGATIVE_INT, "days to simulate (1 step = 1 day = 1 MCS)")
    results: ResultsConfig = group(ResultsConfig)
    lang: str = param(LANGUAGE, "language of tables, figures and the app: en or zh")
    experiment: ExperimentConfig | None = field(
        default=None, metadata={"group": ExperimentConfig, "doc": "the sweep preset, if any"}
    )


def iter_params(schema: type = CogovConfig, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(dotted_key, dataclass_field)`` for every leaf parameter of the schema."""
    for f in fields(schema):
        key = f"{prefix}{f.name}"
        if f.default_factory is not MISSING and is_dataclass(f.default_factory):
            yield from iter_params(f.default_factory, f"{key}.")
        elif "group" in f.metadata:  # an optional group (the experiment)
            yield from iter_params(f.metadata["group"], f"{key}.")
        else:
            yield key, f


def _leaf_keys(node: DictConfig, prefix: str = "") -> Iterator[str]:
    for key in node:
        if prefix == "" and key == "hydra":
            continue
        child = node._get_node(key)
        if isinstance(child, DictConfig) and child._is_none():
            continue  # an optional group that is not selected (experiment: null)
        if f"{prefix}{key}" in ("experiment.grid", "experiment.levers"):
            yield f"{prefix}{key}"  # free-form maps of config keys, checked by the sweep
        elif isinstance(child, DictConfig):
            yield from _leaf_keys(child, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def _check_sum(cfg: DictConfig, key: str) -> None:
    node = OmegaConf.select(cfg, key)
    total = sum(node.values())
    if abs(total - 1.0) > 1e-6:
        parts = ", ".join(f"{k}={v}" for k, v in node.items())
        raise ConfigError(key, f"{key} shares must sum to 1 (they sum to {total:.6g}: {parts})")


def validate(cfg: DictConfig) -> None:
    """Check every value against its rule and the cross-key constraints.

    Raises :class:`ConfigError` (one line: key, value, allowed values) on the first problem.
    """
    known = {key for key, _ in iter_params()}
    for key in _leaf_keys(cfg):
        if key not in known:
            raise unknown_key(key)
    for key, f in iter_params():
        if key.startswith("experiment.") and cfg.get("experiment") is None:
            continue
        parent, _, leaf = key.rpartition(".")
        if OmegaConf.is_missing(OmegaConf.select(cfg, parent) if parent else cfg, leaf):
            raise ConfigError(key, f"{key} has no value; set it in configs/ or on the command line")
        value = OmegaConf.select(cfg, key)
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
    _check_sum(cfg, "government.budget_shares")
    _check_sum(cfg, "party.split")
    departments = cfg.government.departments
    if not 1 <= cfg.issues.max_departments <= departments:
        raise ConfigError.bad_value(
            "issues.max_departments",
            cfg.issues.max_departments,
            f"an integer between 1 and government.departments = {departments}",
        )


def register_schema() -> None:
    """Store the schema in Hydra's ConfigStore at the root (so it is not a group option)."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=SCHEMA_NAME, node=CogovConfig)


def load_config(*overrides: str) -> DictConfig:
    """Compose the config exactly as the ``cogov`` command would, e.g.
    ``load_config("structure=canonical_pgg", "world.width=50")``.

    For notebooks and tests; raises :class:`ConfigError` on a bad override or value.
    """
    return copy.deepcopy(_compose(tuple(overrides)))


SCHEMA_MATCHING = r"(?s).*is validated against ConfigStore schema with the same name"
"""Hydra's warning for configs/hydra/launcher/*.yaml, which deliberately share their names
with the launcher plugins' schemas so that Hydra type-checks them against those schemas."""


@functools.lru_cache(maxsize=256)
def _compose(overrides: tuple[str, ...]) -> DictConfig:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_schema()
    warnings.filterwarnings("ignore", message=SCHEMA_MATCHING)
    _check_experiment_selected(overrides)
    with user_errors():  # Hydra and OmegaConf errors become one-line ConfigErrors
        if GlobalHydra.instance().is_initialized():  # inside the cogov app: same config tree
            cfg = compose(config_name="config", overrides=list(overrides))
        else:
            with initialize_config_dir(str(CONFIG_DIR), version_base="1.3", job_name="cogov"):
                cfg = compose(config_name="config", overrides=list(overrides))
    validate(cfg)
    return cfg


def _check_experiment_selected(overrides: tuple[str, ...]) -> None:
    """``experiment.*`` keys only exist once an experiment preset is chosen."""
    keys = [o.lstrip("+~").split("=")[0] for o in overrides]
    if "experiment" in keys:
        return
    for key in keys:
        if key.startswith("experiment."):
            options = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))
            raise ConfigError(
                key,
                f"{key} belongs to an experiment; choose one with "
                f"experiment=NAME ({', '.join(options)})",
            )


def _is_group(key: str) -> bool:
    return key.startswith("hydra/") or (CONFIG_DIR / key).is_dir()


LAUNCHER_PLUGINS = {
    "joblib": ("hydra_plugins.hydra_joblib_launcher", "uv sync"),
    "submitit_local": ("hydra_plugins.hydra_submitit_launcher", "uv sync"),
    "submitit_slurm": ("hydra_plugins.hydra_submitit_launcher", "uv sync"),
    "ray": ("hydra_plugins.hydra_ray_launcher", "uv sync --extra ray"),
}


def _check_launcher(choice: str) -> None:
    """A launcher whose plugin is not installed fails here, in one line."""
    import importlib.util

    module, install = LAUNCHER_PLUGINS.get(choice, (None, None))
    if module and importlib.util.find_spec(module) is None:
        raise ConfigError(
            "hydra/launcher",
            f"hydra/launcher={choice} needs its plugin; install it with: {install}",
        )


def check_overrides(overrides: list[str]) -> DictConfig:
    """Compose and validate every run a command line asks for, before anything is written.

    Each sweep value is tried at least once (with the other keys at their first value): a
    preset choice by composing, a plain value by setting it on the composed config; a
    launcher must have its plugin installed. Returns the config of the first run; raises
    :class:`ConfigError` on the first problem.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    for override in parsed:
        if override.key_or_group == "hydra/launcher":
            for choice in (
                override.sweep_string_iterator()
                if override.is_sweep_override()
                else [override.value()]
            ):
                _check_launcher(str(choice))
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
            with user_errors():
                OmegaConf.update(trial, key, value, merge=True)
            validate(trial)
    return cfg


def to_plain(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config as plain JSON-able Python (enums as their names)."""
    return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)  # type: ignore[return-value]


def config_hash(cfg: DictConfig) -> str:
    """A stable 16-hex-digit hash of everything that defines a run except the seed."""
    plain = {k: v for k, v in to_plain(cfg).items() if k not in NOT_MODEL_KEYS}
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
