"""The results store: runs collected into DuckDB once each, whole, safely, with clear errors."""

from __future__ import annotations

import fcntl
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments import store
from experiments.bench_store import (
    bench_collect,
    synthetic_config,
    synthetic_hash,
    write_synthetic_runs,
)
from experiments.store import (
    StoreError,
    collect,
    completed_runs,
    connect,
    runs_frame,
)
from tests.conftest import days, world

VERSIONS = {"cogov": "0.1.0", "mesa": "3.5.1", "numpy": "2", "numba": "0.61", "python": "3.12"}


def make_run(
    run_dir: Path,
    seed: int = 0,
    *,
    steps: int = 3,
    metrics: dict[str, float | None] | None = None,
    config: dict | None = None,
    **extra,
) -> dict:
    """A finished run written by hand, each metric constant over the steps; its summary."""
    config = config or synthetic_config("sanshe", 4.5, seed, steps)
    metrics = {"participation_rate": 0.5} if metrics is None else metrics
    run_dir.mkdir(parents=True)
    rows = steps + 1
    series = {"step": pa.array(range(rows), pa.int64())}
    series |= {name: pa.array([value] * rows, pa.float64()) for name, value in metrics.items()}
    pq.write_table(pa.table(series), run_dir / "timeseries.parquet")
    summary = {
        "config": config,
        "config_hash": synthetic_hash(config),
        "seed": seed,
        "steps": steps,
        "versions": VERSIONS,
        "metrics": metrics,
        **extra,
    }
    (run_dir / "summary.json").write_text(json.dumps(summary))
    return summary


def counts(db: Path) -> tuple[int, int]:
    """Rows in ``runs`` and in ``timeseries``."""
    with connect(db) as con:
        return tuple(
            con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("runs", "timeseries")
        )


def assert_whole_runs(db: Path) -> int:
    """Every stored run once, with one time-series row per step 0..steps, and no orphan
    time-series rows; returns the number of runs."""
    with connect(db) as con:
        runs, distinct = con.execute("SELECT count(*), count(DISTINCT run_id) FROM runs").fetchone()
        bad = con.execute(
            """SELECT r.run_id, r.steps, count(t.step), count(DISTINCT t.step)
               FROM runs r LEFT JOIN timeseries t USING (run_id) GROUP BY ALL
               HAVING count(t.step) != r.steps + 1 OR count(DISTINCT t.step) != r.steps + 1"""
        ).fetchall()
        orphans = con.execute(
            "SELECT count(*) FROM timeseries WHERE run_id NOT IN (SELECT run_id FROM runs)"
        ).fetchone()[0]
    assert runs == distinct
    assert bad == []
    assert orphans == 0
    return runs


@pytest.fixture(scope="module")
def real_runs(tmp_path_factory) -> Path:
    """Two short runs of the real model (seeds 1 and 2) in a sweep folder, plus an
    unfinished run (Hydra started it, no summary yet)."""
    from experiments.run import simulate, write_outputs
    from model import load_config

    sweep = tmp_path_factory.mktemp("multirun") / "pilot"
    for seed in (1, 2):
        cfg = load_config(*world(10), *days(5), f"seed={seed}")
        write_outputs(simulate(cfg), sweep / str(seed))
    (sweep / "3" / ".hydra").mkdir(parents=True)
    return sweep


@pytest.fixture(scope="module")
def eight_runs(tmp_path_factory) -> list[Path]:
    """Eight synthetic runs of 10 days with the benchmark's 25 metrics."""
    return write_synthetic_runs(tmp_path_factory.mktemp("synthetic") / "sweep", 8, steps=10)


# -- what is stored -------------------------------------------------------------------------


def test_real_runs_are_stored_with_parameters_metrics_versions_and_timeseries(real_runs, tmp_path):
    db = tmp_path / "results" / "cogov.duckdb"
    report = collect(real_runs, db)
    assert (report.added, report.skipped, report.unfinished) == (2, 0, 1)
    summary = json.loads((real_runs / "1" / "summary.json").read_text())
    frame = runs_frame(db, seed=1)
    row = frame.iloc[0]
    assert row["run_id"] == f"{summary['config_hash']}-1"
    assert row["structure"] == summary["config"]["structure"]["name"]
    assert row["sweep"] == "pilot" and pd.isna(row["experiment"])
    assert row["run_dir"] == str((real_runs / "1").resolve())
    assert row["param.world.width"] == 10
    assert row["param.residents.synergy"] == summary["config"]["residents"]["synergy"]
    assert row["participation_rate"] == summary["metrics"]["participation_rate"]
    assert row["version.mesa"] == summary["versions"]["mesa"]
    assert json.loads(row["config"]) == summary["config"]
    with connect(db) as con:
        stored = con.execute(
            "SELECT step, participation_rate FROM timeseries WHERE run_id = ? ORDER BY step",
            [row["run_id"]],
        ).df()
    parquet = pd.read_parquet(real_runs / "1" / "timeseries.parquet")
    assert stored["participation_rate"].tolist() == parquet["participation_rate"].tolist()
    assert assert_whole_runs(db) == 2


