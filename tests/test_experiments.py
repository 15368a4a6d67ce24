"""Experiments: planning, running what is missing, surviving kill -9, tables and figures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import open_dict

from experiments import sweep
from experiments.cli import _is_main_job
from experiments.store import connect
from experiments.sweep import plan, run_experiment
from experiments.tables import confidence_table
from model import ConfigError, load_config
from tests.conftest import days, world

TINY = [*world(16, communities=4), *days(12)]


def tiny_experiment(tmp_path, name: str = "compare_structures", *overrides: str):
    """The experiment's config with its results in ``tmp_path``; its runs are tiny when
    planned or run with ``TINY`` as the command line's model keys, as ``cogov`` passes them."""
    return load_config(
        f"experiment={name}",
        *TINY,
        "experiment.workers=1",
        "experiment.seeds=2",
        f"results.db={tmp_path / 'cogov.duckdb'}",
        f"results.runs_dir={tmp_path / 'runs'}",
        f"results.figures_dir={tmp_path / 'figures'}",
        *overrides,
    )


@pytest.mark.parametrize(
    "overrides,main_job",
    [
        ([], True),
        (["lang=zh"], True),
        (["results.db=x.duckdb"], True),
        (["seed=3"], False),
        (["structure=sanshe"], False),
        (["experiment=devolution"], False),
    ],
)
def test_plain_cogov_is_the_main_job_and_model_keys_ask_for_one_run(overrides, main_job):
    assert _is_main_job(overrides) is main_job


def test_compare_structures_plans_six_structures_times_ten_seeds():
    specs = plan(load_config("experiment=compare_structures"))
    assert len(specs) == 60
    assert {s.structure for s in specs} == {
        "bureaucratic",
        "party_led",
        "grid",
        "sanshe",
        "decentralised",
        "co_governance",
    }
    assert len({s.config_hash for s in specs}) == 6
    assert sorted({s.seed for s in specs}) == list(range(10))
    assert all(s.config.structure.name == s.structure for s in specs)


def test_each_run_keeps_its_own_config_and_plans_are_kept_only_inside_plans_kept(
    tmp_path, monkeypatch
):
    cfg = tiny_experiment(tmp_path)
    made = []
    make = sweep._plan
    monkeypatch.setattr(sweep, "_plan", lambda c, o: made.append(o) or make(c, o))
    with sweep.plans_kept():
        first = plan(cfg, TINY)
        assert plan(cfg, TINY) is first  # the same config and overrides: planned once
        other = plan(cfg, [*TINY, "residents.synergy=4.4"])
    after = plan(cfg, TINY)
    assert made == [tuple(TINY), (*TINY, "residents.synergy=4.4"), tuple(TINY)]
    assert [s.run_id for s in after] == [s.run_id for s in first]
    assert {s.config_hash for s in other}.isdisjoint({s.config_hash for s in first})
    configs = [s.config for s in first]
    assert [c.seed for c in configs] == [s.seed for s in first]
    configs[0].seed = 99  # a copy: the plan is unchanged
    assert first[0].config.seed == first[0].seed


def test_grid_experiment_plans_every_combination_and_passes_user_overrides():
    specs = plan(load_config("experiment=devolution"), ["world.width=50", "seed=7"])
    assert len(specs) == 36 * 3
    points = {s.point for s in specs}
    assert len(points) == 36
    assert all(s.config.world.width == 50 for s in specs)  # the user's override wins
    assert sorted({s.seed for s in specs}) == [0, 1, 2]  # seeds are the experiment's axis
    authority = {dict(p)["government.devolution.authority"] for p in points}
    assert authority == {0.0, 0.2, 0.4, 0.6, 0.8, 1.0}


def test_unknown_grid_key_is_a_one_line_error():
    cfg = load_config("experiment=devolution")
    with open_dict(cfg.experiment.grid):  # as a misspelt key in an experiment's YAML would be
        cfg.experiment.grid["government.devolutoin"] = [0.1]
    with pytest.raises(ConfigError, match=r"government\.devolutoin"):
        plan(cfg)


