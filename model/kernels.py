"""Array kernels of the fast engine (numba). Each mirrors a Resident method line by line, except
that the co-producers of a household's group are read from the game's tables (kept up to date by
:func:`co_production_round`) rather than counted again."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import NamedTuple, cast

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from model.issues import MAX_SEVERITY
from model.population import ABANDONED, FIX_FAILED, FIX_HELD
from model.routing import generator
from model.world import BOTTOM_EDGE, LEFT_EDGE, RIGHT_EDGE, TOP_EDGE


def parameter_record(config, fields: dict[str, str]) -> np.ndarray:
    """A kernel's scalar parameters as one record: a length-1 structured array whose float64
    field ``name`` holds the value of config key ``fields[name]`` (read once, when the engine
    is built). Numba types it from its dtype, passes it at the cost of one array argument, and
    a kernel reads ``parameters[0].name``."""
    record = np.zeros(1, np.dtype([(name, np.float64) for name in fields]))
    for name, key in fields.items():
        record[name] = float(attrgetter(key)(config))
    return record


GAME_PARAMETERS = {  # field of the record: config key it is read from
    "cost": "residents.cost",  # c, payoff units per group
    "noise": "residents.noise",  # K, payoff units
    "exploration": "residents.exploration",  # probability per elementary update
}


class GameTables(NamedTuple):
    """What :func:`co_production_round` keeps between calls. Entry ``N`` of the ``N + 1`` long
    tables is the ghost cell of the lattice's ghost-padded table: its share is 0, so its value
    stays 0, and its count means nothing. (Numba types a namedtuple by its class name: a second
    class of this name in one process, e.g. a reloaded copy of this module, slows every call.)"""

    counted: np.ndarray  # (N,) bool: the strategies that ``counts`` are for
    counts: np.ndarray  # (N + 1,) int32: n_c of the group centred on each household
    synergy: np.ndarray  # (N,) the r_g that ``share`` is for
    bonus: np.ndarray  # (N,) the bonuses that ``net_bonus`` is for
    share: np.ndarray  # (N + 1,) r_g / |g|, payoff units per co-producer in group g
    value: np.ndarray  # (N + 1,) r_g n_c(g) / |g|, payoff units to each member of group g
    net_bonus: np.ndarray  # (N,) b_i - c |G_i|: what co-producing adds to i's own payoff

    @classmethod
    def empty(cls, n: int) -> GameTables:
        """Tables for ``n`` households, for nobody co-producing and for no known synergy or
        bonus (NaN), so the first call computes what depends on them."""
        return cls(
            counted=np.zeros(n, bool),
            counts=np.zeros(n + 1, np.int32),
            synergy=np.full(n, np.nan),
            bonus=np.full(n, np.nan),
            share=np.zeros(n + 1),
            value=np.zeros(n + 1),
            net_bonus=np.zeros(n),
        )


def neighbour(neighbours, i, j):
    """Column ``j`` (0..3) of row ``i`` of the lattice's ghost-padded table
    (:attr:`model.world.Lattice.ghost_padded_neighbours`): read from ``neighbours`` when it is
    that table, computed from ``i`` when it is the lattice's :class:`model.world.Grid`."""
    if isinstance(neighbours, np.ndarray):
        return int(neighbours[i, j])
    return int(_grid_neighbour(neighbours, i, j))


@overload(neighbour, inline="always")
def _neighbour_in_kernels(neighbours, i, j):
    """:func:`neighbour` inside kernels, chosen by the type of ``neighbours`` when compiling."""
    if isinstance(neighbours, types.Array):
        return lambda neighbours, i, j: neighbours[i, j]
    return lambda neighbours, i, j: _grid_neighbour(neighbours, i, j)