def test_collecting_again_adds_nothing_and_says_how_many_were_skipped(real_runs, tmp_path):
    db = tmp_path / "cogov.duckdb"
    collect(real_runs, db)
    again = collect([real_runs, real_runs / "1"], db)
    assert (again.added, again.skipped, again.unfinished) == (0, 3, 1)
    summaries = [json.loads(path.read_text()) for path in real_runs.glob("*/summary.json")]
    assert completed_runs(db) == {(s["config_hash"], s["seed"]) for s in summaries}
    assert counts(db) == (2, 2 * 6)


def test_unfinished_runs_are_counted_and_not_stored(tmp_path):
    make_run(tmp_path / "runs" / "done")
    (tmp_path / "runs" / "started" / ".hydra").mkdir(parents=True)
    make_run(tmp_path / "runs" / "writing")
    (tmp_path / "runs" / "writing" / "summary.json").unlink()
    (tmp_path / "runs" / "not-a-run").mkdir()
    report = collect(tmp_path / "runs", tmp_path / "cogov.duckdb")
    assert (report.added, report.skipped, report.unfinished) == (1, 0, 2)


def test_labels_come_from_arguments_then_summary_then_collected_folder(tmp_path):
    make_run(tmp_path / "sweep-a" / "0", seed=0)
    make_run(tmp_path / "sweep-a" / "1", seed=1, sweep="named", experiment="exp1")
    make_run(tmp_path / "lone", seed=2)
    make_run(tmp_path / "sweep-b" / "0", seed=3, sweep="named")
    db = tmp_path / "cogov.duckdb"
    collect([tmp_path / "sweep-a", tmp_path / "lone"], db)
    collect(tmp_path / "sweep-b", db, sweep="given", experiment="exp2")
    labels = runs_frame(db).set_index("seed")[["sweep", "experiment"]].astype(object)
    labels = labels.where(labels.notna(), None)
    assert labels.to_dict("index") == {
        0: {"sweep": "sweep-a", "experiment": None},
        1: {"sweep": "named", "experiment": "exp1"},
        2: {"sweep": None, "experiment": None},
        3: {"sweep": "given", "experiment": "exp2"},
    }


def test_the_same_run_found_twice_is_stored_once(tmp_path):
    make_run(tmp_path / "a" / "run", seed=5)
    make_run(tmp_path / "b" / "run", seed=5)
    report = collect([tmp_path / "a", tmp_path / "b"], tmp_path / "cogov.duckdb")
    assert (report.added, report.skipped) == (1, 1)
    assert runs_frame(tmp_path / "cogov.duckdb")["run_dir"].tolist() == [
        str(tmp_path / "a" / "run")
    ]


def test_nan_and_null_metrics_are_stored_as_null(tmp_path):
    make_run(tmp_path / "runs" / "0", metrics={"mean_response_time": math.nan, "backlog": None})
    db = tmp_path / "cogov.duckdb"
    collect(tmp_path / "runs", db)
    with connect(db) as con:
        stored = con.execute("SELECT mean_response_time, backlog FROM runs").fetchall()
        series = con.execute(
            "SELECT count(*), count(mean_response_time), count(backlog) FROM timeseries"
        ).fetchone()
    assert stored == [(None, None)]
    assert series == (4, 0, 0)


def test_a_parameter_whose_type_changes_is_widened_without_losing_rows(tmp_path):
    db = tmp_path / "cogov.duckdb"
    for seed, value in enumerate([True, 3, 4.5, "high"]):
        config = synthetic_config("sanshe", 4.5, seed, 3) | {"extra": {"level": value}}
        make_run(tmp_path / str(seed), seed, config=config)
        collect(tmp_path / str(seed), db)
    levels = runs_frame(db).sort_values("seed")["param.extra.level"].tolist()
    assert levels == ["true", "3", "4.5", "high"]
    assert assert_whole_runs(db) == 4