def test_experiment_runs_once_and_skips_stored_runs(tmp_path, monkeypatch):
    cfg = tiny_experiment(tmp_path, "compare_structures", "experiment.structures=[grid,sanshe]")
    specs = run_experiment(cfg, TINY, progress=False)
    with connect(cfg.results.db) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 4
    executed = []
    real_execute = sweep._execute
    monkeypatch.setattr(
        sweep, "_execute", lambda todo, *rest: executed.extend(todo) or real_execute(todo, *rest)
    )
    again = run_experiment(cfg, TINY, progress=False)
    assert [s.run_id for s in again] == [s.run_id for s in specs]
    with connect(cfg.results.db) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 4
    assert executed == []  # nothing was rerun


def test_killed_experiment_finishes_on_restart_without_duplicates(tmp_path):
    command = [
        sys.executable,
        "-m",
        "experiments.cli",
        "experiment=compare_structures",
        *TINY,
        *days(40),
        "experiment.seeds=5",
        "experiment.workers=1",
    ]
    runs = tmp_path / "results" / "runs"
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 120
    while len(list(runs.glob("*/summary.json"))) < 8 and time.time() < deadline:
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    with connect(tmp_path / "results" / "cogov.duckdb") as con:
        runs_table = con.execute("SELECT run_id, steps FROM runs").df()
        rows = con.execute("SELECT run_id, count(*) AS n FROM timeseries GROUP BY run_id").df()
    assert len(runs_table) == 30 and runs_table["run_id"].is_unique
    merged = runs_table.merge(rows, on="run_id")
    assert (merged["n"] == merged["steps"] + 1).all()


def test_confidence_table_is_mean_and_student_t_half_width():
    frame = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 2, "y": [1.0, 2.0, 3.0, 4.0, 5.0, np.nan]})
    table = confidence_table(frame, "g", ["y"]).set_index("g")
    assert table.loc["a", "y"] == 2.5
    assert table.loc["a", "y_ci"] == pytest.approx(3.182446 * np.std([1, 2, 3, 4], ddof=1) / 2)
    assert table.loc["b", "y"] == 5.0 and np.isnan(table.loc["b", "y_ci"])


def test_cogov_figures_writes_every_figure_deterministically(tmp_path):
    command = [
        sys.executable,
        "-m",
        "experiments.figures",
        *TINY,
        "experiment.seeds=1",
        "experiment.workers=1",
        "experiment.samples=2",
        "experiment.particles=8",
        "experiment.generations=1",
        "experiment.draws=2",
        f"experiment.output={tmp_path / 'calibrated.yaml'}",
    ]
    first = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    figures = tmp_path / "figures"
    from experiments.figures import FIGURES

    names = list(FIGURES)
    for name in names:
        assert (figures / f"{name}.png").stat().st_size > 10_000
        assert (figures / f"{name}.pdf").read_bytes().startswith(b"%PDF")
    from PIL import Image

    assert Image.open(figures / "structure_comparison.png").info["dpi"][0] == pytest.approx(
        300, abs=0.01
    )
    captions = (figures / "captions.md").read_text()
    assert all(f"## {name}" in captions for name in names)
    assert "Global sensitivity (Sobol, SALib)" in captions  # names, not Python reprs
    expected = {f"{name}.{kind}" for name in names for kind in ("png", "pdf")}
    assert {p.name for p in figures.iterdir()} == expected | {"captions.md"}
    before = {p.name: p.read_bytes() for p in figures.iterdir()}
    second = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert second.returncode == 0 and "0 to run" in second.stdout
    assert {p.name: p.read_bytes() for p in figures.iterdir()} == before
    with connect(tmp_path / "results" / "cogov.duckdb") as con:
        indices = con.execute('SELECT DISTINCT "index" FROM sensitivity').fetchall()
    assert {i for (i,) in indices} == {"S1", "ST"}


