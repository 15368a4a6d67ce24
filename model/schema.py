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


@dataclass(frozen=True)
class Rule:
    """An allowed range for one parameter: ``check(value)`` (a plain value: lists and maps as
    Python lists and dicts) and how to say it."""

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


def or_null(rule: Rule) -> Rule:
    """``rule``, or null (an experiment setting that only some experiments use)."""
    return Rule(f"{rule.describe} (or null)", lambda v: v is None or rule.check(v))


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
HOUSEHOLDS = integer_in(1, 2**31 - 1, text="2**31 - 1")
PER_HOUSEHOLD = number_in(1, 1000)  # a household has at least one resident
DAYS = integer_in(0, MAX_DAYS)
POSITIVE_DAYS = integer_in(1, MAX_DAYS)
DAY_SPAN = number_in(0, MAX_DAYS, low_open=True)
SPREAD = number_in(0, 10)  # sigma of a lognormal: e**10 is already a 22,000-fold spread
DEPARTMENTS = integer_in(1, 1000)
REPLICATES = integer_in(1, 100_000)
WORKERS = integer_in(1, 1024)
SEED = integer_in(0, MAX_SEED, text="2**63 - 1")
BOOLEAN = Rule("true or false", lambda v: isinstance(v, bool))
TEXT = Rule("text", lambda v: isinstance(v, str))
PATH = Rule("a file or folder path", lambda v: isinstance(v, str) and v != "")
TEXTS = Rule("a list of text", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v))
MAPPING = Rule("a map from keys to lists of values", lambda v: isinstance(v, dict))
RECORDS = Rule(
    "a list of maps", lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v)
)
ANY = Rule("any value", lambda v: True)
OPTIONAL_POSITIVE_INT = or_null(REPLICATES)
OPTIONAL_NON_NEGATIVE = or_null(NON_NEGATIVE)


FREE_FORM = ("experiment.grid", "experiment.levers", "experiment.priors")
"""Free-form maps whose keys are config keys (``{government.fix_quality: [0.2, 1.0]}``), set in
an experiment's preset and checked by the sweep."""


def param(rule: Rule, doc: str) -> Any:
    """Declare a parameter: its allowed range and a description with units.

    Values come from the YAML presets in ``configs/`` (the single source of defaults); a preset
    that leaves a parameter unset fails at composition.
    """
    return field(default=UNSET, metadata={"rule": rule, "doc": doc})


def optional(rule: Rule, doc: str) -> Any:
    """An experiment setting that only some experiments use (``None`` elsewhere)."""
    return field(default=None, metadata={"rule": rule, "doc": doc})


def group(schema: type) -> Any:
    """A nested config group."""
    return field(default_factory=schema)


class Engine(enum.Enum):
    """How resident rules are executed; both engines implement the same model."""

    agents = "agents"  # reference: every Resident's own Python methods (Mesa CellAgent)
    fast = "fast"  # array kernels (numpy, numba) over the shared struct-of-arrays state


@dataclass
class WorldConfig:
    """Space: the grid of households, its communities (社区) and grid units (网格), sized in
    households so that a bigger map has more communities, not bigger ones."""

    width: int = param(SIDE, "grid cells along x; one household per cell")
    height: int = param(SIDE, "grid cells along y")
    torus: bool = param(BOOLEAN, "wrap the grid edges (periodic boundaries)")
    household_size: float = param(PER_HOUSEHOLD, "residents per household (converts per-10k rates)")
    community_households: int = param(HOUSEHOLDS, "households per community (社区)")
    grid_unit_households: int = param(HOUSEHOLDS, "households per grid unit (网格)")
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
class IssueKind:
    """One kind of issue (诉求): its share of all issues, its deadline and its work."""

    share: float = param(UNIT_INTERVAL, "share of new issues of this kind")
    deadline_days: float = param(DAY_SPAN, "days from dispatch within which it must be closed")
    work_days: float = param(POSITIVE, "median staff-days of handling work per task")


@dataclass
class IssuesConfig:
    """Issues (诉求/事件): how many arise, of which kinds, and how long they may wait."""

    problems_per_household_year: float = param(
        NON_NEGATIVE, "problems a household meets per year, no shock or prevention"
    )
    prevention: float = param(
        UNIT_INTERVAL, "share of issues prevented when a household's whole group co-produces"
    )
    emergency: IssueKind = group(IssueKind)
    utility: IssueKind = group(IssueKind)
    general: IssueKind = group(IssueKind)
    complex: IssueKind = group(IssueKind)
    service: IssueKind = group(IssueKind)
    work_spread: float = param(
        SPREAD, "sigma of the lognormal work per task (0 = every task takes its median)"
    )
    max_departments: int = param(DEPARTMENTS, "most departments a complex issue needs (>= 2)")
    max_wait: int = param(POSITIVE_DAYS, "days an open issue waits before it is abandoned")
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
    record_days: float = param(
        NON_NEGATIVE, "grid-worker days to record and report one issue found on patrol"
    )
    building_leaders: bool = param(BOOLEAN, "三长制: co-producers report neighbours' issues")
    leader_report: float = param(UNIT_INTERVAL, "daily chance a co-producing neighbour reports")
    households_per_leader: float = param(POSITIVE, "households per building leader (楼栋长)")
    leader_stipend: float = param(NON_NEGATIVE, "stipend per building leader, staff-days per day")
    sensing_max: float = param(
        UNIT_INTERVAL, "daily sensing chance of a sensable issue, full cover"
    )
    sensable_share: float = param(UNIT_INTERVAL, "share of department issues sensors can detect")
    digital_scale: float = param(
        POSITIVE, "digital spending, staff-days per day per 10,000 residents, for 63% coverage"
    )


