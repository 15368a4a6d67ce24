"""Whether a run fits in memory: an estimate from its size, and the memory available.

A map too large for the machine would otherwise grow until the kernel kills the process (a
year of a 1000 x 1000 map needs about 2 GB, of 3000 x 3000 about 16 GB); :func:`check_memory`
refuses it in one line before anything is built.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from model.errors import ConfigError
from model.schema import Engine

# Peak resident memory (ru_maxrss) of a fresh process that composes a config, builds the model
# and runs it, minus the same process just before building; co_governance (the structure with
# every institution), default rates and community sizes. Measured on Linux x86-64 with Python
# 3.12, Mesa 3.5.1 and numba 0.68 at 100^2, 300^2, 500^2 and 1000^2 households (fast) and
# 100^2 and 300^2 (agents) for 1 day; at 300^2 for 365 days, and 100 days of an epidemic; at
# 200^2 with 1,000 and 10,000 communities. Rounded up.
BYTES_PER_HOUSEHOLD = {"fast": 1_500, "agents": 2_200}
"""Grid cells, Resident agents, networks and state arrays (fast: 1,490 measured at 1000^2;
agents: 2,070 to 2,180)."""
BYTES_PER_HOUSEHOLD_DAY = 0.6
"""The issue and task records a household adds per day (0.5 at default rates, 1.0 during an
epidemic)."""
BYTES_PER_COMMUNITY = 3_300
"""A community's workstation, party branch and grid units (1,300 measured) and a social
organisation founded later (1,300)."""
PROCESS_BYTES = 300 * 2**20
"""The interpreter with Mesa, numba and their imports (215 MB) and numba's kernels (45 MB)."""


def run_bytes(cfg: Any) -> float:
    """Estimated peak memory of building ``cfg``'s model and running it for ``cfg.steps`` days."""
    households = cfg.world.width * cfg.world.height
    return PROCESS_BYTES + households * _bytes_per_household(cfg) + _community_bytes(cfg)


def _bytes_per_household(cfg: Any) -> float:
    engine = Engine(cfg.engine).name
    return BYTES_PER_HOUSEHOLD[engine] + BYTES_PER_HOUSEHOLD_DAY * cfg.steps


def _community_bytes(cfg: Any) -> float:
    households = cfg.world.width * cfg.world.height
    return max(1, round(households / cfg.world.community_households)) * BYTES_PER_COMMUNITY


MEMINFO = Path("/proc/meminfo")
PROC_CGROUP = Path("/proc/self/cgroup")


def _meminfo_available() -> int | None:
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


CGROUP_FILES = {
    "v2": (Path("/sys/fs/cgroup"), "memory.max", "memory.current"),
    "v1": (Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes", "memory.usage_in_bytes"),
}
"""Where cgroups keep a memory limit and the memory in use: root, limit file, usage file."""


def _cgroup_available() -> int | None:
    """Room left under the memory limits of this process's cgroup and its parents (cgroup v2,
    or v1's memory controller), as containers and Slurm set them; ``None`` without a limit."""
    try:
        lines = PROC_CGROUP.read_text().splitlines()
    except OSError:
        return None
    room = []
    for line in lines:
        hierarchy, controllers, path = line.split(":", 2)
        if hierarchy == "0" and not controllers:
            root, limit_file, used_file = CGROUP_FILES["v2"]
        elif "memory" in controllers.split(","):
            root, limit_file, used_file = CGROUP_FILES["v1"]
        else:
            continue
        group = root / path.lstrip("/")
        for folder in (group, *[p for p in group.parents if p.is_relative_to(root)]):
            try:
                limit = (folder / limit_file).read_text().strip()
                used = int((folder / used_file).read_text())
            except (OSError, ValueError):
                continue
            if limit.isdigit() and int(limit) < 2**62:  # v2 says "max", v1 a huge number
                room.append(int(limit) - used)
    return min(room) if room else None


def _portable_available() -> int | None:
    try:
        import psutil  # installed with the dev tools; not a dependency
    except ImportError:
        pass
    else:
        return int(psutil.virtual_memory().available)
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None  # no way to tell (e.g. Windows without psutil): no check


def available_bytes() -> int | None:
    """Memory available to a new run: MemAvailable (Linux), within any cgroup limit; elsewhere
    psutil or sysconf; ``None`` when it cannot be told."""
    found = [m for m in (_meminfo_available(), _cgroup_available()) if m is not None]
    if not found:
        found = [m for m in (_portable_available(),) if m is not None]
    return min(found) if found else None


def _gigabytes(n: float) -> str:
    return f"{n / 1e9:,.1f} GB" if n < 1e15 else f"{n / 1e9:.1e} GB"


def check_memory(cfg: Any) -> None:
    """Refuse, in one line, a run whose estimated peak memory exceeds the memory available."""
    available = available_bytes()
    needed = run_bytes(cfg)
    if available is None or needed <= available:
        return
    world = cfg.world
    room = available - PROCESS_BYTES - _community_bytes(cfg)
    fits = max(0, int(room // _bytes_per_household(cfg)))
    side = math.isqrt(fits)
    raise ConfigError(
        "world.width",
        f"world.width x world.height = {world.width} x {world.height} households need about "
        f"{_gigabytes(needed)} of memory (engine={Engine(cfg.engine).name}, "
        f"steps={cfg.steps}) but {_gigabytes(available)} is available; at most ~{fits:,} "
        f"households (about {side} x {side}) fit",
    )