def test_morris_screening_stores_elementary_effects(tmp_path):
    from experiments.sensitivity import indices, store_indices

    cfg = tiny_experiment(
        tmp_path,
        "sensitivity",
        "experiment.method=morris",
        "experiment.samples=2",
        "experiment.seeds=1",
    )
    specs = run_experiment(cfg, TINY, progress=False)
    table = indices(cfg, specs)
    store_indices(cfg, table)
    assert set(table["index"]) == {"mu_star", "sigma"}
    assert set(table["lever"]) == set(cfg.experiment.levers)
    with connect(cfg.results.db) as con:
        assert con.execute("SELECT count(*) FROM sensitivity WHERE method='morris'").fetchone()[0]


def test_an_index_wider_than_its_interval_is_not_reported_as_a_value():
    from experiments.sensitivity import format_indices

    table = pd.DataFrame(
        {
            "output": ["m"] * 4,
            "lever": ["a", "a", "b", "b"],
            "index": ["S1", "ST", "S1", "ST"],
            "value": [0.5, 0.6, 0.01, 0.02],
            "confidence": [0.1, 0.1, 0.03, 0.02],
        }
    )
    table["resolved"] = table["confidence"] < table["value"].abs()
    text = format_indices(table)
    assert (
        "0.500 ±0.100" in text and "0.010" not in text and text.splitlines()[2].count("n.r.") == 2
    )
    assert "2 of 4 indices resolved" in text


def _cli(cwd, *args):
    return subprocess.run(
        [sys.executable, "-m", "experiments.cli", *args], cwd=cwd, capture_output=True, text=True
    )


def test_hydra_sweep_is_collected_into_the_database(tmp_path):
    result = _cli(tmp_path, "-m", "seed=0,1", *TINY)
    assert result.returncode == 0, result.stderr
    db = Path("results") / "cogov.duckdb"
    assert f"stored 2 runs in {db}\n" in result.stdout
    with connect(tmp_path / db) as con:
        sweeps = con.execute("SELECT DISTINCT sweep FROM runs").fetchall()
    (sweep_dir,) = (tmp_path / "outputs" / "sweeps").glob("*/*")
    assert sweeps == [(sweep_dir.name,)]
    again = _cli(tmp_path, "-m", "seed=0,1", *TINY)  # runs again, stores nothing new
    assert (
        f"stored 0 runs in {db}; 2 identical runs (same config and seed) were there already"
        in again.stdout
    )