def test_an_integer_parameter_that_gets_a_fraction_becomes_a_double(tmp_path):
    db = tmp_path / "cogov.duckdb"
    for seed, value in enumerate([3, 4.5]):
        config = synthetic_config("sanshe", 4.5, seed, 3) | {"extra": {"level": value}}
        make_run(tmp_path / str(seed), seed, config=config)
        collect(tmp_path / str(seed), db)
    levels = runs_frame(db).sort_values("seed")["param.extra.level"]
    assert levels.dtype == "float64" and levels.tolist() == [3.0, 4.5]


METRIC_POOL = {"backlog", "resolution_rate", "trust", "Mean delay"}
metric_names = st.sets(st.sampled_from(sorted(METRIC_POOL)))


@settings(max_examples=10)
@given(
    collections=st.lists(
        st.lists(st.tuples(metric_names, st.booleans()), min_size=1, max_size=3),
        min_size=1,
        max_size=4,
    )
)
def test_new_metrics_and_parameters_become_columns_and_every_value_is_kept(collections):
    with tempfile.TemporaryDirectory() as temp:
        db, expected, seed = Path(temp) / "cogov.duckdb", {}, 0
        for index, runs in enumerate(collections):
            for names, new_parameter in runs:
                metrics = {name: seed + len(name) / 10 for name in sorted(names)}
                config = synthetic_config("grid", 4.0, seed, 2)
                config["residents"] |= {"trust_decay": 0.1 * seed} if new_parameter else {}
                expected[seed] = (metrics, new_parameter)
                make_run(
                    Path(temp) / str(index) / str(seed),
                    seed,
                    steps=2,
                    metrics=metrics,
                    config=config,
                )
                seed += 1
            collect(Path(temp) / str(index), db)
        frame = runs_frame(db).set_index("seed")
        with connect(db) as con:
            series = con.execute("SELECT * FROM timeseries").df()
        assert len(frame) == len(expected) and len(series) == 3 * len(expected)
        for seed, (metrics, new_parameter) in expected.items():
            run_series = series[series["run_id"] == frame.loc[seed, "run_id"]]
            for name in METRIC_POOL & set(frame.columns):
                value = metrics.get(name)
                assert frame.loc[seed, name] == value or value is None
                assert run_series[name].tolist() == [value] * 3 or value is None
                assert value is not None or pd.isna(frame.loc[seed, name])
            if new_parameter:
                assert frame.loc[seed, "param.residents.trust_decay"] == 0.1 * seed
        assert assert_whole_runs(db) == len(expected)


@settings(max_examples=10)
@given(stored_first=st.sets(st.integers(0, 7)))
def test_a_partly_stored_folder_adds_only_the_missing_runs(eight_runs, stored_first):
    with tempfile.TemporaryDirectory() as temp:
        db = Path(temp) / "cogov.duckdb"
        if stored_first:
            collect([eight_runs[i] for i in sorted(stored_first)], db)
        report = collect(eight_runs[0].parent, db, batch_size=3)
        assert (report.added, report.skipped) == (8 - len(stored_first), len(stored_first))
        assert len(completed_runs(db)) == 8
        assert assert_whole_runs(db) == 8


def test_completed_runs_of_a_database_not_yet_created_is_empty(tmp_path):
    assert completed_runs(tmp_path / "none.duckdb") == set()
    assert not (tmp_path / "none.duckdb").exists()


def test_runs_frame_filters_by_any_column(eight_runs, tmp_path):
    db = tmp_path / "cogov.duckdb"
    collect(eight_runs[0].parent, db)
    everything = runs_frame(db)
    assert len(everything) == 8
    assert set(runs_frame(db, structure="sanshe")["structure"]) == {"sanshe"}
    chosen = runs_frame(db, structure=["grid", "sanshe"], residents__synergy=3.5)
    assert len(chosen) == len(everything.query("structure in ['grid', 'sanshe']"))
    assert len(runs_frame(db, **{"param.residents.synergy": 4.0})) == 2
    assert runs_frame(db, structure=[]).empty
    with pytest.raises(StoreError, match="no column 'colour'"):
        runs_frame(db, colour="red")


def test_reading_a_missing_database_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match=r"no results database at .*missing\.duckdb"):
        runs_frame(tmp_path / "missing.duckdb")


# -- bad input ------------------------------------------------------------------------------


def write(path: Path, text: str) -> None:
    path.write_text(text)


def edit_summary(run_dir: Path, **changes) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    write(run_dir / "summary.json", json.dumps(summary | changes))


def rewrite_series(run_dir: Path, **columns) -> None:
    pq.write_table(pa.table(columns), run_dir / "timeseries.parquet")


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


