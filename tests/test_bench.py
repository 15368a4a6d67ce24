"""The benchmark's phase timers (``cogov-bench --only phases``) measure a model's day without
changing it."""

from __future__ import annotations

import numpy as np
import pytest

from agents import CommunityWorkstation, PartyBranch, SocialOrganisation
from agents.handler import Handler
from experiments.bench import MODEL_PHASES, _split_per_day, _timed_phases, main
from tests.conftest import build, days, small_game, world


def test_timing_the_phases_changes_no_result_and_undoes_itself():
    """Every phase of the day is timed, the timed run is the untimed run bit for bit, and the
    model and the agent classes are left as they were found."""
    overrides = [
        *world(20, communities=2, units=2),
        *days(60, burn_in=10),
        "structure=co_governance",
    ]
    plain, timed = build(*overrides), build(*overrides)
    steps = {cls: cls.__dict__["step"] for cls in (Handler, CommunityWorkstation, PartyBranch)}
    plain.run_for(60)
    with _timed_phases(timed) as spent:
        timed.run_for(60)
    assert plain.datacollector.get_model_vars_dataframe().equals(
        timed.datacollector.get_model_vars_dataframe()
    )
    np.testing.assert_equal(plain.headline(), timed.headline())
    ran = {label for label, seconds in spent.items() if seconds > 0}
    assert {f"{owner}.{name}" for owner, names in MODEL_PHASES.items() for name in names} <= ran
    assert {"measure", "Department.step", "PartyBranch.step", "model.update_game_fields"} <= ran
    for owner in MODEL_PHASES:
        assert not set(vars(getattr(timed, owner))) & set(MODEL_PHASES[owner])
    assert "update_game_fields" not in vars(timed)
    assert all(cls.__dict__["step"] is step for cls, step in steps.items())
    assert "step" in vars(SocialOrganisation)


def test_a_model_without_institutions_has_only_its_game_and_record_timed():
    model = build(*small_game(10), *days(5))
    with _timed_phases(model) as spent:
        model.run_for(5)
    ran = {label for label, seconds in spent.items() if seconds > 0}
    assert ran == {"engine.co_production_round", "measure", "datacollector.collect"}


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--only", "phases", "--structure", "nope"], "structure='nope'"),
        (["--only", "scaling", "--sides", "50", "0"], "world.width=0"),
        (["--only", "scale", "--scale-side", "1"], "world.width=1"),
        (["--only", "phases", "--days", "0"], "--days"),
        (["--only", "model", "--repeats", "x"], "--repeats"),
    ],
)
def test_a_mistaken_argument_stops_the_benchmark_with_one_line(arguments, named, capsys):
    """Before any timing starts: exit status 2 and one line naming the argument or key."""
    with pytest.raises(SystemExit) as stopped:
        main(arguments)
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    error = [line for line in captured.err.splitlines() if "error" in line]
    assert len(error) == 1 and named in error[0]
    assert captured.out == ""


def test_the_split_recovers_a_part_per_day_and_a_part_per_household_day():
    households = [2_500, 10_000, 40_000, 160_000]
    costs = [0.2 + 450.0 / n for n in households]  # µs per household-day
    per_day, per_household = _split_per_day(households, costs)
    assert per_day == pytest.approx(450.0) and per_household == pytest.approx(0.2)


def test_phases_split_each_phase_only_when_given_two_sides_or_more(capsys):
    main(["--only", "phases", "--sides", "12", "--days", "2"])
    assert "µs a day  ns a household-day" not in capsys.readouterr().out
    main(["--only", "phases", "--sides", "12", "16", "--days", "2"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].endswith("µs a day  ns a household-day")
    whole = lines[-1].split()
    at_12, at_16, per_day, per_household = map(float, whole[-4:])
    for households, cost in ((144, at_12), (256, at_16)):  # a line through two sizes
        assert per_day + per_household / 1e3 * households == pytest.approx(cost, abs=0.2)