@njit(cache=True)
def _grid_neighbour(grid, i, j):
    """Column ``j`` of row ``i`` of the ghost-padded table of the lattice of shape ``grid``:
    the left, down, up and right neighbours (x - 1, y - 1, y + 1, x + 1) in this order; on an
    open grid the missing ones are left out and the row is filled with the ghost cell ``N``.
    The game reads neighbours of random cells: on large maps the table (16 bytes a cell) no
    longer fits in the cache and reading it costs more than this arithmetic on the cell's
    border flags (1 byte; :data:`model.engines.NEIGHBOUR_TABLE_CELLS`)."""
    height, size, edge = grid.height, grid.size, grid.edges[i]
    if grid.torus:
        if j == 0:
            return i - height + size * (edge & LEFT_EDGE != 0)
        if j == 1:
            return i - 1 + height * (edge & BOTTOM_EDGE != 0)
        if j == 2:
            return i + 1 - height * (edge & TOP_EDGE != 0)
        return i + height - size * (edge & RIGHT_EDGE != 0)
    left = edge & LEFT_EDGE == 0
    if left and j == 0:
        return i - height
    k = j - left  # the k-th of the neighbours after the left one
    down = edge & BOTTOM_EDGE == 0
    if down and k == 0:
        return i - 1
    k -= down
    up = edge & TOP_EDGE == 0
    if up and k == 0:
        return i + 1
    k -= up
    if edge & RIGHT_EDGE == 0 and k == 0:
        return i + height
    return size


@njit(cache=True)
def _add_to_groups(x, delta, neighbours, counts, share, value):
    """Add ``delta`` co-producers to the groups of ``x`` (its own and its neighbours') and
    update their shares."""
    counts[x] += delta
    value[x] = share[x] * counts[x]
    for j in range(4):
        g = neighbour(neighbours, x, j)
        counts[g] += delta
        value[g] = share[g] * counts[g]


@njit(cache=True)
def update_tables(participating, group_synergy, bonus, neighbours, degree, cost, tables):
    """Bring ``tables`` up to date in one pass over the households: the share, value and net
    bonus of each whose ``r_g`` or bonus changed since the last call, and the counts and values
    of the groups of each whose strategy changed. A value is set again to share times count
    whenever either changes, so it ends the same in whatever order the two kinds of change
    come. One pass in place of three (find what changed, recount, recompute every share):
    the bonuses change every day with the points rate, most synergies with the need factor
    (:func:`set_game_fields`)."""
    counted, counts, share, value = tables.counted, tables.counts, tables.share, tables.value
    for i in range(len(participating)):
        if group_synergy[i] != tables.synergy[i] or bonus[i] != tables.bonus[i]:
            size = degree[i] + 1
            share[i] = group_synergy[i] / size
            value[i] = share[i] * counts[i]
            tables.net_bonus[i] = bonus[i] - cost * size
            tables.synergy[i] = group_synergy[i]
            tables.bonus[i] = bonus[i]
        if participating[i] != counted[i]:
            _add_to_groups(i, 1 if participating[i] else -1, neighbours, counts, share, value)
            counted[i] = participating[i]


@njit(cache=True, inline="always")
def _payoff(i, participating, neighbours, value, net_bonus):
    """Payoff of ``i``: the shares ``value[g]`` of its groups, plus ``net_bonus[i]`` if it
    co-produces. The bonus is read either way and chosen without a branch: whether ``i``
    co-produces is a coin toss to the processor, and a mispredicted branch here discards the
    loads of the shares in flight (13% of an update's time at 10⁶ households, 5% at 10⁴)."""
    total = value[i]
    for j in range(4):
        total += value[neighbour(neighbours, i, j)]
    with_bonus = total + net_bonus[i]
    return with_bonus if participating[i] else total


@njit(cache=True)
def _flip(x, participating, counted, neighbours, counts, share, value):
    """Toggle ``x``'s strategy and update the counts and shares of its groups."""
    participating[x] = counted[x] = not participating[x]
    _add_to_groups(x, 1 if participating[x] else -1, neighbours, counts, share, value)


