"""Calibration and validation: the targets file, ABC-SMC (pyabc), resuming after kill -9,
a Dask cluster, and one-line errors for bad targets, priors and settings."""

from __future__ import annotations

import inspect
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from experiments import calibration
from experiments.calibration import run_calibration, settings_hash
from experiments.store import connect
from experiments.targets import (
    DEFAULT_TARGETS,
    FIELDS,
    calibration_targets,
    load_targets,
)
from model import ConfigError, load_config
from tests.conftest import world

TINY = [
    *world(20),
    "steps=100",
    "metrics.burn_in=20",
    "experiment.particles=8",
    "experiment.generations=2",
    "experiment.draws=2",
]


def tiny_calibration(tmp_path: Path, *extra: str):
    """The calibration's config with its outputs in ``tmp_path``; its particles are tiny when
    run with ``TINY`` as the command line's model keys, as ``cogov`` passes them."""
    return load_config(
        "experiment=calibrate",
        *TINY,
        f"results.db={tmp_path / 'cogov.duckdb'}",
        f"results.runs_dir={tmp_path / 'runs'}",
        f"experiment.output={tmp_path / 'calibrated.yaml'}",
        *extra,
    )


# -- the targets file ---------------------------------------------------------------------


def test_every_target_has_every_field_and_a_source():
    raw = yaml.safe_load(DEFAULT_TARGETS.read_text(encoding="utf-8"))["targets"]
    assert raw and all(set(FIELDS) <= set(entry) for entry in raw)
    targets = load_targets()
    assert all(t.source.strip() for t in targets)
    roles = {t.role for t in targets}
    assert {"input", "calibrate", "validate"} <= roles


def test_the_calibration_reads_only_calibrate_targets():
    assert {t.role for t in calibration_targets()} == {"calibrate"}
    source = inspect.getsource(calibration.run_calibration)
    assert "calibration_targets(" in source
    assert "validation_targets" not in source and "load_targets" not in source


def test_validate_figures_do_not_change_what_the_calibration_fits(tmp_path):
    raw = yaml.safe_load(DEFAULT_TARGETS.read_text(encoding="utf-8"))
    for entry in raw["targets"]:
        if entry["role"] == "validate":
            entry["value"] = entry["value"] * 0.5
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    cfg = load_config("experiment=calibrate")
    base = calibration.base_config(cfg, [])
    assert settings_hash(cfg, base, calibration_targets(changed)) == settings_hash(
        cfg, base, calibration_targets()
    )


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda e: e.pop("source"), "has no source"),
        (lambda e: e.update(source="  "), "has no source"),
        (lambda e: e.update(quantity="happiness_index"), "unknown metric 'happiness_index'"),
        (lambda e: e.update(role="guess"), "role 'guess'"),
        (lambda e: e.pop("uncertainty"), "has no uncertainty"),
        (lambda e: e.update(uncertainty={"interval": [0.9, 0.1]}), "low <= high"),
    ],
)
def test_a_bad_targets_file_stops_with_one_line(tmp_path, change, message):
    raw = yaml.safe_load(DEFAULT_TARGETS.read_text(encoding="utf-8"))
    first = next(e for e in raw["targets"] if e["role"] == "calibrate")
    change(first)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_targets(path)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    "override,message",
    [
        ("experiment.particles=0", "experiment.particles"),
        ("experiment.generations=0", "experiment.generations"),
        ("experiment.priors={government.fix_quality:[0.9,0.1]}", "low < high"),
    ],
)
def test_bad_calibration_settings_stop_with_one_line(override, message, tmp_path):
    with pytest.raises(ConfigError) as error:
        cfg = load_config("experiment=calibrate", override)
        calibration.priors(cfg.experiment)
    assert message in str(error.value) and "\n" not in str(error.value)


# -- calibrating ---------------------------------------------------------------------------


def stored_generations(db: Path) -> list[int]:
    with connect(db) as con:
        rows = con.execute("SELECT DISTINCT generation FROM calibration ORDER BY 1").fetchall()
    return [row[0] for row in rows]


