"""The street dispatch hub's routes for the day's discovered issues, as one compiled pass.

:meth:`model.flow.IssueFlow.route_discovered` first gives each service need its handler (a
social organisation under 三社联动 or the community workstation: no random draw) and counts the
joint dispatches the party committee's coordinating time pays for today; :func:`route_issues`
then goes through the issues in the order they were found and makes every draw routing needs,
in that order: the other departments a complex issue needs, whether the community decides a
department issue, the work of each task and the accountability-pressure draw of each task
released today into the queue of an office under pressure. The draws come from the model's
own generator, through numba's implementation of numpy's ``Generator``, which draws the same
numbers from the same bit generator; so the routes are those of a Python loop over the issues,
in a fraction of the time.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any, cast

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from model.issues import ROUTES, SERVICE

DEPARTMENT, JOINT, LOCAL, SOCIAL_ORG = (
    ROUTES.index(name) for name in ("department", "joint", "local", "social_org")
)


def generator_addresses(rng: np.random.Generator) -> np.ndarray:
    """What a kernel needs to draw from ``rng`` (:func:`generator`): the addresses of its bit
    generator's state and of its functions, from numpy's ctypes interface. They are valid as
    long as ``rng`` is."""
    interface = rng.bit_generator.ctypes

    def address(function) -> int:
        return ctypes.cast(function, ctypes.c_void_p).value or 0

    return np.array(
        [
            interface.state_address,
            interface.state.value,
            address(interface.next_uint64),
            address(interface.next_uint32),
            address(interface.next_double),
            interface.bit_generator.value,
        ],
        np.uint64,
    )


_GENERATOR = types.NumPyRandomGeneratorType("generator")
_BIT_GENERATOR = types.NumPyRandomBitGeneratorType("bit_generator")
_BIT_GENERATOR_FIELDS = (
    "state_address",
    "state",
    "fnptr_next_uint64",
    "fnptr_next_uint32",
    "fnptr_next_double",
    "bit_generator",
)
"""The fields of numba's bit generator (``numba.np.random.generator_core``) that its unboxing
fills in from numpy's ctypes interface, in the order of :func:`generator_addresses`."""


def _generator(typingctx, addresses):
    """Inside a kernel, numba's ``Generator`` over the bit generator whose
    :func:`generator_addresses` are ``addresses``: what numba builds when it is passed the
    ``Generator`` itself, which costs 30 µs a call on the slower 2-core machine with warm
    caches and up to 180 µs with cold ones (it looks the addresses up through ctypes every
    time), against what any array argument costs for the array of addresses.
    Without the Python object, it cannot be returned to Python. ``tests/test_routing.py``
    checks its draws against numpy's."""

    def codegen(context, builder, signature, args):
        array = context.make_array(addresses)(context, builder, args[0])
        bit_generator = cgutils.create_struct_proxy(_BIT_GENERATOR)(context, builder)
        for k, field in enumerate(_BIT_GENERATOR_FIELDS):
            setattr(bit_generator, field, builder.load(cgutils.gep(builder, array.data, k)))
        bit_generator.parent = cgutils.get_null_value(bit_generator.parent.type)
        rng = cgutils.create_struct_proxy(_GENERATOR)(context, builder)
        rng.bit_generator = bit_generator._getvalue()
        rng.meminfo = cgutils.get_null_value(rng.meminfo.type)
        rng.parent = cgutils.get_null_value(rng.parent.type)
        return rng._getvalue()

    return _GENERATOR(addresses), codegen


generator = cast(Callable[[np.ndarray], Any], intrinsic(_generator))  # typed for the checker