@njit(cache=True)
def co_production_round(
    participating, group_synergy, bonus, neighbours, degree, tables, game, n_updates, seed
):
    """``n_updates`` elementary updates of random sequential Fermi imitation (in place).

    Same rule as :meth:`agents.Resident.imitate_neighbour`. ``neighbours`` is the lattice's
    :class:`model.world.Grid` or its ghost-padded table (:func:`neighbour`). The
    :class:`GameTables` are first brought up to date, then kept up to date with each strategy
    change, so a payoff reads five shares and a bonus. ``game`` is the record of
    :data:`GAME_PARAMETERS`.
    """
    np.random.seed(seed)
    noise, exploration = game[0].noise, game[0].exploration
    update_tables(participating, group_synergy, bonus, neighbours, degree, game[0].cost, tables)
    counted, counts, share, value = tables.counted, tables.counts, tables.share, tables.value
    net_bonus = tables.net_bonus
    n = len(participating)
    for _ in range(n_updates):
        x = np.random.randint(0, n)
        if exploration > 0 and np.random.random() < exploration:
            _flip(x, participating, counted, neighbours, counts, share, value)
            continue
        y = neighbour(neighbours, x, np.random.randint(0, 4))
        while y == n:  # a ghost slot at an open border: draw again (uniform over neighbours)
            y = neighbour(neighbours, x, np.random.randint(0, 4))
        if participating[x] == participating[y]:
            continue
        gap = _payoff(x, participating, neighbours, value, net_bonus)
        gap -= _payoff(y, participating, neighbours, value, net_bonus)
        if np.random.random() < 1.0 / (1.0 + np.exp(gap / noise)):
            _flip(x, participating, counted, neighbours, counts, share, value)


@njit(cache=True)
def draw_seed(addresses):
    """The day's seed of :func:`co_production_round`, drawn from the model's generator (whose
    :func:`model.routing.generator_addresses` are ``addresses``): the number
    ``int(rng.integers(2**62))`` draws, without the 9 µs of that call in Python."""
    return generator(addresses).integers(0, 2**62)


def _prefetch(typingctx, array, index):
    """Inside a kernel, ask the processor to start loading ``array[index]`` into its caches
    (LLVM's ``llvm.prefetch``: a read, kept in every cache level). A hint: it changes no
    value, only when the value arrives (LLVM Language Reference, ``llvm.prefetch``)."""

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0])
        item = cgutils.get_item_pointer(
            context, builder, signature.args[0], data, [args[1]], wraparound=False
        )
        i32 = ir.IntType(32)
        pointer = builder.bitcast(item, ir.IntType(8).as_pointer())
        function = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [pointer.type, i32, i32, i32]),
            "llvm.prefetch.p0",
        )
        builder.call(function, [pointer, i32(0), i32(3), i32(1)])  # read, keep, data cache
        return context.get_dummy_value()

    return types.void(array, index), codegen


prefetch = cast(Callable[[np.ndarray, int], None], intrinsic(_prefetch))  # typed for the checker


TIES_AHEAD = 64
"""How many social ties ahead :func:`wellbeing` asks for the trust of the household at the
other end (:func:`prefetch`), on maps where it does (:data:`model.engines.PREFETCH_TIES_CELLS`)."""


WELLBEING_PARAMETERS = {  # field of the record: config key it is read from
    "max_wait": "issues.max_wait",  # days
    "trust_gain": "residents.trust_gain",
    "trust_loss": "residents.trust_loss",
    "trust_patience": "residents.trust_patience",  # days
    "contact_gain": "party.contact_gain",
    "social_influence": "residents.social_influence",
    "service_memory": "residents.service_memory",  # factor per day
    "baseline": "residents.satisfaction_baseline",
    "service_gain": "residents.service_gain",
    "public_goods_gain": "residents.public_goods_gain",
    "need_penalty": "residents.need_penalty",
    "delay_penalty": "residents.delay_penalty",
    "satisfaction_rate": "residents.satisfaction_rate",  # share per day
}