@dataclass
class BudgetShares:
    """Shares of the government budget left after the levers' running costs; they sum to 1."""

    staff: float = param(UNIT_INTERVAL, "handling staff: departments and community workstations")
    grid_workers: float = param(UNIT_INTERVAL, "grid workers (网格员) patrolling grid units")
    digital_platform: float = param(UNIT_INTERVAL, "digital platform (城市大脑/一网统管)")
    purchase_of_services: float = param(UNIT_INTERVAL, "purchase of services (政府购买服务)")
    points_rewards: float = param(UNIT_INTERVAL, "points rewards (积分) to co-producers")


@dataclass
class DevolutionConfig:
    """Decentralisation (治理重心下移): authority and resources, two separate levers."""

    authority: float = param(UNIT_INTERVAL, "share of department issues local handlers decide")
    resources: float = param(UNIT_INTERVAL, "share of the staff budget moved to local handlers")
    training_days: float = param(
        NON_NEGATIVE,
        "workstation staff-days per day per 10,000 residents that full authority takes "
        "(training, upkeep of competence)",
    )


@dataclass
class GovernmentConfig:
    """Street office and district departments, one budget (1 unit = 1 staff-day)."""

    budget: float = param(
        NON_NEGATIVE, "budget, staff-days per day per 10,000 residents (full-time equivalents)"
    )
    departments: int = param(DEPARTMENTS, "K district departments, one issue category each")
    budget_shares: BudgetShares = group(BudgetShares)
    devolution: DevolutionConfig = group(DevolutionConfig)
    fix_quality: float = param(UNIT_INTERVAL, "chance a fix holds, the same for every handler")
    dispatch_delay: int = param(DAYS, "days to pass an issue up to a department")
    handoff_delay: int = param(DAYS, "days to hand a task to the next department")
    data_sharing: float = param(UNIT_INTERVAL, "shared data: share of hand-off delay removed")
    data_sharing_cost: float = param(
        NON_NEGATIVE, "running cost of full data sharing, staff-days per day per 10,000 residents"
    )
    points_value: float = param(NON_NEGATIVE, "payoff units one staff-day of points buys")
    points_cap: float = param(NON_NEGATIVE, "most points payoff per co-producer per day")


@dataclass
class PartySplit:
    """How party members' time is spent; the shares sum to 1."""

    mobilise: float = param(UNIT_INTERVAL, "mobilising co-producers (党员带头)")
    coordinate: float = param(UNIT_INTERVAL, "coordinating departments (吹哨)")
    contact: float = param(UNIT_INTERVAL, "contacting residents (联系群众)")


@dataclass
class PartyConfig:
    """Party branches (one per community) and the street party committee (一核多元)."""

    capacity: float = param(NON_NEGATIVE, "party member-days per day per 10,000 residents")
    split: PartySplit = group(PartySplit)
    whistle: bool = param(BOOLEAN, "街道吹哨、部门报到: joint dispatch of complex issues")
    whistle_cost: float = param(POSITIVE, "party member-days one joint dispatch takes")
    whistle_staff_days: float = param(
        NON_NEGATIVE, "staff-days each department called spends reporting (报到) per dispatch"
    )
    mobilisation_effect: float = param(NON_NEGATIVE, "most payoff bonus per co-producer per day")
    mobilisation_scale: float = param(
        POSITIVE, "member-days per day per 10,000 residents for 63% of the effect"
    )
    contacts_per_day: float = param(NON_NEGATIVE, "households contacted per member-day")
    contact_gain: float = param(UNIT_INTERVAL, "trust gained per contact, share of 1 - trust")


