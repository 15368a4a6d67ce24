"""Configuration: presets compose, every bad value fails in one line naming the key."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model import ConfigError, load_config
from model.config import check_overrides, config_hash, iter_params

BAD_OVERRIDES = [
    ("structure=utopia", "structure", "canonical_pgg"),
    ("engine=turbo", "engine", "agents, fast"),
    ("world.width=0", "world.width", "integer >= 1"),
    ("world.height=-3", "world.height", "integer >= 1"),
    ("residents.synergy=0", "residents.synergy", "> 0"),
    ("residents.synergy=-1.5", "residents.synergy", "> 0"),
    ("residents.noise=0", "residents.noise", "> 0"),
    ("residents.cost=-1", "residents.cost", ">= 0"),
    ("residents.initial_participation=1.5", "residents.initial_participation", "[0, 1]"),
    ("world.rewiring=2", "world.rewiring", "[0, 1]"),
    ("steps=-1", "steps", "integer >= 0"),
    ("seed=-1", "seed", "integer >= 0"),
    ("seed=abc", "seed", "an integer"),
    ("world.torus=maybe", "world.torus", "true or false"),
    ("world.widht=50", "world.widht", "world.width"),
    ("residents.synergyy=4", "residents.synergyy", "residents.synergy"),
    ("+residents.nois=1", "residents.nois", "residents.noise"),
    ("colour=red", "colour", "top-level keys"),
    ("world.communities_per_side=30", "world.communities_per_side", "min(world.width"),
]


@pytest.mark.parametrize("override,key,allowed", BAD_OVERRIDES)
def test_bad_override_names_key_and_allowed_values(override, key, allowed):
    small = ["world.width=20", "world.height=20"] if "communities" in override else []
    with pytest.raises(ConfigError) as error:
        load_config(*small, override)
    message = str(error.value)
    assert "\n" not in message
    assert key in message and allowed in message


@pytest.mark.parametrize(
    "key", [k for k, f in iter_params() if f.metadata["rule"].describe.startswith("a number >")]
)
@given(value=st.floats(-1e6, 0, exclude_max=True))
def test_negative_numbers_are_refused_for_every_non_negative_key(key, value):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(f"{key}={value}")


def test_canonical_structure_switches_institutions_off_on_a_torus():
    cfg = load_config("structure=canonical_pgg")
    assert cfg.structure.institutions is False
    assert cfg.world.torus is True


def test_config_hash_ignores_seed_but_not_parameters():
    assert config_hash(load_config("seed=1")) == config_hash(load_config("seed=2"))
    assert config_hash(load_config()) != config_hash(load_config("residents.synergy=4.4"))


def test_every_parameter_has_a_rule_and_a_description():
    for key, f in iter_params():
        assert f.metadata["doc"], key
        assert f.metadata["rule"], key


CLI_CASES = [
    ["world.width=-5"],
    ["world.widht=5"],
    ["-m", "residents.synergy=4,-1"],
]


@pytest.mark.parametrize("args", CLI_CASES, ids=" ".join)
def test_cli_refuses_bad_input_in_one_line_and_writes_nothing(args, tmp_cwd):
    result = subprocess.run(
        [sys.executable, "-m", "experiments.cli", *args], capture_output=True, text=True
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cogov: error: ")
    assert not any(tmp_cwd.iterdir())  # no output directory, nothing half-written


@pytest.mark.parametrize(
    "overrides,key",
    [
        (["seed=range(3)", "engine=fast,turbo"], "engine"),
        (["structure=canonical_pgg,utopia"], "structure"),
        (["world.width=10,20", "world.communities_per_side=15"], "world.communities_per_side"),
        (["residents.noise=0.5,0.1,0"], "residents.noise"),
    ],
)
def test_every_sweep_value_is_checked_before_a_sweep_starts(overrides, key):
    with pytest.raises(ConfigError, match=key):
        check_overrides(overrides)


def test_a_valid_sweep_passes_the_check():
    check_overrides(["seed=range(50)", "residents.synergy=3.5,4.5", "structure=canonical_pgg"])