def test_two_sweeps_started_together_get_their_own_directories(tmp_path):
    command = [sys.executable, "-m", "experiments.cli", "-m", "seed=0,1", *TINY]
    processes = [
        subprocess.Popen(
            command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(2)
    ]
    assert all(p.wait() == 0 for p in processes)
    sweeps = list((tmp_path / "outputs" / "sweeps").glob("*/*"))
    assert len(sweeps) == 2
    assert all(len(list(s.glob("*/summary.json"))) == 2 for s in sweeps)


@pytest.mark.parametrize(
    "args,message",
    [
        (["experiment=utopia"], "experiment='utopia' is not allowed; expected one of:"),
        (["-m", "hydra/launcher=carrier_pigeon", "seed=0,1"], "hydra/launcher='carrier_pigeon'"),
        (["results.db=/proc/cogov.duckdb"], "cannot write the database /proc/cogov.duckdb"),
        (["experiment=devolution", "experiment.workers=0"], "experiment.workers=0"),
        (["lang=fr"], "lang='fr' is not allowed; expected one of: en, zh"),
        (
            [
                "experiment=compare_structures",
                *TINY,
                "experiment.structures=[grid]",
                "experiment.outputs=[nonexistent]",
            ],
            "experiment.outputs: nonexistent is not a metric that runs of structure grid "
            "record; expected some of: ",
        ),
        (
            ["experiment=compare_structures", "experiment.structures=[]"],
            "experiment.structures is empty; expected one or more of: ",
        ),
        (
            ["experiment=sensitivity", "experiment.levers={government.budget:[5,3]}"],
            "experiment.levers.government.budget=[5.0, 3.0] is not allowed; expected [low, "
            "high] with low < high",
        ),
        (
            ["experiment=sensitivity", "experiment.samples=100000"],
            "experiment.samples=100000 asks for 1,600,000 runs",
        ),
        (
            ["experiment=devolution", "experiment.grid={government.devolution.authority:[]}"],
            "experiment.grid.government.devolution.authority has no values",
        ),
        (
            ["experiment=validate_reform", "experiment.draws=null"],
            "a posterior experiment needs experiment.draws",
        ),
        (
            ["experiment=validate_reform", "experiment.draws=100000"],
            "experiment.draws=100000 asks for 200,000 runs (2 structures x 100,000 points x 1 "
            "seed)",
        ),
    ],
)
def test_bad_experiment_input_is_one_line_and_writes_nothing(args, message, cogov_fails, tmp_cwd):
    code, lines = cogov_fails(*args)
    assert code == 2
    assert len(lines) == 1 and message in lines[0]
    assert not any(tmp_cwd.iterdir())


def test_a_model_key_set_only_in_the_config_is_refused_not_lost(tmp_path):
    """In Python, the runs get the model keys passed as ``extra_overrides`` (the command line's
    in cogov); one set only in the composed config would be lost, so it is refused by name."""
    cfg = tiny_experiment(tmp_path, "compare_structures", "experiment.structures=[grid,sanshe]")
    with pytest.raises(ConfigError) as refused:
        plan(cfg)
    assert refused.value.key == "metrics.burn_in" and "\n" not in str(refused.value)
    assert str(refused.value).startswith(", ".join(sorted(TINY)) + ": set in the experiment")
    assert {s.config.world.width for s in plan(cfg, TINY)} == {16}
    # a key the experiment's own config sets, or one the runs get from the command line, is fine
    shock = tiny_experiment(tmp_path, "shock_response", "experiment.structures=[grid]")
    assert plan(shock, TINY)[0].config.shock.start != shock.shock.start  # an epidemic's
    varied = tiny_experiment(tmp_path, "devolution", "government.devolution.authority=0.9")
    assert plan(varied, TINY)  # the experiment sets authority at each point


def test_workers_are_capped_at_the_runs_and_the_cores(tmp_path, monkeypatch, capsys):
    cfg = tiny_experiment(
        tmp_path,
        "compare_structures",
        "experiment.structures=[grid,sanshe]",
        "experiment.workers=30",
    )
    used = []
    monkeypatch.setattr(
        sweep, "_execute", lambda todo, runs_dir, workers: used.append(workers) or []
    )
    for cores, shown in [
        (2, "4 to run on 2 workers (experiment.workers=30, but 2 cores here)"),
        (64, "4 to run on 4 workers (one per run)"),
    ]:
        monkeypatch.setattr(sweep, "available_cores", lambda cores=cores: cores)
        run_experiment(cfg, TINY, progress=False)
        assert shown in capsys.readouterr().out
    assert used == [2, 4]


def test_an_experiment_labels_its_runs_that_were_collected_by_hand(tmp_path):
    from experiments.store import collect

    cfg = tiny_experiment(tmp_path, "compare_structures", "experiment.structures=[grid,sanshe]")
    run_experiment(cfg, TINY, progress=False)
    by_hand = tmp_path / "by-hand.duckdb"
    collect(tmp_path / "runs", by_hand)
    with connect(by_hand) as con:
        assert con.execute("SELECT count(*) FROM runs WHERE experiment IS NULL").fetchone() == (4,)
    cfg.results.db = str(by_hand)
    run_experiment(cfg, TINY, progress=False)
    query = "SELECT count(*) FROM runs WHERE experiment = 'compare_structures'"
    with connect(by_hand) as con:
        assert con.execute(query).fetchone() == (4,)


def test_a_launcher_without_its_plugin_says_how_to_install_it(cogov_fails, tmp_cwd):
    import importlib.util

    if importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is not None:
        pytest.skip("the Ray launcher is installed here")
    code, lines = cogov_fails("-m", "hydra/launcher=ray", "seed=0,1")
    assert code == 2 and "uv sync --extra ray" in lines[0]
    assert not any(tmp_cwd.iterdir())