@dataclass
class SocialOrgsConfig:
    """Social organisations (社会组织) and 三社联动."""

    sanshe: bool = param(BOOLEAN, "三社联动: service needs become projects run by social orgs")
    initial_capacity: float = param(POSITIVE, "social workers of a new organisation")
    max_capacity: float = param(POSITIVE, "most social workers an organisation can have")
    wage: float = param(NON_NEGATIVE, "staff-days per social worker per day")
    price: float = param(NON_NEGATIVE, "staff-days the government pays per contracted service")
    learning: float = param(NON_NEGATIVE, "social workers added per service delivered")
    decay: float = param(UNIT_INTERVAL, "daily share of workers lost while funds are short")
    reserve_days: float = param(NON_NEGATIVE, "days of wages below which funds are short")
    community_fund_share: float = param(UNIT_INTERVAL, "share of purchase budget to 社区基金")
    incubation_grant: float = param(
        POSITIVE, "staff-days a community fund grants to found one organisation"
    )
    organising_effect: float = param(NON_NEGATIVE, "most increase of r from organising")
    organising_scale: float = param(
        POSITIVE, "social workers per 10,000 residents for 63% of the effect"
    )


@dataclass
class AccountabilityConfig:
    """考核/问责: monthly scoring of handlers on the 三率 and the response to pressure."""

    enabled: bool = param(BOOLEAN, "score and rank handlers each period (考核)")
    period_days: int = param(POSITIVE_DAYS, "days between assessments (30 = monthly)")
    target: float = param(UNIT_INTERVAL, "score below which a handler is under pressure")
    bottom_share: float = param(
        UNIT_INTERVAL, "share of each handler type, ranked by score, named and under pressure"
    )
    effort_cost: float = param(NON_NEGATIVE, "extra work per task under pressure, share")
    effort_gain: float = param(UNIT_INTERVAL, "share of fix failures the extra effort avoids")
    gaming: float = param(UNIT_INTERVAL, "share of tasks under pressure closed early (gaming)")
    gaming_saving: float = param(
        UNIT_INTERVAL, "share of work an early closure skips; its fix holds that much less"
    )


@dataclass
class MetricsConfig:
    """How headline metrics are measured."""

    burn_in: int = param(DAYS, "days excluded from every headline metric")
    callback_days: int = param(DAYS, "days after closure of the return call (回访)")


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
    lhs = "lhs"  # Latin hypercube over the levers (with posterior draws of calibrated keys)
    prim = "prim"  # scenario discovery on another experiment's stored runs (no runs)
    abc = "abc"  # calibration: ABC-SMC (pyabc) over experiment.priors
    posterior = "posterior"  # draws from a stored calibration's posterior


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
    method: Method = param(
        one_of_enum(Method), "grid, sobol, morris, lhs, prim, abc (calibration), posterior"
    )
    levers: dict[str, list[float]] = param(MAPPING, "sobol/morris/lhs: [low, high] per key")
    samples: int = param(REPLICATES, "sobol: base N; morris: trajectories; lhs: points")
    outputs: list[str] = param(TEXTS, "metrics tabulated and analysed")
    workers: int = param(WORKERS, "processes running the experiment in parallel")
    particles: int | None = optional(OPTIONAL_POSITIVE_INT, "abc: particles per generation")
    generations: int | None = optional(OPTIONAL_POSITIVE_INT, "abc: generations of ABC-SMC")
    min_epsilon: float | None = optional(
        OPTIONAL_NON_NEGATIVE, "abc: stop once the acceptance threshold is this small"
    )
    priors: dict[str, list[Any]] = param(
        MAPPING, "abc: uniform prior [low, high] per key (discrete for an integer key)"
    )
    targets: str | None = optional(
        or_null(PATH), "abc, posterior: targets file (data/targets/*.yaml)"
    )
    calibration: str | None = optional(
        or_null(TEXT),
        "abc: name to store the calibration under; posterior: the calibration to draw from",
    )
    output: str | None = optional(
        or_null(PATH),
        "abc: where to write the posterior medians (default configs/calibrated/NAME.yaml)",
    )
    sampler: str | None = optional(
        Rule("multicore or dask (or null)", lambda v: v in (None, "multicore", "dask")),
        "abc: multicore (this machine) or dask (a Dask cluster)",
    )
    dask_address: str | None = optional(
        or_null(TEXT), "abc with sampler=dask: scheduler address; null starts a local cluster"
    )
    draws: int | None = optional(OPTIONAL_POSITIVE_INT, "posterior: parameter sets drawn")
    source: str | None = optional(
        or_null(TEXT), "prim: the experiment whose stored runs are analysed"
    )
    questions: list[dict[str, Any]] | None = optional(
        or_null(RECORDS), "prim: questions (name, metric, kind beats/all_below/all_above, ...)"
    )
    min_coverage: float | None = optional(
        OPTIONAL_NON_NEGATIVE, "prim: choose the densest box with at least this coverage"
    )


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
    accountability: AccountabilityConfig = group(AccountabilityConfig)
    shock: ShockConfig = group(ShockConfig)
    structure: StructureConfig = group(StructureConfig)
    engine: Engine = param(one_of_enum(Engine), "agents (reference) or fast (kernels)")
    seed: int = param(SEED, "random seed; same config + seed = same run")
    steps: int = param(DAYS, "days to simulate (1 step = 1 day = 1 MCS)")
    metrics: MetricsConfig = group(MetricsConfig)
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
