"""Shared fixtures and settings for the cogov test suite."""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

from model import CoGovModel, load_config

settings.register_profile(
    "cogov", deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow]
)
# CI (.ci/run) tries the same examples on every run, so that a red CI names the commit that
# broke something; a developer's runs draw new examples each time and find what is latent.
settings.register_profile("ci", settings.get_profile("cogov"), derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "cogov"))


def build(*overrides: str) -> CoGovModel:
    """A model composed exactly as ``uv run cogov <overrides>`` would compose it."""
    return CoGovModel(load_config(*overrides))


def world(width: int, height: int | None = None, communities: int = 1, units: int = 1) -> list[str]:
    """Overrides for a ``width x height`` map cut into about ``communities`` communities of
    about ``units`` grid units each (communities and grid units are sized in households)."""
    height = width if height is None else height
    community = max(1, width * height // communities)
    return [
        f"world.width={width}",
        f"world.height={height}",
        f"world.community_households={community}",
        f"world.grid_unit_households={max(1, community // units)}",
    ]


def days(steps: int, burn_in: int = 0) -> list[str]:
    """Overrides for a run of ``steps`` days whose headline metrics skip ``burn_in`` days."""
    return [f"steps={steps}", f"metrics.burn_in={burn_in}"]


def small_game(size: int = 10, *extra: str) -> list[str]:
    """Overrides for the canonical game on a small ``size x size`` torus, plus ``extra``."""
    return ["structure=canonical_pgg", f"world.width={size}", f"world.height={size}", *extra]


@pytest.fixture
def tmp_cwd(tmp_path, monkeypatch):
    """Run in an empty directory (Hydra writes its outputs relative to the cwd)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def cogov_fails(monkeypatch, capsys, tmp_cwd):
    """Run the ``cogov`` command in this process for input it must refuse; return its exit
    code and stderr lines (the wiring is also tested once in a real subprocess)."""

    def run(*args: str) -> tuple[int, list[str]]:
        from experiments import cli

        monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
        monkeypatch.setenv("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
        monkeypatch.setattr(sys, "argv", ["cogov", *args])
        with pytest.raises(SystemExit) as stopped:
            cli.main()
        return stopped.value.code, capsys.readouterr().err.strip().splitlines()

    return run
