"""Configuration: presets compose, every bad value fails in one line naming the key."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.overrides import check_overrides
from model import CoGovModel, ConfigError, load_config
from model.config import KEYS, config_hash
from model.schema import NON_NEGATIVE, OPEN_UNIT, POSITIVE, UNIT_INTERVAL, Rule, iter_params
from tests.conftest import world

BAD_OVERRIDES = [
    ("structure=utopia", "structure", "canonical_pgg"),
    ("engine=turbo", "engine", "agents, fast"),
    ("world.width=0", "world.width", "an integer in [2, 46340]"),
    ("world.height=-3", "world.height", "an integer in [2, 46340]"),
    ("world.width=1", "world.width", "an integer in [2, 46340]"),
    ("residents.synergy=0", "residents.synergy", "a number in (0, 1e9]"),
    ("residents.synergy=-1.5", "residents.synergy", "a number in (0, 1e9]"),
    ("residents.noise=0", "residents.noise", "a number in (0, 1e9]"),
    ("residents.cost=-1", "residents.cost", "a number in [0, 1e9]"),
    ("residents.initial_participation=1.5", "residents.initial_participation", "[0, 1]"),
    ("world.rewiring=2", "world.rewiring", "[0, 1]"),
    ("steps=-1", "steps", "an integer in [0, 36500]"),
    ("seed=-1", "seed", "an integer in [0, 2**63 - 1]"),
    ("seed=9223372036854775808", "seed", "an integer in [0, 2**63 - 1]"),
    ("seed=abc", "seed", "an integer"),
    ("government.budget=1e308", "government.budget", "a number in [0, 1e9]"),
    ("party.capacity=1e308", "party.capacity", "a number in [0, 1e9]"),
    ("government.dispatch_delay=9223372036854775807", "government.dispatch_delay", "36500]"),
    (f"issues.max_wait={2**70}", "issues.max_wait", "an integer in [1, 36500]"),
    ("world.torus=maybe", "world.torus", "true or false"),
    ("world.widht=50", "world.widht", "world.width"),
    ("residents.synergyy=4", "residents.synergyy", "residents.synergy"),
    ("+residents.nois=1", "residents.nois", "residents.noise"),
    ("colour=red", "colour", "top-level keys"),
    ("world.grid_unit_households=900", "world.grid_unit_households", "at most world.community_"),
    ("metrics.burn_in=365", "metrics.burn_in", "below steps = 365"),
    ("government.budget=-1", "government.budget", "a number in [0, 1e9]"),
    ("party.whistle_cost=-0.5", "party.whistle_cost", "a number in (0, 1e9]"),
]


@pytest.mark.parametrize("override,key,allowed", BAD_OVERRIDES)
def test_bad_override_names_key_and_allowed_values(override, key, allowed):
    small = [*world(20), "world.community_households=400"]
    small = small if "households" in override else []
    with pytest.raises(ConfigError) as error:
        load_config(*small, override)
    message = str(error.value)
    assert "\n" not in message
    assert key in message and allowed in message


def _keys_with(*rules: Rule) -> list[str]:
    return [k for k, f in iter_params() if f.metadata["rule"] in rules]


def _select(key: str) -> list[str]:
    """Overrides that make ``key`` exist (experiment keys need an experiment)."""
    return ["experiment=sensitivity"] if key.startswith("experiment.") else []


@given(key=st.sampled_from(_keys_with(POSITIVE, NON_NEGATIVE)), value=st.floats(-1e6, -1e-9))
def test_negative_numbers_are_refused_for_every_non_negative_key(key, value):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(*_select(key), f"{key}={value}")


@given(key=st.sampled_from(_keys_with(UNIT_INTERVAL, OPEN_UNIT)), value=st.floats(1.0001, 1e6))
def test_shares_above_one_are_refused(key, value):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(*_select(key), f"{key}={value}")


@pytest.mark.parametrize(
    "key", [k for k, f in iter_params() if f.type == "int" and not f.metadata["rule"].check(0)]
)
def test_zero_is_refused_for_counts(key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(*_select(key), f"{key}=0")


TINY = world(3)
EXTREMES = [
    "-1", "0", "1", "2", "0.5", "nan", "inf", "-inf", "1e308", "-1e308", "5e-324", "1e9",
    "36500", "46340", str(2**31), str(2**63 - 1), str(2**63), str(2**70), "true", "yes",
    "null", "abc", "[1,2]", "{a: 1}",
]  # fmt: skip


@settings(max_examples=40)
@given(
    changes=st.lists(
        st.tuples(st.sampled_from(sorted(KEYS)), st.sampled_from(EXTREMES)), min_size=1, max_size=3
    ),
    structure=st.sampled_from(["co_governance", "canonical_pgg", "party_led", "sanshe"]),
    engine=st.sampled_from(["fast", "agents"]),
)
def test_any_extreme_value_gives_a_model_or_one_line_naming_a_key(changes, structure, engine):
    """For every key: huge, tiny, negative, non-finite or mistyped values either build a model
    that runs (a tiny one, for one day) or fail with one ConfigError line, nothing else."""
    overrides = [f"structure={structure}", f"engine={engine}", "shock=epidemic", "shock.start=0"]
    overrides += [*TINY, *(f"{key}={value}" for key, value in changes)]
    if any(key.startswith("experiment.") for key, _ in changes):
        overrides.insert(0, "experiment=sensitivity")
    try:
        cfg = load_config(*overrides)
    except ConfigError as error:
        assert "\n" not in str(error)
        assert error.key in KEYS or any(k.startswith(f"{error.key}.") for k in KEYS), error.key
        assert error.key in str(error)
        return
    CoGovModel(cfg).run_for(1)


def test_experiment_keys_without_an_experiment_say_how_to_choose_one():
    with pytest.raises(ConfigError, match=r"experiment\.seeds belongs to an experiment"):
        load_config("experiment.seeds=3")


@pytest.mark.parametrize(
    "overrides",
    [
        ["experiment=sensitivity", "experiment.priors={a: [1, 2]}"],  # a null map: a traceback
        ["experiment=calibrate", "experiment.priors={residents.noise: [0.1, 0.5]}"],
        ["experiment=calibrate", "experiment.priors.government.fix_quality=[0.1,0.5]"],
        ["experiment=calibrate", "+experiment.priors.residents.noise=[0.1,0.5]"],
        ["experiment=compare_structures", "experiment.grid={world.width: [10, 20]}"],
    ],
)
def test_a_map_of_config_keys_says_how_it_takes_a_key(overrides):
    """Hydra changes the values of the keys a preset gives the map, adds keys only with ``++``
    and reads a dotted key inside it as nested maps: one line naming the map, not a
    traceback."""
    the_map = ".".join(overrides[1].lstrip("+").partition("=")[0].split(".")[:2])
    with pytest.raises(ConfigError, match=rf"add a key with \+\+{the_map}=") as error:
        load_config(*overrides)
    assert error.value.key == the_map
    assert "\n" not in str(error.value)


def test_a_map_of_config_keys_takes_new_values_and_new_keys():
    cfg = load_config(
        "experiment=calibrate",
        "experiment.priors={government.fix_quality: [0.1, 0.5]}",
        "++experiment.priors={residents.noise: [0.1, 0.5]}",
    )
    assert list(cfg.experiment.priors["government.fix_quality"]) == [0.1, 0.5]
    assert list(cfg.experiment.priors["residents.noise"]) == [0.1, 0.5]
    with pytest.raises(ConfigError, match=r"experiment\.priors\.a=.*expected a list of values"):
        load_config("experiment=sensitivity", "++experiment.priors={a: 1}")


@pytest.mark.parametrize(
    ("overrides", "allowed"),
    [
        (["experiment=scenario_discovery", "experiment.questions={a: 1}"], "a list of maps"),
        (["experiment=compare_structures", "experiment.structures={a: 1}"], "a list of text"),
        (["experiment=compare_structures", "experiment.grid=[1,2]"], "a map from keys to lists"),
    ],
)
def test_a_known_key_given_the_wrong_shape_says_what_it_takes(overrides, allowed):
    """A map where a list belongs (or the reverse) is a bad value of a key that exists, not an
    unknown key."""
    key = overrides[1].partition("=")[0]
    with pytest.raises(ConfigError, match=rf"^{re.escape(key)}=.* expected {allowed}") as error:
        load_config(*overrides)
    assert error.value.key == key


def test_an_unknown_experiment_key_lists_the_experiments_keys():
    with pytest.raises(
        ConfigError, match=r"did you mean experiment\.seeds\? \(keys of experiment:"
    ):
        load_config("experiment=compare_structures", "experiment.seed=3")


@pytest.mark.parametrize("key", [k for k, f in iter_params() if f.type in (bool, "bool")])
def test_switches_take_only_booleans(key):
    with pytest.raises(ConfigError, match="true or false"):
        load_config(f"{key}=sometimes")


def test_budget_shares_must_sum_to_one():
    with pytest.raises(ConfigError, match=r"government\.budget_shares shares must sum to 1"):
        load_config("government.budget_shares.staff=0.9")


def test_party_split_must_sum_to_one():
    with pytest.raises(ConfigError, match=r"party\.split"):
        load_config("party.split.contact=0.0")


def test_complex_issues_cannot_need_more_departments_than_exist():
    with pytest.raises(ConfigError, match=r"issues\.max_departments"):
        load_config("government.departments=2", "issues.max_departments=3")


def test_issue_kinds_must_share_all_issues():
    with pytest.raises(ConfigError, match=r"issues\.\*\.share shares must sum to 1"):
        load_config("issues.general.share=0.5")


@pytest.mark.parametrize("group,option", [("structure", "utopia"), ("shock", "meteor")])
def test_unknown_presets_list_the_options(group, option):
    with pytest.raises(ConfigError) as error:
        load_config(f"{group}={option}")
    assert f"{group}='{option}' is not allowed; expected one of:" in str(error.value)


def test_every_structure_and_shock_composes_and_spends_the_same_budget():
    structures = ["bureaucratic", "party_led", "grid", "sanshe", "decentralised", "co_governance"]
    budgets = {load_config(f"structure={s}").government.budget for s in structures}
    assert len(budgets) == 1
    for shock in ["none", "epidemic", "disaster"]:
        load_config(f"shock={shock}")


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


def test_cli_refuses_bad_input_in_one_line_and_writes_nothing(tmp_cwd):
    """The real command, in a subprocess: exit code 2, one line, no output directory."""
    result = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "world.widht=5"], capture_output=True, text=True
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cogov: error: unknown key world.widht")
    assert not any(tmp_cwd.iterdir())  # no output directory, nothing half-written


def test_help_says_how_to_run_and_writes_nothing(tmp_cwd):
    result = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("cogov: an agent-based laboratory")
    assert "the main job" in result.stdout
    assert any(
        line.startswith("structure: ") and "bureaucratic" in line
        for line in result.stdout.splitlines()
    )
    assert not any(tmp_cwd.iterdir())


@pytest.mark.parametrize(
    "args",
    [["world.width=-5"], ["-m", "residents.synergy=4,-1"], ["structure=utopia"]],
    ids=" ".join,
)
def test_every_kind_of_bad_input_stops_the_command_before_it_writes(args, cogov_fails, tmp_cwd):
    code, lines = cogov_fails(*args)
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("cogov: error: ")
    assert not any(tmp_cwd.iterdir())


@pytest.mark.parametrize(
    "overrides,key",
    [
        (["seed=range(3)", "engine=fast,turbo"], "engine"),
        (["structure=canonical_pgg,utopia"], "structure"),
        (["world.width=10,20", "world.height=10", "world.community_households=150"], "world.comm"),
        (["residents.noise=0.5,0.1,0"], "residents.noise"),
    ],
)
def test_every_sweep_value_is_checked_before_a_sweep_starts(overrides, key):
    with pytest.raises(ConfigError, match=key):
        check_overrides(overrides)


def test_a_valid_sweep_passes_the_check():
    check_overrides(["seed=range(50)", "residents.synergy=3.5,4.5", "structure=canonical_pgg"])
