"""Benchmarks: speed is measured here, never asserted in tests. Each section prints its figures
and, where there is one, the ratio to the reference engine measured in the same run.

    uv run cogov-bench                      # core, model and collect sections
    uv run cogov-bench --only scale         # 1,000,000 households x 100 days (about a minute)
    uv run cogov-bench --only core --size 200

Sections
  core     the co-production game, canonical, agents vs fast engine (elementary updates/s)
  model    the full model, 100 x 100 x 365 days, fast engine; agents engine on the same
           config for a few days, as days per second
  scale    1,000,000 households x 100 days, fast engine, in a fresh process: build and run
           seconds and peak memory
  collect  1,000 stored runs into DuckDB (runs per second)
  sweep    the same sweep with 1 and 2 joblib workers (speed-up)
  startup  a tiny run (10 x 10, 1 day) from start to exit vs `import mesa, numba` (ratio)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Sequence

from model import CoGovModel, load_config


def _time_steps(overrides: Sequence[str], steps: int) -> tuple[float, float]:
    """(seconds to build, seconds to run ``steps`` days) of a fresh model."""
    start = time.perf_counter()
    model = CoGovModel(load_config(*overrides))
    built = time.perf_counter()
    model.run_for(steps)
    return built - start, time.perf_counter() - built


def core(size: int, window: int, long_run: int, repeats: int) -> None:
    """Elementary updates per second of both engines on the canonical game at r = 4.5."""
    base = [
        "structure=canonical_pgg",
        f"world.width={size}",
        f"world.height={size}",
        "residents.synergy=4.5",
    ]
    updates = size * size
    _time_steps([*base, "world.width=8", "world.height=8"], 1)  # compile the kernels first
    agents = min(_time_steps([*base, "engine=agents"], window)[1] for _ in range(repeats))
    fast = min(_time_steps([*base, "engine=fast"], window)[1] for _ in range(repeats))
    fast_long = _time_steps([*base, "engine=fast"], long_run)[1]
    print(f"core: canonical game, {size}x{size}, r=4.5, K=0.5")
    for name, seconds, steps in (
        ("agents", agents, window),
        ("fast", fast, window),
        ("fast", fast_long, long_run),
    ):
        print(f"  {name:<7}{updates * steps / seconds:>14,.0f} updates/s  ({steps} MCS)")
    print(f"  ratio fast/agents per MCS: {agents / fast:,.0f}x  (target >= 100x)")


def full_model(structure: str, days: int, agent_days: int) -> None:
    """The full model at the default size: a year with the fast engine, a few days with the
    agents engine, both after one warm-up run."""
    base = [f"structure={structure}", f"steps={days}"]
    _time_steps([*base, "world.width=10", "world.height=10"], 2)
    build, run = _time_steps(base, days)
    agents_build, agents_run = _time_steps([*base, "engine=agents"], agent_days)
    print(f"model: {structure}, 100x100 households")
    print(
        f"  fast    build {build:5.2f} s, {days} days {run:6.2f} s -> {days / run:7.1f} days/s"
        f"  (target: 365 days <= 3 s)"
    )
    print(
        f"  agents  build {agents_build:5.2f} s, {agent_days} days {agents_run:6.2f} s -> "
        f"{agent_days / agents_run:7.1f} days/s"
    )
    print(f"  ratio fast/agents per day: {(agents_run / agent_days) / (run / days):,.0f}x")


def scale_worker(side: int, days: int) -> dict:
    """Build and run one big model in this process; report times and peak memory."""
    build, run = _time_steps(
        [
            f"world.width={side}",
            f"world.height={side}",
            "world.communities_per_side=30",
            f"steps={days}",
        ],
        days,
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB
    return {"build_s": build, "run_s": run, "total_s": build + run, "peak_gib": peak}


def scale(side: int, days: int) -> None:
    """1,000,000 households by default, in a fresh process so peak memory is its own."""
    command = [sys.executable, "-m", "experiments.bench", "--scale-worker", str(side), str(days)]
    result = json.loads(
        subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1]
    )
    print(f"scale: {side * side:,} households x {days} days, fast engine, co_governance")
    print(
        f"  build {result['build_s']:.1f} s + run {result['run_s']:.1f} s = "
        f"{result['total_s']:.1f} s (target <= 60 s); peak memory {result['peak_gib']:.2f} GiB"
        f" (target <= 4 GiB)"
    )


def collect(n_runs: int) -> None:
    from experiments.bench_store import bench_collect

    result = bench_collect(n_runs)
    print(
        f"collect: {n_runs:,} runs into DuckDB in {result['seconds']:.2f} s "
        f"({result['runs_per_s']:,.0f} runs/s; target: 1,000 runs < 10 s)"
    )


def startup(repeats: int = 5) -> None:
    """Seconds from start to exit of a tiny run, against importing Mesa and numba alone: fresh
    processes in this environment, alternating, best of ``repeats`` each."""
    import tempfile

    commands = {
        "import mesa, numba": [sys.executable, "-c", "import mesa, numba"],
        "cogov, 10x10, 1 day": [
            *(sys.executable, "-m", "experiments.cli", "structure=sanshe"),
            *("world.width=10", "world.height=10", "steps=1"),
        ],
    }
    best = dict.fromkeys(commands, float("inf"))
    with tempfile.TemporaryDirectory() as folder:  # the run's outputs go there
        for _ in range(repeats):
            for name, command in commands.items():
                start = time.perf_counter()
                subprocess.run(command, cwd=folder, check=True, capture_output=True)
                best[name] = min(best[name], time.perf_counter() - start)
    print(f"startup: best of {repeats} fresh processes")
    for name, seconds in best.items():
        print(f"  {name:<20} {seconds:5.2f} s")
    ratio = best["cogov, 10x10, 1 day"] / best["import mesa, numba"]
    print(f"  ratio run/imports: {ratio:.2f}x  (target <= 1.5x)")


SECTIONS = ("core", "model", "scale", "collect", "sweep", "startup")
DEFAULT_SECTIONS = ("core", "model", "collect")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cogov-bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        choices=SECTIONS,
        action="append",
        help="run only this section (repeatable); default: core, model, collect",
    )
    parser.add_argument("--size", type=int, default=100, help="core: grid side (cells)")
    parser.add_argument("--window", type=int, default=5, help="core: MCS timed for both engines")
    parser.add_argument("--long-run", type=int, default=1000, help="core: MCS timed for fast")
    parser.add_argument("--repeats", type=int, default=3, help="core: repeats, best kept")
    parser.add_argument("--structure", default="co_governance", help="model: structure")
    parser.add_argument("--scale-side", type=int, default=1000, help="scale: grid side")
    parser.add_argument("--runs", type=int, default=1000, help="collect: runs to store")
    parser.add_argument("--scale-worker", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.scale_worker:
        print(json.dumps(scale_worker(*args.scale_worker)))
        return
    for section in args.only or DEFAULT_SECTIONS:
        if section == "core":
            core(args.size, args.window, args.long_run, args.repeats)
        elif section == "model":
            full_model(args.structure, 365, 10)
        elif section == "scale":
            scale(args.scale_side, 100)
        elif section == "collect":
            collect(args.runs)
        elif section == "startup":
            startup()
        elif section == "sweep":
            from experiments.sweep import bench_workers

            bench_workers()


if __name__ == "__main__":
    main()
