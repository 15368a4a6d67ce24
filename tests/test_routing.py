"""The street dispatch hub's compiled routing (:mod:`model.routing`) draws what a plain Python
loop over the issues draws from the model's generator, in the same order, and leaves the
generator where that loop would; its routes follow the rules of ODD 7.5. So do the other
compiled passes that draw from the model's generator (new issues, residents' reports,
pressure draws, resolved issues) and the task completion."""

from __future__ import annotations

import copy

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from model import kernels
from model.flow import (
    NO_DRAW,
    apply_pressure,
    complete_tasks,
    draw_categories,
    draw_issues,
    draw_pressure,
    file_tasks,
    resolve_issues,
)
from model.issues import COMPLEX, DONE, MAX_SEVERITY, ROUTES, SERVICE, SERVICE_KIND
from model.population import FIX_FAILED, FIX_HELD
from model.routing import (
    generator,
    generator_addresses,
    route_issues,
    sample_without_replacement,
)
from model.world import von_neumann_lattice
from tests.conftest import build, world

DEPARTMENT, JOINT, LOCAL, SOCIAL_ORG = range(4)
assert ROUTES == ("department", "joint", "local", "social_org")


@njit
def _sample(addresses, population, k):
    return sample_without_replacement(generator(addresses), population, k)


@njit
def _draws(addresses, highs):
    rng = generator(addresses)
    out = np.empty(3 * len(highs))
    for i in range(len(highs)):
        out[3 * i] = rng.random()
        out[3 * i + 1] = rng.standard_normal()
        out[3 * i + 2] = rng.integers(0, highs[i])
    return out


def _twins(seed: int, odd: bool) -> tuple[np.random.Generator, np.random.Generator]:
    """Two generators in the same state; with ``odd``, half of a 64-bit word is left in the
    buffer that 32-bit draws share."""
    pair = np.random.default_rng(seed), np.random.default_rng(seed)
    for rng in pair:
        rng.integers(0, 2**31, size=int(odd), dtype=np.uint32)
    return pair


@given(
    seed=st.integers(0, 2**32),
    odd=st.booleans(),
    highs=st.lists(st.integers(1, 2**40), min_size=1, max_size=20),
)
def test_a_kernel_draws_the_generators_own_numbers(seed, odd, highs):
    ours, numpys = _twins(seed, odd)
    drawn = _draws(generator_addresses(ours), np.array(highs, np.int64))
    expected = [
        x
        for high in highs
        for x in (numpys.random(), numpys.standard_normal(), numpys.integers(0, high))
    ]
    assert drawn.tolist() == expected
    assert ours.bit_generator.state == numpys.bit_generator.state


@given(seed=st.integers(0, 2**32), odd=st.booleans(), data=st.data())
def test_sampling_without_replacement_is_numpys_choice(seed, odd, data):
    n = data.draw(st.integers(1, 3_000))
    k = data.draw(st.integers(1, min(n, 40)))
    population = np.arange(n, dtype=np.int64) * 7 + 3
    ours, numpys = _twins(seed, odd)
    sample = _sample(generator_addresses(ours), population, k)
    np.testing.assert_array_equal(sample, numpys.choice(population, size=k, replace=False))
    assert ours.bit_generator.state == numpys.bit_generator.state