@njit(cache=True)
def wellbeing(
    p_trust,
    p_satisfaction,
    p_record,
    outcome,
    delay,
    contacted,
    group_counts,
    open_issue,
    issue_created,
    issue_severity,
    indptr,
    indices,
    degree,
    day,
    parameters,
    ties_ahead,
):
    """:meth:`Resident.update_trust`, then :meth:`Resident.listen_to_neighbours` (on the trust
    everyone has after that) and :meth:`Resident.update_satisfaction`, for all households.
    ``group_counts`` are the co-producers of each household's group (:attr:`GameTables.counts`,
    up to date after the day's game); ``degree`` is the lattice's; ``day`` is today;
    ``parameters`` is the record of :data:`WELLBEING_PARAMETERS`. With ``ties_ahead`` above 0
    it asks for the trust at the other end of the tie that many ties ahead (:func:`prefetch`):
    on large maps a rewired tie's other end is anywhere in memory."""
    p = parameters[0]  # read into locals once: in the loops numba would reload every field
    social_influence = p.social_influence
    baseline = p.baseline
    service_gain = p.service_gain
    public_goods_gain = p.public_goods_gain
    need_penalty = p.need_penalty
    delay_penalty = p.delay_penalty
    max_wait = p.max_wait
    satisfaction_rate = p.satisfaction_rate
    trust_gain = p.trust_gain
    trust_patience = p.trust_patience
    trust_loss = p.trust_loss
    contact_gain = p.contact_gain
    service_memory = p.service_memory
    n = len(p_trust)
    for i in range(n):
        held = outcome[i] == FIX_HELD
        bad = outcome[i] == FIX_FAILED or outcome[i] == ABANDONED
        if held:
            p_trust[i] += trust_gain * np.exp(-delay[i] / trust_patience) * (1 - p_trust[i])
        elif bad:
            p_trust[i] -= trust_loss * p_trust[i]
        if contacted[i]:
            p_trust[i] += contact_gain * (1 - p_trust[i])
        p_record[i] = service_memory * p_record[i] + (1.0 if held else -1.0 if bad else 0.0)
    before = p_trust.copy()
    for i in range(n):
        start, stop = indptr[i], indptr[i + 1]
        if ties_ahead:
            for k in range(start + ties_ahead, min(stop + ties_ahead, len(indices))):
                prefetch(before, indices[k])
        if stop > start:
            total = 0.0
            for k in range(start, stop):
                total += before[indices[k]]
            p_trust[i] = (1 - social_influence) * before[i] + social_influence * total / (
                stop - start
            )
        co_producers = group_counts[i]
        record = p_record[i]
        target = (
            baseline
            + service_gain * record / (1 + abs(record))
            + public_goods_gain * co_producers / (degree[i] + 1)
        )
        issue = open_issue[i]
        if issue >= 0:
            target -= need_penalty * issue_severity[issue] / MAX_SEVERITY
            target -= delay_penalty * min(1.0, (day - issue_created[issue]) / max_wait)
        target = min(1.0, max(0.0, target))
        p_satisfaction[i] += satisfaction_rate * (target - p_satisfaction[i])


@njit(cache=True)
def raise_issues(
    group_counts, open_issue, neighbours, degree, addresses, rate, prevention, contagion, unreported
):
    """:meth:`Resident.raise_issue` for all households: whether each raises an issue today.
    ``group_counts`` are the co-producers of each household's group (itself and its
    neighbours: :attr:`GameTables.counts`, up to date after the day's game); one uniform draw
    per household, in their order, from the generator whose
    :func:`model.routing.generator_addresses` are ``addresses`` (the numbers of
    ``rng.random(N)``); ``neighbours`` and ``degree`` are the lattice's tables; ``unreported``
    marks the households with an undiscovered issue raised before today (read only when
    ``contagion`` is not 0)."""
    rng = generator(addresses)
    n = len(open_issue)
    raised = np.zeros(n, np.bool_)
    for i in range(n):
        co_producers = group_counts[i]
        chance = rate * (1 - prevention * (co_producers / (degree[i] + 1)))
        if contagion != 0:
            spreading = 0
            for j in range(degree[i]):
                spreading += unreported[neighbours[i, j]]
            chance = chance + contagion * spreading
        raised[i] = rng.random() < chance and open_issue[i] < 0  # a draw for every household
    return raised