BREAKERS = {
    "truncated summary": ("summary.json", "not valid JSON", lambda d: truncate(d / "summary.json")),
    "empty summary": ("summary.json", "not valid JSON", lambda d: write(d / "summary.json", "")),
    "a JSON list": (
        "summary.json",
        "not a cogov summary",
        lambda d: write(d / "summary.json", "[1]"),
    ),
    "foreign JSON": (
        "summary.json",
        "missing config, config_hash, seed, steps",
        lambda d: write(
            d / "summary.json", '{"name": "other tool", "versions": {}, "metrics": {}}'
        ),
    ),
    "seed as text": (
        "summary.json",
        "seed is '3', expected int",
        lambda d: edit_summary(d, seed="3"),
    ),
    "bad hash": ("summary.json", "16 hex digits", lambda d: edit_summary(d, config_hash="xyz")),
    "text metric": (
        "summary.json",
        "metric backlog is 'high'",
        lambda d: edit_summary(d, metrics={"backlog": "high"}),
    ),
    "reserved metric": (
        "summary.json",
        "'seed' is reserved",
        lambda d: edit_summary(d, metrics={"seed": 1.0}),
    ),
    "no structure": (
        "summary.json",
        "config.structure.name",
        lambda d: edit_summary(d, config={"world": {"width": 10}}),
    ),
    "no parquet": ("timeseries.parquet", "missing", lambda d: (d / "timeseries.parquet").unlink()),
    "not parquet": (
        "timeseries.parquet",
        "unreadable parquet",
        lambda d: write(d / "timeseries.parquet", "step,backlog\n0,1\n"),
    ),
    "truncated parquet": (
        "timeseries.parquet",
        "unreadable parquet",
        lambda d: truncate(d / "timeseries.parquet"),
    ),
    "missing steps": (
        "timeseries.parquet",
        "expected one row per step 0..3",
        lambda d: rewrite_series(d, step=[0, 1], backlog=[1.0, 2.0]),
    ),
    "no step column": (
        "timeseries.parquet",
        "no integer column 'step'",
        lambda d: rewrite_series(d, day=[0, 1, 2, 3]),
    ),
    "text column": (
        "timeseries.parquet",
        "column 'backlog' holds string",
        lambda d: rewrite_series(d, step=[0, 1, 2, 3], backlog=list("abcd")),
    ),
}


@pytest.mark.parametrize("case", BREAKERS)
def test_a_bad_run_is_one_clear_error_and_nothing_is_written(tmp_path, case):
    file, problem, breaker = BREAKERS[case]
    db = tmp_path / "cogov.duckdb"
    make_run(tmp_path / "old" / "0", seed=0)
    collect(tmp_path / "old", db)
    before = (completed_runs(db), counts(db))
    for seed in (1, 2, 3):
        make_run(tmp_path / "new" / str(seed), seed)
    breaker(tmp_path / "new" / "2")
    with pytest.raises(StoreError) as error:
        collect(tmp_path / "new", db)
    message = str(error.value)
    assert "\n" not in message
    assert str(tmp_path / "new" / "2" / file) in message
    assert problem in message
    assert (completed_runs(db), counts(db)) == before


def test_every_bad_run_is_counted_in_the_error(tmp_path):
    for seed in range(3):
        make_run(tmp_path / "runs" / str(seed), seed)
        write(tmp_path / "runs" / str(seed) / "summary.json", "{")
    with pytest.raises(StoreError, match=r"\(and 2 more problems\)$"):
        collect(tmp_path / "runs", tmp_path / "cogov.duckdb")
    assert not (tmp_path / "cogov.duckdb").exists()


def unwritable_databases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    (tmp_path / "a-folder.duckdb").mkdir()
    write(tmp_path / "a-file", "")
    write(tmp_path / "not-duckdb.duckdb", "hello")
    cases = {
        "directory": (tmp_path / "a-folder.duckdb", "it is a directory"),
        "under a file": (tmp_path / "a-file" / "cogov.duckdb", "cannot create the folder"),
        "not duckdb": (tmp_path / "not-duckdb.duckdb", "not a valid DuckDB database"),
        "system folder": (Path("/proc/cogov.duckdb"), "cannot write the database"),
    }
    if os.geteuid() != 0:  # root may write anywhere
        (tmp_path / "read-only").mkdir(mode=0o555)
        cases["read-only"] = (tmp_path / "read-only" / "cogov.duckdb", "read-only location")
    return cases


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
def test_a_database_that_cannot_be_written_is_one_clear_error(tmp_path):
    make_run(tmp_path / "runs" / "0")
    for db, problem in unwritable_databases(tmp_path).values():
        with pytest.raises(StoreError) as error:
            collect(tmp_path / "runs", db)
        assert "\n" not in str(error.value)
        assert str(db) in str(error.value) and problem in str(error.value)


