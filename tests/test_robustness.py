"""Robustness (LHS, common random numbers, regret) and scenario discovery (PRIM) at small
size, with one-line errors for bad designs and questions."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from experiments.robustness import regret_table
from experiments.store import connect
from experiments.sweep import plan
from model import load_config

SMALL = [
    "world.width=30",
    "world.height=30",
    "world.community_households=900",
    "world.grid_unit_households=300",
    "steps=120",
    "metrics.burn_in=30",
]


def cogov(cwd, *args):
    return subprocess.run(
        [sys.executable, "-m", "experiments.cli", *args], cwd=cwd, capture_output=True, text=True
    )


def test_regret_is_the_shortfall_from_the_best_structure_at_each_point():
    points = pd.DataFrame(
        {
            "point": [0, 0, 1, 1],
            "structure": ["a", "b", "a", "b"],
            "on_time_rate": [0.9, 0.7, 0.5, 0.6],
            "time_to_close_mean": [3.0, 5.0, 9.0, 4.0],
            "residents.synergy": [4.0, 4.0, 5.0, 5.0],
        }
    )
    table = regret_table(points, ["on_time_rate", "time_to_close_mean"], ["residents.synergy"])
    regret = table.set_index(["metric", "point", "structure"])["regret"]
    assert regret["on_time_rate", 0, "b"] == pytest.approx(0.2)  # higher is better
    assert regret["on_time_rate", 1, "a"] == pytest.approx(0.1)
    assert regret["time_to_close_mean", 1, "a"] == pytest.approx(5.0)  # lower is better
    assert (regret >= 0).all() and table.groupby(["metric", "point"])["is_best"].sum().eq(1).all()


def test_prim_finds_the_box_over_an_integer_input():
    """An integer input (a rounded posterior draw such as government.dispatch_delay) gets a
    box with fractional limits."""
    from experiments.robustness import discover

    rng = np.random.default_rng(0)
    delay = rng.integers(0, 11, 200)
    synergy = rng.uniform(3.5, 5.5, 200)
    points = pd.DataFrame(
        {
            "point": np.repeat(np.arange(200), 2),
            "structure": ["sanshe", "bureaucratic"] * 200,
            "problem_resolution_rate": np.ravel(
                np.column_stack([np.where(delay > 5, 0.9, 0.5), np.full(200, 0.7)])
            ),
            "government.dispatch_delay": np.repeat(delay, 2),
            "residents.synergy": np.repeat(synergy, 2),
        }
    )
    question = {
        "kind": "beats",
        "metric": "problem_resolution_rate",
        "structure": "sanshe",
        "other": "bureaucratic",
    }
    box, _ = discover(points, ["government.dispatch_delay", "residents.synergy"], question, 0.5)
    limits = box.set_index("input")
    assert limits.loc["government.dispatch_delay", "restricted"]
    assert 5 <= limits.loc["government.dispatch_delay", "low"] <= 6
    assert limits["density"].iloc[0] == pytest.approx(1.0)


def test_lhs_design_runs_every_structure_with_the_same_seeds_at_every_point():
    cfg = load_config(
        "experiment=robustness", *SMALL, "experiment.samples=5", "experiment.calibration=null"
    )
    specs = plan(cfg, SMALL)
    structures = cfg.experiment.structures
    assert len(specs) == 5 * len(structures)
    by_point = pd.DataFrame(
        {
            "point": [s.point for s in specs],
            "structure": [s.structure for s in specs],
            "seed": [s.seed for s in specs],
        }
    )
    assert by_point.groupby("point")["structure"].nunique().eq(len(structures)).all()
    assert by_point.groupby("point")["seed"].nunique().eq(1).all()  # common random numbers
    synergy = np.array(
        [dict(p)["residents.synergy"] for p in dict.fromkeys(s.point for s in specs)]
    )
    low, high = cfg.experiment.levers["residents.synergy"]
    # a Latin hypercube: one value in each fifth of the range
    assert sorted(((synergy - low) / (high - low) * 5).astype(int)) == [0, 1, 2, 3, 4]


def test_robustness_then_scenario_discovery_fill_their_tables(tmp_path):
    small = [*SMALL, "experiment.samples=8", "experiment.calibration=null"]
    result = cogov(tmp_path, "experiment=robustness", *small)
    assert result.returncode == 0, result.stderr[-2000:]
    with connect(tmp_path / "results" / "cogov.duckdb") as con:
        robustness = con.execute("SELECT * FROM robustness").df()
    assert robustness["point"].nunique() == 8 and (robustness["regret"] >= 0).all()
    assert "input.residents.synergy" in robustness
    result = cogov(tmp_path, "experiment=scenario_discovery")
    assert result.returncode == 0, result.stderr[-2000:]
    with connect(tmp_path / "results" / "cogov.duckdb") as con:
        scores = con.execute("SELECT * FROM feature_scores").df()
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
    assert set(scores["input"]) <= {
        c.removeprefix("input.") for c in robustness if c.startswith("input.")
    }
    assert "scenarios" in tables or "never" in result.stdout + result.stderr
    assert (tmp_path / "figures" / "scenario_discovery.png").exists()


@pytest.mark.parametrize(
    "args,message",
    [
        (["experiment=scenario_discovery"], "no robustness results are stored"),
        (["experiment=robustness", "experiment.samples=0"], "experiment.samples"),
        (
            ["experiment=robustness", "experiment.levers={residents.synergy:[5,3]}"],
            "residents.synergy",
        ),
        (
            [
                "experiment=scenario_discovery",
                "experiment.questions=[{name:q,kind:beats,metric:happiness,structure:sanshe,other:grid}]",
            ],
            "happiness",
        ),
    ],
)
def test_bad_designs_and_questions_stop_with_one_line(tmp_path, args, message):
    small = [*SMALL, "experiment.calibration=null"] if "experiment=robustness" in args else []
    result = cogov(tmp_path, *args, *small)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