def test_a_model_key_set_only_in_the_config_stops_the_calibration_before_it_starts(tmp_path):
    with pytest.raises(ConfigError) as refused:
        run_calibration(tiny_calibration(tmp_path))  # TINY's model keys not passed to particles
    assert refused.value.key == "metrics.burn_in" and "\n" not in str(refused.value)
    assert "world.width=20" in str(refused.value)
    assert not any(tmp_path.iterdir())  # nothing written


def test_a_small_calibration_fills_table_calibration(tmp_path, capsys, caplog):
    cfg = tiny_calibration(tmp_path, "experiment.workers=1")
    particles = run_calibration(cfg, TINY)
    printed = capsys.readouterr()
    assert "generation 2/2: epsilon" in printed.out and "acceptance" in printed.out
    assert "ABC" not in printed.err
    assert not [r for r in caplog.records if r.name.startswith("ABC")]  # only progress lines
    assert sorted(particles["generation"].unique()) == [0, 1]
    last = particles[particles["generation"] == 1]
    assert len(last) == 8 and np.isclose(last["weight"].sum(), 1)
    assert stored_generations(tmp_path / "cogov.duckdb") == [0, 1]
    with connect(tmp_path / "cogov.duckdb") as con:
        summary = con.execute("SELECT parameter, width_ratio FROM calibration_summary").df()
    assert set(summary["parameter"]) == set(cfg.experiment.priors)
    written = yaml.safe_load((tmp_path / "calibrated.yaml").read_text())
    assert 0.2 <= written["government"]["fix_quality"] <= 1.0
    assert isinstance(written["government"]["dispatch_delay"], int)
    # the written medians are a config any run can use
    for key in ("government.fix_quality", "discovery.channel_ease"):
        load_config(f"{key}={written[key.split('.')[0]][key.split('.')[1]]}")
    # a checkout without the results database draws from the posterior written next to it
    posterior = (tmp_path / "calibrated.posterior.csv").read_text().splitlines()
    assert len(posterior) == 1 + 8 and posterior[0].startswith("particle,weight,")
    elsewhere = cfg.copy()
    elsewhere.results.db = str(tmp_path / "other.duckdb")
    draws = calibration.posterior_draws(elsewhere, 5)
    assert len(draws) == 5 and set(draws[0]) == set(cfg.experiment.priors)


def test_a_calibration_on_a_local_dask_cluster(tmp_path):
    cfg = tiny_calibration(tmp_path, "experiment.sampler=dask", "experiment.generations=1")
    before = set(multiprocessing.active_children())
    particles = run_calibration(cfg, TINY)
    assert len(particles) == 8
    # the local cluster's worker processes end with the calibration, not at interpreter exit
    assert set(multiprocessing.active_children()) <= before


def _history_generations(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path) as con:
            return con.execute("SELECT count(*) FROM populations WHERE t >= 0").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_calibration_killed_mid_run_continues_without_losing_or_repeating_a_generation(
    tmp_path,
):
    command = [
        sys.executable,
        "-m",
        "experiments.cli",
        "experiment=calibrate",
        *TINY,
        "experiment.generations=3",
        "experiment.workers=1",
        f"experiment.output={tmp_path / 'calibrated.yaml'}",
    ]
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    histories = tmp_path / "results" / "calibration"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        done = [_history_generations(p) for p in histories.glob("*.db")]
        if done and max(done) >= 1:
            break
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    (history,) = histories.glob("*.db")
    finished = _history_generations(history)
    assert 1 <= finished < 3
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert f"continuing {history.relative_to(tmp_path)} after generation {finished}" in again.stdout
    assert _history_generations(history) == 3
    with sqlite3.connect(history) as con:
        ts = [row[0] for row in con.execute("SELECT t FROM populations WHERE t >= 0 ORDER BY t")]
    assert ts == [0, 1, 2]  # none lost, none repeated
    assert stored_generations(tmp_path / "results" / "cogov.duckdb") == [0, 1, 2]


