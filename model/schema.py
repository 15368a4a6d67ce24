"""The schema of cogov's configuration: every parameter, declared once.

Each key has its allowed range (a :class:`Rule`) and a short description with units. Hydra
merges the YAML presets in ``configs/`` onto this schema, so a misspelt key or a value of the
wrong type fails at composition; :func:`model.config.validate` then checks ranges.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterator
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from typing import Any

from omegaconf import MISSING as UNSET
from omegaconf import OmegaConf


@dataclass(frozen=True)
class Rule:
    """An allowed range for one parameter: ``check(value)`` and how to say it."""

    describe: str
    check: Callable[[Any], bool]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def number_in(low: float, high: float, *, low_open: bool = False) -> Rule:
    """A finite number in ``[low, high]``, or ``(low, high]`` with ``low_open``."""
    bracket = "(" if low_open else "["
    high_text = f"{high:g}".replace("e+0", "e").replace("e+", "e")  # 1e9, not 1e+09
    return Rule(
        f"a number in {bracket}{low:g}, {high_text}]",
        lambda v: _is_number(v) and (low < v if low_open else low <= v) and v <= high,
    )


def integer_in(low: int, high: int, text: str = "") -> Rule:
    """An integer in ``[low, high]``; ``text`` says ``high`` when a number would not."""
    return Rule(
        f"an integer in [{low}, {text or high}]", lambda v: _is_integer(v) and low <= v <= high
    )


def one_of_enum(enum_type: type[enum.Enum]) -> Rule:
    """A member of an enum (OmegaConf converts the name when it composes)."""
    return Rule(
        "one of: " + ", ".join(member.name for member in enum_type),
        lambda v: isinstance(v, enum_type),
    )


LARGE = 1e9
"""Bound of every amount, rate and scale: generous for any use, and small enough that products
of several parameters with households and days stay far from overflowing."""
MAX_DAYS = 36_500
"""100 years: the longest run, delay, wait or shock (days are stored as 32-bit integers)."""
MAX_SIDE = 46_340
"""Longest grid side, so that width x height households stay below 2**31 (the lattice indexes
households with 32-bit integers)."""
MAX_SEED = 2**63 - 1
"""Largest seed: the results database stores seeds as 64-bit integers (DuckDB BIGINT)."""

POSITIVE = number_in(0, LARGE, low_open=True)
NON_NEGATIVE = number_in(0, LARGE)
UNIT_INTERVAL = number_in(0, 1)
OPEN_UNIT = number_in(0, 1, low_open=True)
POSITIVE_INT = integer_in(1, 1_000_000)
NON_NEGATIVE_INT = integer_in(0, 1_000_000)
SIDE = integer_in(2, MAX_SIDE)  # a household needs a neighbour to imitate
BLOCKS = integer_in(1, MAX_SIDE)
DAYS = integer_in(0, MAX_DAYS)
WAIT = integer_in(1, MAX_DAYS)
DEPARTMENTS = integer_in(1, 1000)
PER_COMMUNITY = integer_in(0, 100)
REPLICATES = integer_in(1, 100_000)
WORKERS = integer_in(1, 1024)
SEED = integer_in(0, MAX_SEED, text="2**63 - 1")
BOOLEAN = Rule("true or false", lambda v: isinstance(v, bool))
TEXT = Rule("text", lambda v: isinstance(v, str))
PATH = Rule("a file or folder path", lambda v: isinstance(v, str) and v != "")
TEXTS = Rule(
    "a list of text", lambda v: OmegaConf.is_list(v) and all(isinstance(x, str) for x in v)
)
MAPPING = Rule("a map from keys to lists of values", OmegaConf.is_dict)
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

    width: int = param(SIDE, "grid cells along x; one household per cell")
    height: int = param(SIDE, "grid cells along y")
    torus: bool = param(BOOLEAN, "wrap the grid edges (periodic boundaries)")
    communities_per_side: int = param(BLOCKS, "communities (社区) per side: n x n blocks")
    grid_unit_side: int = param(BLOCKS, "target side of a grid unit (网格), cells")
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
    max_departments: int = param(DEPARTMENTS, "most departments a cross-cutting issue needs")
    max_wait: int = param(WAIT, "days an open issue waits before it is abandoned")
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
    building_leaders: bool = param(BOOLEAN, "三长制: co-producers report neighbours' issues")
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
    departments: int = param(DEPARTMENTS, "K district departments, one issue category each")
    budget_shares: BudgetShares = group(BudgetShares)
    devolution: DevolutionConfig = group(DevolutionConfig)
    productivity: float = param(POSITIVE, "tasks a handling staff member completes per day")
    department_quality: float = param(UNIT_INTERVAL, "chance a department's fix holds")
    local_quality: float = param(UNIT_INTERVAL, "chance a local (community) fix holds")
    service_quality: float = param(UNIT_INTERVAL, "chance a service delivered by staff holds")
    dispatch_delay: int = param(DAYS, "days to pass an issue up to a department")
    handoff_delay: int = param(DAYS, "days to hand a task to the next department")
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
    whistle: bool = param(BOOLEAN, "街道吹哨、部门报到: joint dispatch of cross-cutting issues")
    whistle_cost: float = param(POSITIVE, "party member-days one joint dispatch takes")
    mobilisation_effect: float = param(NON_NEGATIVE, "most payoff bonus per co-producer per day")
    mobilisation_scale: float = param(POSITIVE, "member-days per 1000 households for 63% effect")
    contacts_per_day: float = param(NON_NEGATIVE, "households contacted per member-day")
    contact_gain: float = param(UNIT_INTERVAL, "trust gained per contact, share of 1 - trust")


@dataclass
class SocialOrgsConfig:
    """Social organisations (社会组织) and 三社联动."""

    sanshe: bool = param(BOOLEAN, "三社联动: service needs become projects run by social orgs")
    initial_per_community: int = param(PER_COMMUNITY, "social organisations per community")
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

    name: str = param(TEXT, "preset name, set by configs/shock/*.yaml")
    start: int = param(DAYS, "first day of the shock")
    duration: int = param(DAYS, "days the shock lasts")
    rate_multiplier: float = param(POSITIVE, "factor on the issue rate during the shock")
    service_share: float = param(UNIT_INTERVAL, "share of service needs during the shock")
    contagion: float = param(
        UNIT_INTERVAL, "issue chance per day added per neighbour with an unreported issue"
    )
    super_grid: bool = param(BOOLEAN, "超级网格: grid workers, party, volunteers turn to detection")
    volunteer_households: float = param(NON_NEGATIVE, "households a volunteer watches per day")
    party_households: float = param(NON_NEGATIVE, "households a party member-day watches")


@dataclass
class StructureConfig:
    """Which governance structure (a preset of mechanism parameters) is in force."""

    name: str = param(TEXT, "preset name, set by configs/structure/*.yaml")
    institutions: bool = param(BOOLEAN, "whether institutions and the issue flow exist")


class Method(enum.Enum):
    """How an experiment chooses its parameter points."""

    grid = "grid"  # every combination of the listed values
    sobol = "sobol"  # Saltelli sample for Sobol indices (SALib)
    morris = "morris"  # Morris trajectories for elementary effects (SALib)


@dataclass
class ExperimentConfig:
    """A sweep preset (configs/experiment/*.yaml): which runs, how many seeds, what to show."""

    name: str = param(TEXT, "preset name, set by configs/experiment/*.yaml")
    description: str = param(TEXT, "one line on what the experiment asks")
    figure: str = param(TEXT, "the figure drawn from its runs (experiments/figures.py)")
    structures: list[str] = param(TEXTS, "structures compared; every point runs under each")
    seeds: int = param(REPLICATES, "replicates (seeds 0..n-1) per structure and point")
    overrides: list[str] = param(TEXTS, "overrides applied to every run, e.g. shock=epidemic")
    grid: dict[str, list[Any]] = param(MAPPING, "method=grid: values per key; all combinations")
    method: Method = param(one_of_enum(Method), "grid, sobol or morris")
    levers: dict[str, list[float]] = param(MAPPING, "sobol/morris: [low, high] per key")
    samples: int = param(REPLICATES, "sobol: base sample N; morris: trajectories")
    outputs: list[str] = param(TEXTS, "metrics tabulated and analysed")
    workers: int = param(WORKERS, "processes running the experiment in parallel")


@dataclass
class ResultsConfig:
    """Where runs, the results database and figures go."""

    db: str = param(PATH, "DuckDB file with tables runs and timeseries")
    runs_dir: str = param(PATH, "folder for the run directories of experiments")
    figures_dir: str = param(PATH, "folder for figures (PNG 300 dpi and PDF)")


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
    engine: Engine = param(one_of_enum(Engine), "agents (reference) or fast (kernels)")
    seed: int = param(SEED, "random seed; same config + seed = same run")
    steps: int = param(DAYS, "days to simulate (1 step = 1 day = 1 MCS)")
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
