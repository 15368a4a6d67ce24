"""Memory: a run too large for the machine is refused in one line that says what fits."""

from __future__ import annotations

import pytest

from experiments.overrides import check_overrides
from model import CoGovModel, ConfigError, load_config, memory
from tests.conftest import world


def test_a_map_too_large_for_memory_says_what_fits(monkeypatch):
    monkeypatch.setattr("model.memory.available_bytes", lambda: 8 * 10**9)
    with pytest.raises(ConfigError) as error:
        load_config("world.width=3000", "world.height=3000")
    message = str(error.value)
    assert "\n" not in message and "world.width x world.height = 3000 x 3000" in message
    assert "8.0 GB is available" in message and "households (about 2" in message


def test_memory_is_checked_wherever_a_model_is_built(monkeypatch):
    """Notebooks build models from configs they may have edited: the model refuses too."""
    cfg = load_config(*world(20))
    monkeypatch.setattr("model.memory.available_bytes", lambda: 10**6)
    with pytest.raises(ConfigError, match=r"world\.width x world\.height = 20 x 20"):
        CoGovModel(cfg)


def test_a_sweep_for_a_cluster_is_not_judged_by_the_submitting_machine(monkeypatch):
    monkeypatch.setattr("model.memory.available_bytes", lambda: 10**9)
    big = ["world.width=3000", "world.height=3000", "seed=0,1"]
    with pytest.raises(ConfigError, match=r"world\.width x world\.height"):
        check_overrides(big)
    check_overrides([*big, "hydra/launcher=submitit_slurm"])


def test_runs_that_fit_pass_and_unknown_memory_is_not_refused(monkeypatch):
    monkeypatch.setattr("model.memory.available_bytes", lambda: None)
    assert load_config("world.width=3000", "world.height=3000").world.width == 3000


def test_the_estimate_grows_with_households_days_and_the_agents_engine():
    small, big = load_config(*world(20)), load_config()
    assert memory.run_bytes(big) - memory.run_bytes(small) > 9_000 * 1_500
    longer = load_config("steps=3650")
    assert memory.run_bytes(longer) > memory.run_bytes(big)
    assert memory.run_bytes(load_config("engine=agents")) > memory.run_bytes(big)


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A fake /proc and /sys/fs/cgroup: 20 GB available, the process in cgroup /job."""
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 32000000 kB\nMemAvailable:   20000000 kB\n")
    cgroups = tmp_path / "cgroup"
    monkeypatch.setattr(memory, "MEMINFO", meminfo)
    monkeypatch.setattr(memory, "PROC_CGROUP", cgroups)
    roots = {
        "v2": (tmp_path / "v2", "memory.max", "memory.current"),
        "v1": (tmp_path / "v1", "memory.limit_in_bytes", "memory.usage_in_bytes"),
    }
    monkeypatch.setattr(memory, "CGROUP_FILES", roots)

    def limit(version: str, line: str, max_bytes: str, used: int) -> None:
        cgroups.write_text(line + "\n")
        root, limit_file, used_file = roots[version]
        (root / "job").mkdir(parents=True)
        (root / "job" / limit_file).write_text(max_bytes + "\n")
        (root / "job" / used_file).write_text(f"{used}\n")

    return limit


def test_available_memory_is_memavailable_without_a_limit(machine):
    machine("v2", "0::/job", "max", 0)
    assert memory.available_bytes() == 20_000_000 * 1024


@pytest.mark.parametrize("version,line", [("v2", "0::/job"), ("v1", "4:memory:/job")])
def test_a_cgroup_limit_as_set_by_slurm_or_a_container_counts(machine, version, line):
    machine(version, line, str(6 * 10**9), 10**9)
    assert memory.available_bytes() == 5 * 10**9


def test_an_unlimited_cgroup_v1_is_no_limit(machine):
    machine("v1", "4:memory:/job", "9223372036854771712", 10**9)
    assert memory.available_bytes() == 20_000_000 * 1024
