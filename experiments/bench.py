"""Benchmarks: speed is measured here, in one process, against the reference engine.

    uv run cogov-bench                 # resident core: agents vs fast at 100 x 100
    uv run cogov-bench --size 200 --window 10

Both engines start from the same config and seed and are timed over the same window of
Monte Carlo steps (the first ``--window`` days, where strategies are still mixed and most
elementary updates do real work); the fast engine is also timed over a long run. Kernel
compilation is excluded (one warm-up model is run first).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from model import CoGovModel, load_config


def _time_steps(overrides: Sequence[str], steps: int) -> float:
    """Seconds to run ``steps`` days of a freshly built model (construction excluded)."""
    model = CoGovModel(load_config(*overrides))
    start = time.perf_counter()
    model.run_for(steps)
    return time.perf_counter() - start


def core(size: int, window: int, long_run: int, repeats: int) -> dict[str, float]:
    """Elementary updates per second of both engines on the canonical game at r = 4.5."""
    base = [
        "structure=canonical_pgg",
        f"world.width={size}",
        f"world.height={size}",
        "residents.synergy=4.5",
    ]
    updates = size * size
    _time_steps([*base, "engine=fast", "world.width=8", "world.height=8"], 1)  # JIT warm-up
    agents = min(_time_steps([*base, "engine=agents"], window) for _ in range(repeats))
    fast = min(_time_steps([*base, "engine=fast"], window) for _ in range(repeats))
    fast_long = _time_steps([*base, "engine=fast"], long_run)
    return {
        "agents_updates_per_s": updates * window / agents,
        "fast_updates_per_s": updates * window / fast,
        "fast_long_run_updates_per_s": updates * long_run / fast_long,
        "ratio_fast_over_agents": agents / fast,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cogov-bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100, help="grid side (cells)")
    parser.add_argument("--window", type=int, default=5, help="MCS timed for both engines")
    parser.add_argument("--long-run", type=int, default=1000, help="MCS timed for fast only")
    parser.add_argument("--repeats", type=int, default=3, help="repeats; the best is kept")
    args = parser.parse_args(argv)

    print(f"resident core, canonical game, {args.size}x{args.size}, r=4.5, K=0.5")
    result = core(args.size, args.window, args.long_run, args.repeats)
    rows = [
        ("agents engine", result["agents_updates_per_s"], f"first {args.window} MCS"),
        ("fast engine", result["fast_updates_per_s"], f"first {args.window} MCS"),
        ("fast engine", result["fast_long_run_updates_per_s"], f"{args.long_run} MCS"),
    ]
    for name, speed, window in rows:
        print(f"  {name:<14}{speed:>14,.0f} updates/s  ({window})")
    ratio = result["ratio_fast_over_agents"]
    print(f"  ratio fast/agents per MCS: {ratio:,.0f}x (target >= 100x)")


if __name__ == "__main__":
    main()