def test_a_missing_folder_is_one_clear_error(tmp_path):
    with pytest.raises(StoreError, match=r"no such folder: .*nowhere"):
        collect(tmp_path / "nowhere", tmp_path / "cogov.duckdb")


def test_cli_reports_what_it_did_and_errors_in_one_line(real_runs, tmp_path, capsys):
    db = tmp_path / "cogov.duckdb"
    store.main([str(real_runs), "--db", str(db)])
    store.main([str(real_runs), "--db", str(db)])
    assert capsys.readouterr().out == (
        f"added 2 runs, skipped 0 already stored, 1 unfinished -> {db}\n"
        f"added 0 runs, skipped 2 already stored, 1 unfinished -> {db}\n"
    )
    make_run(tmp_path / "broken" / "0")
    write(tmp_path / "broken" / "0" / "summary.json", "{")
    with pytest.raises(SystemExit) as exit_status:
        store.main([str(tmp_path / "broken"), "--db", str(db)])
    assert exit_status.value.code == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("cogov-collect: error: ") and stderr.count("\n") == 1


# -- concurrency and crashes ----------------------------------------------------------------


def test_a_second_writer_waits_for_the_lock_then_gives_a_clear_error(tmp_path, monkeypatch):
    db = tmp_path / "cogov.duckdb"
    make_run(tmp_path / "runs" / "0")
    monkeypatch.setattr(store, "LOCK_TIMEOUT", 0.3)
    with open(tmp_path / "cogov.duckdb.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(StoreError, match="being written by another cogov-collect"):
            collect(tmp_path / "runs", db)
    assert collect(tmp_path / "runs", db).added == 1


def hold_open(db: Path, seconds: float) -> subprocess.Popen:
    """Another process holding a read-write connection to ``db`` for ``seconds``."""
    code = f"import duckdb, time; c = duckdb.connect({str(db)!r}); print(1, flush=True); "
    code += f"time.sleep({seconds})"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    process.stdout.readline()
    return process


def test_readers_wait_briefly_while_another_process_writes(eight_runs, tmp_path):
    db = tmp_path / "cogov.duckdb"
    collect(eight_runs[0].parent, db)
    writer = hold_open(db, 5)
    with pytest.raises(StoreError, match="another process has it open"):
        connect(db, timeout=0.2)
    writer.kill()
    writer.wait()
    writer = hold_open(db, 0.5)
    with connect(db) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 8
    writer.wait()


def test_two_writers_at_once_store_every_run_exactly_once(tmp_path):
    run_dirs = write_synthetic_runs(tmp_path / "runs", 60, steps=20)
    db = tmp_path / "cogov.duckdb"
    commands = [
        [sys.executable, "-m", "experiments.store", *map(str, dirs), "--db", str(db)]
        for dirs in (run_dirs[:40], run_dirs[20:])
    ]
    writers = [subprocess.Popen(c, stdout=subprocess.PIPE, text=True) for c in commands]
    outputs = [writer.communicate(timeout=120)[0] for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0]
    added = sum(int(output.split()[1]) for output in outputs)
    skipped = sum(int(output.split()[4]) for output in outputs)
    assert (added, skipped) == (60, 20)
    assert assert_whole_runs(db) == 60


def test_a_killed_collection_leaves_whole_runs_and_collecting_again_completes(tmp_path):
    write_synthetic_runs(tmp_path / "runs", 300, steps=30)
    db, rng, stored = tmp_path / "cogov.duckdb", random.Random(1), []
    command = [sys.executable, "-m", "experiments.store", str(tmp_path / "runs")]
    for _ in range(3):
        size = db.stat().st_size if db.exists() else 0
        process = subprocess.Popen([*command, "--db", str(db), "--batch-size", "10"])
        while (db.stat().st_size if db.exists() else 0) <= size and process.poll() is None:
            time.sleep(0.002)  # until a batch has been committed and checkpointed
        time.sleep(rng.uniform(0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.wait()
        stored.append(assert_whole_runs(db))
    assert any(0 < n < 300 for n in stored), stored
    report = collect(tmp_path / "runs", db)
    assert (report.added, report.skipped) == (300 - stored[-1], stored[-1])
    assert assert_whole_runs(db) == 300


def test_the_benchmark_collects_what_it_writes():
    result = bench_collect(n_runs=12, steps=5)
    assert result["runs"] == 12 and result["runs_per_s"] > 0