@njit(cache=True)
def sample_without_replacement(rng, population, k):
    """``k`` distinct elements of ``population`` drawn from ``rng``: the same numbers as
    ``rng.choice(population, size=k, replace=False)``, which for a population above 10,000
    with ``k`` above a fiftieth of it shuffles the tail of a range, and otherwise draws with
    Floyd's algorithm and then shuffles."""
    n = len(population)
    if n > 10_000 and k > n // 50:
        order = np.arange(n)
        for i in range(n - 1, max(n - k, 1) - 1, -1):
            j = rng.integers(0, i + 1)
            order[i], order[j] = order[j], order[i]
        return population[order[n - k :]]
    chosen = np.empty(k, np.int64)
    for m in range(k):
        j = n - k + m
        pick = rng.integers(0, j + 1)
        for earlier in range(m):
            if chosen[earlier] == pick:  # drawn already: take j, which cannot have been
                pick = j
                break
        chosen[m] = pick
    for i in range(k - 1, 0, -1):
        j = rng.integers(0, i + 1)
        chosen[i], chosen[j] = chosen[j], chosen[i]
    return population[chosen]


@njit(cache=True)
def route_issues(
    addresses,
    category,
    departments,
    community,
    service_handler,
    service_route,
    other_departments,
    department_handler,
    station_handler,
    under_pressure,
    authority,
    whistles,
    today,
    dispatch_delay,
    whistle_staff_days,
):
    """Routes of the issues, in their order, and one task per handler they need.

    Per issue: its ``category`` (a department, or ``SERVICE``), the ``departments`` it needs
    and its ``community``; a service need's handler and route were chosen before
    (``service_handler``, ``service_route``). A department issue needs its own department and
    ``departments - 1`` others drawn from ``other_departments[category]``; with probability
    ``authority`` the community workstation decides it (one task per department it needs,
    released today); else, while ``whistles`` joint dispatches are left, a complex issue goes
    to its departments jointly (released after ``dispatch_delay`` days, each task with
    ``whistle_staff_days`` more work for reporting); else up the line to one department after
    another. Handler ids: ``department_handler[d]``, ``station_handler[c]``;
    ``under_pressure`` is indexed by handler id.

    Draws from the generator whose :func:`generator_addresses` are ``addresses``. Returns the
    route of each issue (an index into ``ROUTES``) and per task: the position of its issue,
    its handler, the normal draw of its work, its extra staff-days, its release day, whether
    it is released then (the first task of a route up the line, or any other), whether it
    releases the next task when done, and its pressure draw (NaN if none).
    """
    rng = generator(addresses)
    n = len(category)
    tasks = 0
    for i in range(n):
        tasks += max(1, departments[i])
    route = np.empty(n, np.int8)
    issue = np.empty(tasks, np.int64)
    handler = np.empty(tasks, np.int32)
    normal = np.empty(tasks)
    extra = np.zeros(tasks)
    ready = np.empty(tasks, np.int64)
    released = np.empty(tasks, np.bool_)
    chained = np.empty(tasks, np.bool_)
    pressure = np.full(tasks, np.nan)
    t = 0  # the issue's first task
    for i in range(n):
        count = max(1, departments[i])
        sequential = False
        start = today
        if category[i] == SERVICE:
            route[i] = service_route[i]
            handler[t] = service_handler[i]
        else:
            handler[t] = department_handler[category[i]]
            if count > 1:
                others = sample_without_replacement(rng, other_departments[category[i]], count - 1)
                for k in range(1, count):
                    handler[t + k] = department_handler[others[k - 1]]
            if rng.random() < authority:  # the community decides it (重心下移)
                route[i] = LOCAL
                handler[t : t + count] = station_handler[community[i]]
            elif count > 1 and whistles > 0:  # 街道吹哨、部门报到
                whistles -= 1
                route[i] = JOINT
                start = today + dispatch_delay
                extra[t : t + count] = whistle_staff_days
            else:  # up the line, one department after another
                route[i] = DEPARTMENT
                start = today + dispatch_delay
                sequential = True
        for k in range(count):
            normal[t + k] = rng.standard_normal()
        for k in range(count):
            issue[t + k] = i
            ready[t + k] = start
            released[t + k] = k == 0 or not sequential
            chained[t + k] = sequential and k < count - 1
            if released[t + k] and start <= today and under_pressure[handler[t + k]]:
                pressure[t + k] = rng.random()
        t += count
    return route, issue, handler, normal, extra, ready, released, chained, pressure