# -- the calibrated baseline ----------------------------------------------------------------

CALIBRATED = Path(__file__).resolve().parents[1] / "configs" / "calibrated" / "beijing_2019.yaml"


def test_the_calibrated_baseline_reproduces_its_targets_over_seeds():
    """``calibrated=beijing_2019 structure=beijing_2019`` at the calibration's map size: the
    mean over eight seeds of every calibrated quantity lies within two standard errors (the
    target's sd and the seeds' spread combined) of the observed value."""
    from model import CoGovModel

    assert CALIBRATED.exists(), "run `uv run cogov experiment=calibrate` and commit its file"
    config = load_config(
        "structure=beijing_2019", "calibrated=beijing_2019", "world.width=50", "world.height=50"
    )
    runs = []
    for seed in range(8):
        model = CoGovModel(config, seed=seed)
        model.run_for(config.steps)
        runs.append(model.headline())
    for target in calibration_targets():
        values = np.array([run[target.quantity] for run in runs], dtype=float)
        spread = np.hypot(target.sd, values.std(ddof=1) / np.sqrt(len(values)))
        assert abs(values.mean() - target.value) <= 2 * spread, (target.id, values.mean())


@pytest.mark.slow
def test_the_posterior_predictive_is_the_same_at_50_and_100_households_a_side():
    """The calibration runs on 50 x 50; 20 posterior draws (one seed each) give the same mean
    of every calibrated quantity at 100 x 100, within three standard errors."""
    from experiments.calibration import posterior_draws, simulate, with_parameters

    draws = posterior_draws(load_config("experiment=validate_reform"), 20, seed=7)
    quantities = sorted({t.quantity for t in calibration_targets()})
    means = {}
    for side in (50, 100):
        base = load_config("structure=beijing_2019", f"world.width={side}", f"world.height={side}")
        runs = np.array(
            [
                [simulate(with_parameters(base, draw, seed), quantities)[q] for q in quantities]
                for seed, draw in enumerate(draws)
            ]
        )
        means[side] = (runs.mean(axis=0), runs.std(axis=0, ddof=1) / np.sqrt(len(runs)))
    (small, small_se), (large, large_se) = means[50], means[100]
    assert (np.abs(small - large) <= 3 * np.hypot(small_se, large_se)).all(), (small, large)


def test_a_trial_calibration_never_overwrites_one_with_other_settings(tmp_path, monkeypatch):
    """The issue's quick command (20 particles, 30 x 30) next to the committed calibration:
    stored under its own name; the same settings keep the name (a rerun continues it)."""
    from experiments.calibration import calibration_name

    monkeypatch.setattr(calibration, "CONFIG_DIR", tmp_path)
    (tmp_path / "calibrated").mkdir()
    (tmp_path / "calibrated" / "beijing_2019.yaml").write_text("# settings: 4ee0c6b86049\n")
    experiment = load_config("experiment=calibrate", "experiment.particles=20").experiment
    assert calibration_name(experiment, "4ee0c6b86049") == "beijing_2019"
    assert calibration_name(experiment, "040c0c1104c3") == "beijing_2019-040c0c11"
    experiment.output = str(tmp_path / "mine.yaml")  # an explicit file is the user's choice
    assert calibration_name(experiment, "040c0c1104c3") == "beijing_2019"


def test_the_committed_calibration_records_the_presets_settings():
    """configs/calibrated/beijing_2019.yaml was made by `uv run cogov experiment=calibrate`
    as configured now (model, priors, targets, particles): its settings line matches."""
    cfg = load_config("experiment=calibrate")
    targets = calibration_targets(calibration._targets_path(cfg.experiment))
    settings = settings_hash(cfg, calibration.base_config(cfg, []), targets)
    assert f"# settings: {settings}\n" in CALIBRATED.read_text(encoding="utf-8"), (
        "the model or the calibration preset changed since the calibration: rerun "
        "`uv run cogov experiment=calibrate` (after deleting configs/calibrated/beijing_2019.*)"
    )