@njit(cache=True)
def report_issues(
    addresses,
    owners,
    self_report,
    participating,
    neighbours,
    degree,
    leader_report,
    building_leaders,
):
    """:meth:`Resident.report_issue`, then :meth:`Resident.report_for_neighbours`, for the
    unreported issues whose households are ``owners`` (in the issues' order): whether each
    household reports its own, with chance ``self_report`` at the same position
    (:meth:`model.discovery.Discovery.self_report_chance`); then, if ``building_leaders``, for
    each issue still unreported, whether one of the ``k`` co-producing lattice neighbours of its
    household reports it, with chance ``1 - (1 - leader_report)^k``. One uniform draw per
    issue, then one per issue left, from the generator whose
    :func:`model.routing.generator_addresses` are ``addresses``."""
    rng = generator(addresses)
    reported = np.empty(len(owners), np.bool_)
    for i in range(len(owners)):
        reported[i] = rng.random() < self_report[i]
    left = np.flatnonzero(~reported)
    by_neighbour = np.zeros(len(left) if building_leaders else 0, np.bool_)
    for k in range(len(by_neighbour)):
        household = owners[left[k]]
        leaders = 0.0
        for j in range(degree[household]):
            leaders += participating[neighbours[household, j]]
        by_neighbour[k] = rng.random() < 1 - (1 - leader_report) ** leaders
    return reported, by_neighbour


@njit(cache=True)
def patrol_and_sense(addresses, ids, origin, grid_unit, patrol_chance, sensable, sensing):
    """Which of the undiscovered issues ``ids`` grid patrols find today, then which of the
    others sensors see (:meth:`model.discovery.Discovery.patrol_and_sense`): one uniform draw
    per issue against ``patrol_chance`` of its household's grid unit, then one per issue left
    against ``sensing`` (seen only if ``sensable``), from the generator whose
    :func:`model.routing.generator_addresses` are ``addresses`` (the numbers of
    ``rng.random(len(ids))`` and then ``rng.random(left)``)."""
    rng = generator(addresses)
    n = len(ids)
    patrolled = np.empty(n, np.bool_)
    for k in range(n):
        patrolled[k] = rng.random() < patrol_chance[grid_unit[origin[ids[k]]]]
    sensed = np.zeros(n, np.bool_)
    for k in range(n):
        if not patrolled[k]:
            sensed[k] = rng.random() < sensing and sensable[ids[k]]  # a draw for each issue left
    return patrolled, sensed


@njit(cache=True)
def set_game_fields(
    bonus,
    group_synergy,
    community,
    unit,
    open_issue,
    unit_households,
    base_bonus,
    mobilisation,
    synergy,
    organising,
    need_weight,
    need_reference,
):
    """Today's game fields of every household: ``bonus = base_bonus + mobilisation`` of its
    community, ``group_synergy = synergy * organising`` of its community ``* need`` of its
    grid unit, where ``need = (1 - w) + w min(1, u / u_ref)`` and ``u`` is the share of the
    unit's households with an open issue (:meth:`model.model.CoGovModel.update_game_fields`)."""
    open_households = np.zeros(len(unit_households), np.int64)
    for i in range(len(open_issue)):
        if open_issue[i] >= 0:
            open_households[unit[i]] += 1
    unmet = open_households / unit_households
    need = (1 - need_weight) + need_weight * np.minimum(1.0, unmet / need_reference)
    for i in range(len(bonus)):
        bonus[i] = base_bonus + mobilisation[community[i]]
        group_synergy[i] = synergy * organising[community[i]] * need[unit[i]]


@njit(cache=True)
def collect_points(points, participating, rate):
    """:meth:`Resident.collect_points` for all households: co-producers earn ``rate``."""
    for i in range(len(points)):
        if participating[i]:
            points[i] += rate