@settings(max_examples=30)
@given(seed=st.integers(0, 2**32), odd=st.booleans(), data=st.data())
def test_sampling_from_a_large_population_is_numpys_choice(seed, odd, data):
    """Above 10,000 numpy shuffles the tail of a range when it draws more than a fiftieth, and
    uses Floyd's algorithm when it draws fewer."""
    n = data.draw(st.integers(10_001, 20_000))
    k = data.draw(st.one_of(st.integers(1, n // 50), st.integers(n // 50 + 1, n)))
    population = np.arange(n, dtype=np.int64) * 7 + 3
    ours, numpys = _twins(seed, odd)
    sample = _sample(generator_addresses(ours), population, k)
    np.testing.assert_array_equal(sample, numpys.choice(population, size=k, replace=False))
    assert ours.bit_generator.state == numpys.bit_generator.state


@given(seed=st.integers(0, 2**32), odd=st.booleans(), leaders=st.booleans(), n=st.integers(0, 40))
def test_residents_reports_draw_what_numpy_would(seed, odd, leaders, n):
    """The compiled reports (:func:`model.kernels.report_issues`) are the array rule written
    with numpy's generator: owners report with chance ``ease * (floor + (1 - floor) trust)``,
    then the co-producing neighbours of the rest with chance ``1 - (1 - p)^k``."""
    lattice = von_neumann_lattice(9, 7, torus=False)
    setup = np.random.default_rng(seed)
    owners = setup.choice(lattice.size, size=n, replace=False)
    trust, participating = setup.random(lattice.size), setup.random(lattice.size) < 0.5
    ours, numpys = _twins(seed, odd)
    reported, by_neighbour = kernels.report_issues(
        generator_addresses(ours),
        owners,
        0.8 * (0.3 + 0.7 * trust[owners]),
        participating,
        lattice.neighbours,
        lattice.degree,
        0.4,
        leaders,
    )
    expected = numpys.random(n) < 0.8 * (0.3 + 0.7 * trust[owners])
    np.testing.assert_array_equal(reported, expected)
    if leaders:
        k = lattice.neighbours_with(participating, owners[~expected])
        np.testing.assert_array_equal(by_neighbour, numpys.random(len(k)) < 1 - 0.6**k)
    else:
        assert len(by_neighbour) == 0
    assert ours.bit_generator.state == numpys.bit_generator.state


@given(seed=st.integers(0, 2**32), odd=st.booleans(), n=st.integers(0, 40))
def test_patrols_and_sensors_draw_what_numpy_would(seed, odd, n):
    """The compiled patrol and sensing (:func:`model.kernels.patrol_and_sense`) are the array
    rule written with numpy's generator: each issue is found by patrol with its grid unit's
    chance, then each issue left is seen with chance ``sensing`` if it is sensable."""
    setup = np.random.default_rng(seed)
    households, units = 60, 5
    ids = np.sort(setup.choice(100, size=n, replace=False))
    origin = setup.integers(0, households, 100)
    grid_unit = setup.integers(0, units, households)
    chance, sensable = setup.random(units), setup.random(100) < 0.5
    ours, numpys = _twins(seed, odd)
    patrolled, sensed = kernels.patrol_and_sense(
        generator_addresses(ours), ids, origin, grid_unit, chance, sensable, 0.3
    )
    expected = numpys.random(n) < chance[grid_unit[origin[ids]]]
    np.testing.assert_array_equal(patrolled, expected)
    left = ids[~expected]
    expected_seen = sensable[left] & (numpys.random(len(left)) < 0.3)
    np.testing.assert_array_equal(ids[sensed], left[expected_seen])
    assert ours.bit_generator.state == numpys.bit_generator.state


@given(seed=st.integers(0, 2**32), odd=st.booleans(), n=st.integers(0, 50))
def test_new_issues_draw_what_numpy_would(seed, odd, n):
    """:func:`model.flow.draw_issues` makes numpy's draws in the order the rule reads."""
    shares = np.array([0.1, 0.2, 0.3, 0.15, 0.25])
    ours, numpys = _twins(seed, odd)
    kind, category, needed, sensable, severity = draw_issues(
        generator_addresses(ours), shares, n, 6, 3, 0.4
    )
    expected_kind = draw_categories(numpys, shares, n)
    service = expected_kind == SERVICE_KIND
    np.testing.assert_array_equal(kind, expected_kind)
    np.testing.assert_array_equal(category, np.where(service, SERVICE, numpys.integers(0, 6, n)))
    several = numpys.integers(2, 4, n)
    expected_needed = np.where(service, 0, np.where(expected_kind == COMPLEX, several, 1))
    np.testing.assert_array_equal(needed, expected_needed)
    np.testing.assert_array_equal(sensable, ~service & (numpys.random(n) < 0.4))
    np.testing.assert_array_equal(severity, numpys.integers(1, MAX_SEVERITY + 1, n))
    assert ours.bit_generator.state == numpys.bit_generator.state


def python_routes(rng, issues, hub):
    """The hub's rule as a Python loop over the issues, drawing from numpy's generator."""
    route, tasks = [], []
    whistles = hub["whistles"]
    today, delay = hub["today"], hub["delay"]
    for i, (category, departments, community) in enumerate(issues):
        count = max(1, departments)
        extra, start, sequential = 0.0, today, False
        if category == SERVICE:
            route.append(hub["service_route"][i])
            handlers = [hub["service_handler"][i]]
        else:
            needed = [category]
            if count > 1:
                others = hub["other_departments"][category]
                needed += rng.choice(others, size=count - 1, replace=False).tolist()
            handlers = [hub["department_handler"][d] for d in needed]
            if rng.random() < hub["authority"]:
                route.append(LOCAL)
                handlers = [hub["station_handler"][community]] * count
            elif count > 1 and whistles > 0:
                whistles -= 1
                route.append(JOINT)
                start, extra = today + delay, hub["extra"]
            else:
                route.append(DEPARTMENT)
                start, sequential = today + delay, True
        normals = rng.standard_normal(count).tolist()
        for k, (handler, normal) in enumerate(zip(handlers, normals, strict=True)):
            released = k == 0 or not sequential
            pressed = released and start <= today and hub["under_pressure"][handler]
            pressure = rng.random() if pressed else np.nan
            chained = sequential and k < count - 1
            tasks.append((i, handler, normal, extra, start, released, chained, pressure))
    return route, tasks


issue_lists = st.lists(
    st.tuples(st.integers(-1, 4), st.integers(1, 4), st.integers(0, 2)), max_size=30
)


@given(
    seed=st.integers(0, 2**32),
    issues=issue_lists,
    authority=st.sampled_from([0.0, 0.3, 1.0]),
    whistles=st.integers(0, 5),
    delay=st.integers(0, 3),
    pressure=st.lists(st.booleans(), min_size=13, max_size=13),
)
def test_routes_are_those_of_a_python_loop_over_the_issues(
    seed, issues, authority, whistles, delay, pressure
):
    departments = 5  # handlers 0-4; workstations 5-7; social organisations 8-12
    issues = [(c, 0 if c == SERVICE else d, w) for c, d, w in issues]
    service = [c == SERVICE for c, _, _ in issues]
    hub = {
        "service_handler": [8 + i % 5 if s else -1 for i, s in enumerate(service)],
        "service_route": [
            (SOCIAL_ORG if i % 3 else LOCAL) if s else -1 for i, s in enumerate(service)
        ],
        "other_departments": np.array(
            [[d for d in range(departments) if d != k] for k in range(departments)], np.int64
        ),
        "department_handler": np.arange(departments, dtype=np.int32),
        "station_handler": np.arange(5, 8, dtype=np.int32),
        "under_pressure": np.array(pressure),
        "authority": authority,
        "whistles": whistles,
        "today": 40,
        "delay": delay,
        "extra": 0.5,
    }
    ours, numpys = _twins(seed, False)
    columns = np.array(issues, np.int64).reshape(-1, 3).T
    route, *tasks = route_issues(
        generator_addresses(ours),
        columns[0].astype(np.int16),
        columns[1].astype(np.int16),
        columns[2].astype(np.int32),
        np.array(hub["service_handler"], np.int32),
        np.array(hub["service_route"], np.int8),
        hub["other_departments"],
        hub["department_handler"],
        hub["station_handler"],
        hub["under_pressure"],
        authority,
        whistles,
        hub["today"],
        delay,
        hub["extra"],
    )
    expected_route, expected_tasks = python_routes(numpys, issues, hub)
    assert route.tolist() == expected_route
    got = list(zip(*(column.tolist() for column in tasks), strict=True))
    assert len(got) == len(expected_tasks)
    for row, expected in zip(got, expected_tasks, strict=True):
        assert row[:7] == expected[:7]
        assert row[7] == expected[7] or (np.isnan(row[7]) and np.isnan(expected[7]))
    assert ours.bit_generator.state == numpys.bit_generator.state
    joint = np.count_nonzero(route == JOINT)
    assert joint <= whistles
    assert authority < 1 or not np.isin(route, [DEPARTMENT, JOINT]).any()


def test_a_copied_model_routes_with_its_own_generator():
    """The routing keeps where the model's generator lives; a copy of the model must draw from
    its own copy of it, as the original goes on drawing from the original."""
    model = build("structure=co_governance", *world(30, communities=2, units=4))
    model.run_for(10)
    twin = copy.deepcopy(model)
    model.run_for(30)
    twin.run_for(30)
    assert model.flow.routes == twin.flow.routes and sum(model.flow.routes.values()) > 0
    np.testing.assert_array_equal(model.flow.issues.view("route"), twin.flow.issues.view("route"))
    np.testing.assert_array_equal(model.population.trust, twin.population.trust)
    assert model.rng.bit_generator.state == twin.rng.bit_generator.state


@given(seed=st.integers(0, 2**32), odd=st.booleans(), pressed=st.lists(st.booleans(), max_size=30))
def test_pressure_draws_are_numpys_for_the_pressed_tasks_only(seed, odd, pressed):
    """:func:`model.flow.draw_pressure` draws one uniform number per task of an office under
    pressure, in the tasks' order, as numpy would, and none for the others."""
    pressed = np.array(pressed, bool)
    ours, numpys = _twins(seed, odd)
    expected = np.full(len(pressed), NO_DRAW)
    expected[pressed] = numpys.random(int(pressed.sum()))
    np.testing.assert_array_equal(draw_pressure(generator_addresses(ours), pressed), expected)
    assert ours.bit_generator.state == numpys.bit_generator.state


@given(
    draws=st.lists(st.one_of(st.none(), st.floats(0, 1, exclude_max=True)), max_size=30),
    gaming=st.floats(0, 1),
)
def test_pressure_changes_work_and_fixes_as_the_array_rule_does(draws, gaming):
    """:func:`model.flow.apply_pressure` games the tasks whose draw is below ``gaming``, puts
    effort into the other pressed tasks and leaves the rest as they are; the effort's time adds
    up in the tasks' order."""
    pressure = np.array([NO_DRAW if d is None else d for d in draws], float)
    ids = np.arange(len(draws))[::-1].copy()  # not in the order of the rows
    rng = np.random.default_rng(len(draws))
    work = rng.lognormal(size=len(draws))
    ours_work, hold = work.copy(), np.zeros(len(draws))
    used, gamed, effort = apply_pressure(
        ids, pressure, ours_work, hold, 0.8, gaming, 0.5, 0.3, 0.4, 1.0
    )
    pressed = ~np.isnan(pressure)
    is_gamed = pressed & (pressure < gaming)
    is_effort = pressed & ~is_gamed
    expected_used = 1.0
    for extra in (work[ids][is_effort] * 0.3).tolist():
        expected_used += extra
    expected_work = work[ids]
    expected_work[is_gamed] *= 1 - 0.5
    expected_work[is_effort] *= 1 + 0.3
    expected_hold = np.where(is_gamed, 0.8 * 0.5, np.where(is_effort, 1 - 0.2 * 0.6, 0.8))
    np.testing.assert_array_equal(ours_work[ids], expected_work)
    np.testing.assert_array_equal(hold[ids], expected_hold)
    assert (used, gamed, effort) == (expected_used, is_gamed.sum(), is_effort.sum())


@given(data=st.data())
def test_completing_tasks_closes_each_issue_with_its_last_task(data):
    """:func:`model.flow.complete_tasks` marks the tasks done, multiplies each issue's chance
    of a fix that holds by its tasks' in the order done, returns the successors to release in
    that order, and closes the issues whose last task is done, in the order of that task."""
    n_issues = data.draw(st.integers(1, 8))
    owner = np.array(data.draw(st.lists(st.integers(0, n_issues - 1), min_size=1, max_size=20)))
    order = np.array(data.draw(st.permutations(range(len(owner)))), np.int64)
    done = order[: data.draw(st.integers(0, len(owner)))]
    next_task = np.array(
        data.draw(st.lists(st.integers(-1, 30), min_size=len(owner), max_size=len(owner)))
    )
    hold = np.linspace(0.5, 0.99, len(owner))
    tasks_left = np.bincount(owner, minlength=n_issues).astype(np.int16)
    quality, done_day = np.ones(n_issues), np.full(len(owner), -1, np.int32)
    state = np.zeros(len(owner), np.int8)
    expected_quality, expected_left = quality.copy(), tasks_left.copy()
    np.multiply.at(expected_quality, owner[done], hold[done])
    np.subtract.at(expected_left, owner[done], 1)
    last = list(dict.fromkeys(owner[done][::-1].tolist()))[::-1]
    following, closed = complete_tasks(
        done, 7, done_day, state, owner, hold, next_task, quality, tasks_left
    )
    np.testing.assert_array_equal(quality, expected_quality)
    np.testing.assert_array_equal(tasks_left, expected_left)
    np.testing.assert_array_equal(closed, [i for i in last if expected_left[i] == 0])
    np.testing.assert_array_equal(following, next_task[done][next_task[done] >= 0])
    assert (done_day[done] == 7).all() and (state[done] == DONE).all()
    assert np.count_nonzero(state) == len(done)


@given(seed=st.integers(0, 2**32), odd=st.booleans(), n=st.integers(0, 20))
def test_resolving_issues_draws_whether_each_fix_holds_as_numpy_would(seed, odd, n):
    """:func:`model.flow.resolve_issues` draws one uniform number per issue, in their order,
    against its quality, and gives each household today's outcome."""
    ids = np.arange(n, dtype=np.int64)[::-1].copy()
    quality = np.linspace(0, 1, n)
    origin = np.roll(np.arange(n), 1)  # by issue id: each issue's household
    created = np.arange(n, dtype=np.int32) * 2
    resolved, held = np.full(n, -1, np.int32), np.zeros(n, bool)
    open_issue, outcome = np.zeros(n, np.int64), np.zeros(n, np.int8)
    delay = np.zeros(n, np.int64)
    ours, numpys = _twins(seed, odd)
    fix_held = resolve_issues(
        generator_addresses(ours),
        ids,
        40,
        quality,
        resolved,
        held,
        origin,
        created,
        open_issue,
        outcome,
        delay,
    )
    expected = numpys.random(n) < quality[ids]
    np.testing.assert_array_equal(fix_held, expected)
    np.testing.assert_array_equal(held[ids], expected)
    households = origin[ids]
    assert (resolved[ids] == 40).all() and (open_issue == -1).all()
    np.testing.assert_array_equal(outcome[households], np.where(expected, FIX_HELD, FIX_FAILED))
    np.testing.assert_array_equal(delay[households], 40 - created[ids])
    assert ours.bit_generator.state == numpys.bit_generator.state


@given(counts=st.lists(st.integers(1, 4), max_size=12), data=st.data())
def test_filing_tasks_records_what_the_array_rule_did(counts, data):
    """:func:`model.flow.file_tasks` records what the array rule did: each issue's first
    dispatch, due day, route, number of tasks and first task, the successor of each chained
    task and the ready day of each released one, and splits the released tasks into those that
    join today and later, in the tasks' order."""
    ids = np.array(data.draw(st.permutations(range(len(counts)))), np.int64)  # any issue order
    counts = np.array(counts, np.int64)
    issue = np.repeat(np.arange(len(counts)), counts)

    def flags():
        return np.array(
            data.draw(st.lists(st.booleans(), min_size=len(issue), max_size=len(issue))), bool
        )

    chained, released = flags(), flags()
    ready = np.array(
        data.draw(st.lists(st.integers(8, 12), min_size=len(issue), max_size=len(issue))), np.int32
    )
    route = np.arange(len(ids), dtype=np.int8) % len(ROUTES)
    deadline, kind = np.array([1, 3, 10, 30, 7]), np.arange(len(ids), dtype=np.int8) % 5
    first, day, n = 5, 10, len(ids)
    first_dispatch, due = np.full(n, -1, np.int32), np.full(n, np.inf)
    route_of, tasks_left = np.full(n, -1, np.int8), np.zeros(n, np.int16)
    first_task = np.full(n, -1, np.int64)
    next_task = np.full(first + len(issue), -1, np.int64)
    task_ready = np.full(first + len(issue), -1, np.int32)
    now, later = file_tasks(
        ids, route, issue, chained, released, ready, first, day, deadline, kind,
        first_dispatch, due, route_of, tasks_left, first_task, next_task, task_ready,
    )  # fmt: skip
    task_ids = first + np.arange(len(issue))
    assert (first_dispatch[ids] == day).all()
    np.testing.assert_array_equal(due[ids], day + deadline[kind[ids]])
    np.testing.assert_array_equal(route_of[ids], route)
    np.testing.assert_array_equal(tasks_left[ids], counts)
    np.testing.assert_array_equal(first_task[ids], task_ids[np.cumsum(counts) - counts])
    expected_next = np.full(len(next_task), -1)
    expected_next[task_ids[chained]] = task_ids[chained] + 1
    np.testing.assert_array_equal(next_task, expected_next)
    np.testing.assert_array_equal(task_ready[task_ids[released]], ready[released])
    assert (task_ready[task_ids[~released]] == -1).all()
    np.testing.assert_array_equal(now, np.flatnonzero(released & (ready <= day)))
    np.testing.assert_array_equal(later, np.flatnonzero(released & (ready > day)))


@given(seed=st.integers(0, 2**32), odd=st.booleans())
def test_the_games_daily_seed_is_numpys(seed, odd):
    """:func:`model.kernels.draw_seed` draws the number ``int(rng.integers(2**62))`` would."""
    ours, numpys = _twins(seed, odd)
    assert kernels.draw_seed(generator_addresses(ours)) == int(numpys.integers(2**62))
    assert ours.bit_generator.state == numpys.bit_generator.state
