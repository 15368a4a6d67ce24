"""The results store: finished runs collected into one DuckDB file, safely and idempotently.

    uv run cogov-collect outputs/ multirun/            # into results/cogov.duckdb
    uv run cogov-collect multirun/2025-01-01 --db results/pilot.duckdb --sweep pilot

Table ``runs`` has one row per run: ``run_id`` (``<config_hash>-<seed>``, the primary key),
``config_hash``, ``seed``, ``structure``, ``experiment``, ``sweep``, ``steps``, ``run_dir``,
``collected_at`` (UTC) and ``config`` (the resolved config as JSON), then one column per
parameter named ``param.<key>`` (``"param.world.width"``), one per final metric under its
own name (``participation_rate``) and one per version named ``version.<package>``
(``"version.mesa"``). Table ``timeseries`` has ``run_id``, ``step`` and one column per
metric. Quote the dotted names in SQL: ``SELECT "param.residents.synergy",
participation_rate FROM runs``. NaN metrics are stored as NULL. New parameters and metrics
become new columns; a parameter whose values change type is widened (integer to double,
other mixes to text).

Each run's ``runs`` row and its ``timeseries`` rows are written in one transaction (a batch
of runs per transaction), so a killed collection leaves whole runs only; collecting again
adds the missing ones and skips those already stored. Writers queue on the file lock
``<db>.lock``; readers use :func:`connect`, which waits briefly while a writer has the file.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

DEFAULT_DB = Path("results/cogov.duckdb")
SUMMARY = "summary.json"  # the names experiments.run writes (not imported: it loads the model)
TIMESERIES = "timeseries.parquet"
BATCH_RUNS = 200  # runs written per transaction
LOCK_TIMEOUT = 600.0  # seconds a writer waits for another writer (or open readers)
READ_TIMEOUT = 10.0  # seconds a reader waits for a writer to release the file
RETRY_PAUSE = 0.05  # seconds between attempts to take a lock

FIXED_COLUMNS = {
    "run_id": "VARCHAR PRIMARY KEY",
    "config_hash": "VARCHAR NOT NULL",
    "seed": "BIGINT NOT NULL",
    "structure": "VARCHAR",
    "experiment": "VARCHAR",
    "sweep": "VARCHAR",
    "steps": "BIGINT NOT NULL",
    "run_dir": "VARCHAR NOT NULL",
    "collected_at": "TIMESTAMP NOT NULL",
    "config": "JSON NOT NULL",
}
PARAM, VERSION = "param.", "version."
SOURCE_FILE = "cogov_source_file"  # the column read_parquet adds with each row's file name
NUMERIC = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean, pa.types.is_null)
WIDENABLE = {"BOOLEAN", "BIGINT", "DOUBLE", "VARCHAR"}
ARROW_TYPES = {
    "BOOLEAN": pa.bool_(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "VARCHAR": pa.string(),
    "JSON": pa.string(),
    "TIMESTAMP": pa.timestamp("us"),
}
SUMMARY_KEYS = {
    "config": dict,
    "config_hash": str,
    "seed": int,
    "steps": int,
    "versions": dict,
    "metrics": dict,
}


class StoreError(Exception):
    """A user-facing problem with runs or the database; ``str()`` is one line."""


@dataclass(frozen=True)
class CollectReport:
    """What one collection did: runs added, skipped (already stored), unfinished, seconds."""

    added: int
    skipped: int
    unfinished: int
    seconds: float


@dataclass(frozen=True)
class Run:
    """A finished run on disk whose summary is valid."""

    run_dir: Path
    summary: dict[str, Any]
    sweep: str | None
    experiment: str | None

    @property
    def run_id(self) -> str:
        return f"{self.summary['config_hash']}-{self.summary['seed']}"

    @property
    def timeseries(self) -> Path:
        return self.run_dir / TIMESERIES


# -- finding and checking runs ------------------------------------------------------------


def _find_runs(folder: Path) -> tuple[list[Path], int]:
    """Run directories below ``folder`` (itself included): finished ones (with a summary)
    in path order, and how many are unfinished (a Hydra or timeseries file, no summary)."""
    if not folder.is_dir():
        raise StoreError(f"no such folder: {folder}")
    finished, unfinished = [], 0
    for path, dirs, files in os.walk(folder):
        if SUMMARY in files:
            finished.append(Path(path))
        elif TIMESERIES in files or ".hydra" in dirs:
            unfinished += 1
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
    return finished, unfinished


def _summary_problem(summary: Any) -> str | None:
    """What makes ``summary`` not a cogov summary, or ``None`` if it is one."""
    if not isinstance(summary, dict):
        return "not a cogov summary (expected a JSON object)"
    missing = [key for key in SUMMARY_KEYS if key not in summary]
    if missing:
        return f"not a cogov summary (missing {', '.join(missing)})"
    for key, kind in SUMMARY_KEYS.items():
        value = summary[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"{key} is {value!r:.40}, expected {kind.__name__}"
    if not re.fullmatch(r"[0-9a-f]{16}", summary["config_hash"]):
        return f"config_hash {summary['config_hash']!r:.40} is not 16 hex digits"
    if not 0 <= summary["seed"] < 2**63 or summary["steps"] < 0:
        return f"seed {summary['seed']} or steps {summary['steps']} is out of range"
    structure = summary["config"].get("structure")
    if not isinstance(structure, dict) or not isinstance(structure.get("name"), str):
        return "config.structure.name is missing"
    for key in ("experiment", "sweep"):
        if not isinstance(summary.get(key), str | None):
            return f"{key} is {summary[key]!r:.40}, expected a string or null"
    if not all(isinstance(value, str) for value in summary["versions"].values()):
        return "versions must all be strings"
    return _metrics_problem(summary["metrics"])


def _metrics_problem(metrics: dict[str, Any]) -> str | None:
    """What is wrong with the final metrics (names and values), or ``None``."""
    for name, value in metrics.items():
        lower = name.lower()
        if not name or lower in FIXED_COLUMNS or lower.startswith((PARAM, VERSION)):
            return f"metric name {name!r} is reserved for another column"
        if isinstance(value, bool) or not isinstance(value, int | float | None):
            return f"metric {name} is {value!r:.40}, expected a number or null"
    if len({name.lower() for name in metrics}) < len(metrics):
        return "two metric names differ only in case"
    return None


def _read_summary(run_dir: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The run's summary, or the problem that makes it unusable."""
    path = run_dir / SUMMARY
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        return None, f"{path}: cannot read ({error.strerror})"
    except UnicodeDecodeError:
        return None, f"{path}: not UTF-8 text"
    except json.JSONDecodeError as error:
        return None, f"{path}: not valid JSON ({error.msg} at line {error.lineno})"
    problem = _summary_problem(summary)
    return (None, f"{path}: {problem}") if problem else (summary, None)


def _raise_problems(problems: list[str]) -> None:
    """One :class:`StoreError` naming the first problem and counting the others."""
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise StoreError(problems[0] + more)


def _read_runs(
    folders: Sequence[Path], sweep: str | None, experiment: str | None
) -> tuple[list[Run], int]:
    """Every finished run below ``folders`` with a valid summary (else StoreError), and
    the number of unfinished runs. Labels: argument, else summary, else the folder name."""
    runs, problems, unfinished = [], [], 0
    for folder in folders:
        finished, not_yet = _find_runs(folder)
        unfinished += not_yet
        for run_dir in finished:
            summary, problem = _read_summary(run_dir)
            if problem:
                problems.append(problem)
                continue
            folder_name = folder.name if run_dir != folder else None
            runs.append(
                Run(
                    run_dir,
                    summary,
                    sweep or summary.get("sweep") or folder_name,
                    experiment or summary.get("experiment"),
                )
            )
    _raise_problems(problems)
    return runs, unfinished


def _timeseries_problem(schema: pa.Schema) -> str | None:
    """What makes a time series' columns unusable, or ``None``."""
    names = [name.lower() for name in schema.names]
    if "step" not in names or not pa.types.is_integer(schema.field(names.index("step")).type):
        return "no integer column 'step'"
    if len(set(names)) < len(names) or {"run_id", SOURCE_FILE} & set(names):
        return "duplicate or reserved column names (run_id)"
    for field in schema:
        if not any(test(field.type) for test in NUMERIC):
            return f"column {field.name!r} holds {field.type}, expected numbers"
    return None


def _timeseries_columns(runs: list[Run]) -> dict[str, list[str]]:
    """The metric columns of each run's time series, by run_id, after checking every file
    (schema, one row per step 0..steps, every page readable); StoreError otherwise."""
    columns, problems = {}, []
    for run in runs:
        try:
            schema = pq.read_schema(run.timeseries)
        except FileNotFoundError:
            problems.append(f"{run.timeseries}: missing, though {SUMMARY} is there")
            continue
        except (OSError, pa.ArrowException) as error:
            problems.append(f"{run.timeseries}: unreadable parquet ({_first_line(error)})")
            continue
        problem = _timeseries_problem(schema)
        if problem:
            problems.append(f"{run.timeseries}: {problem}")
        columns[run.run_id] = [name for name in schema.names if name.lower() != "step"]
    _raise_problems(problems)
    _raise_problems(_step_problems(runs, columns))
    return columns


def _step_problems(runs: list[Run], columns: dict[str, list[str]]) -> list[str]:
    """Read every value of every time series (in one query; file by file only if it
    fails, to name the bad file) and check each has one row per step 0..steps."""
    if not runs:
        return []
    with duckdb.connect() as con:
        try:
            counts = _step_counts(con, runs, columns)
        except duckdb.Error as error:
            unreadable = [problem for run in runs if (problem := _unreadable(con, run, columns))]
            return unreadable or [f"cannot read the time series together: {_first_line(error)}"]
    problems = []
    for run in runs:
        steps = run.summary["steps"]
        rows, distinct, first, last = counts.get(str(run.timeseries), (0, 0, None, None))
        if (rows, distinct, first, last) != (steps + 1, steps + 1, 0, steps):
            problems.append(
                f"{run.timeseries}: {rows} rows with steps {first}..{last}; expected one row "
                f"per step 0..{steps} ({SUMMARY} says steps={steps})"
            )
    return problems


def _unreadable(con: duckdb.DuckDBPyConnection, run: Run, columns: dict[str, list[str]]) -> str:
    """Why the run's time series cannot be read, or ``""``."""
    try:
        _step_counts(con, [run], columns)
    except duckdb.Error as error:
        return f"{run.timeseries}: unreadable parquet ({_first_line(error)})"
    return ""


def _step_counts(
    con: duckdb.DuckDBPyConnection, runs: list[Run], columns: dict[str, list[str]]
) -> dict[str, tuple[int, int, int, int]]:
    """Per file: rows, distinct steps, first and last step (every column is decoded)."""
    metrics = sorted({name for run in runs for name in columns[run.run_id]})
    touch = "".join(f", count({_quote(name)})" for name in metrics)
    rows = con.execute(
        f"SELECT {SOURCE_FILE}, count(*), count(DISTINCT step), min(step), max(step){touch} "
        f"FROM {_read_parquet_sql()} GROUP BY {SOURCE_FILE}",
        [[str(run.timeseries) for run in runs]],
    ).fetchall()
    return {row[0]: row[1:5] for row in rows}


def _read_parquet_sql() -> str:
    """The table function reading a list of time series, one parameter."""
    return f"read_parquet(?, union_by_name = true, filename = '{SOURCE_FILE}')"


def _first_line(error: BaseException) -> str:
    """The first line of an error message."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


# -- the database ---------------------------------------------------------------------------


def _quote(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _writable(db: Path | str) -> Path:
    """The absolute database path, its folder created; StoreError if it cannot be written."""
    db = Path(db).expanduser().absolute()
    if db.is_dir():
        raise StoreError(f"cannot use {db} as the database: it is a directory")
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(
            f"cannot create the folder of the database {db}: {error.strerror}"
        ) from None
    if not os.access(db if db.exists() else db.parent, os.W_OK):
        raise StoreError(f"cannot write the database {db}: read-only location")
    return db


def check_writable(db: Path | str) -> None:
    """StoreError (one line) unless ``db`` can be written: it must not be a folder, and its
    nearest existing folder must accept a new file (probed with a temporary file, removed at
    once). Nothing else is created."""
    path = Path(db).expanduser().absolute()
    if path.is_dir():
        raise StoreError(f"cannot use {path} as the database: it is a directory")
    existing = next(p for p in path.parents if p.exists())
    if not existing.is_dir():
        raise StoreError(f"cannot write the database {path}: {existing} is not a folder")
    if path.exists() and not os.access(path, os.W_OK):
        raise StoreError(f"cannot write the database {path}: the file is read-only")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise StoreError(
            f"cannot write the database {path}: {existing}: {error.strerror}"
        ) from None


@contextmanager
def _writer_lock(db: Path) -> Iterator[None]:
    """Hold ``<db>.lock`` (waiting up to LOCK_TIMEOUT seconds) so that writers take turns."""
    lock = db.with_name(db.name + ".lock")
    try:
        handle = open(lock, "a")  # noqa: SIM115 (closed below, which releases the lock)
    except OSError as error:
        raise StoreError(
            f"cannot write the database {db}: cannot create {lock} ({error.strerror})"
        ) from None
    with handle:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"{db} is being written by another cogov-collect "
                        f"(waited {LOCK_TIMEOUT:g} s for {lock}); try again when it finishes"
                    ) from None
                time.sleep(RETRY_PAUSE)
        yield


def _open_db(db: Path, read_only: bool, timeout: float) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection, retrying for ``timeout`` seconds while another process holds a
    conflicting lock on the file."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return duckdb.connect(str(db), read_only=read_only)
        except duckdb.Error as error:
            if "lock" not in str(error).lower():
                raise StoreError(f"cannot open {db}: {_first_line(error)}") from None
            if time.monotonic() > deadline:
                action = "read" if read_only else "write"
                raise StoreError(
                    f"cannot {action} {db}: another process has it open "
                    f"(waited {timeout:g} s); try again when it finishes"
                ) from None
        time.sleep(RETRY_PAUSE)


def connect(
    db: Path | str = DEFAULT_DB, read_only: bool = True, *, timeout: float | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection to the results store (use it in a ``with`` block). Read-only by
    default, waiting up to READ_TIMEOUT seconds while a writer has the file; a read-write
    connection creates the database and its tables. Writers should call :func:`collect`."""
    if read_only:
        db = Path(db)
        if not db.is_file():
            raise StoreError(f"no results database at {db}; collect runs with cogov-collect")
        return _open_db(db, True, READ_TIMEOUT if timeout is None else timeout)
    con = _open_db(_writable(db), False, LOCK_TIMEOUT if timeout is None else timeout)
    columns = ", ".join(f"{name} {kind}" for name, kind in FIXED_COLUMNS.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS runs ({columns})")
    con.execute(
        "CREATE TABLE IF NOT EXISTS timeseries (run_id VARCHAR NOT NULL, step BIGINT NOT NULL)"
    )
    return con


def _has_runs_table(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database has its ``runs`` table yet."""
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'runs'")
    return found.fetchone()[0] > 0


def completed_runs(db: Path | str = DEFAULT_DB) -> set[tuple[str, int]]:
    """``(config_hash, seed)`` of every stored run; empty if the database does not exist."""
    if not Path(db).exists():
        return set()
    with connect(db) as con:
        if not _has_runs_table(con):
            return set()
        return set(con.execute("SELECT config_hash, seed FROM runs").fetchall())


def runs_frame(db: Path | str = DEFAULT_DB, **filters: Any) -> pd.DataFrame:
    """Stored runs, one row each, sorted by structure, config and seed. Filters match
    columns: ``runs_frame(db, structure="sanshe", residents__synergy=[3.5, 4.5])`` (``__``
    for dots, ``param.`` implied, a list matches any of its values, None matches NULL)."""
    with connect(db) as con:
        if not _has_runs_table(con):
            raise StoreError(f"{db} holds no runs yet")
        columns = [row[0] for row in con.execute("DESCRIBE runs").fetchall()]
        conditions, values = [], []
        for key, value in filters.items():
            column = _quote(_filter_column(key, columns))
            if value is None:
                conditions.append(f"{column} IS NULL")
            elif isinstance(value, list | tuple | set):
                conditions.append(f"{column} IN (SELECT unnest(?))" if value else "false")
                values.extend([list(value)] if value else [])
            else:
                conditions.append(f"{column} = ?")
                values.append(value)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        query = f"SELECT * FROM runs{where} ORDER BY structure, config_hash, seed"
        return con.execute(query, values).df()


def _filter_column(key: str, columns: list[str]) -> str:
    """The column a :func:`runs_frame` filter names (case-insensitive)."""
    dotted = key.replace("__", ".")
    by_lower = {name.lower(): name for name in columns}
    for candidate in (key, dotted, PARAM + dotted):
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    raise StoreError(f"no column {key!r} in runs; columns: {', '.join(columns)}")


# -- writing --------------------------------------------------------------------------------


def _flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config as ``{"world.width": 100, ...}`` (lists stay values)."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _sql_type(value: Any) -> str | None:
    """The column type a parameter value needs (``None`` for a null: any type will do)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "BIGINT"
    return "DOUBLE" if isinstance(value, float) else "VARCHAR"


def _wider(old: str | None, new: str | None) -> str | None:
    """The type that holds values of both: integers widen to doubles, other mixes of
    boolean, number and text to text; a type that cannot widen (JSON, TIMESTAMP) stays."""
    if old is None or new is None or old == new:
        return old or new
    if {old, new} == {"BIGINT", "DOUBLE"}:
        return "DOUBLE"
    return "VARCHAR" if {old, new} <= WIDENABLE else old


def _run_row(run: Run, collected_at: datetime) -> dict[str, tuple[Any, str | None]]:
    """The run's ``runs`` row: column -> (value, column type)."""
    summary = run.summary
    row = {
        "run_id": (run.run_id, "VARCHAR"),
        "config_hash": (summary["config_hash"], "VARCHAR"),
        "seed": (summary["seed"], "BIGINT"),
        "structure": (summary["config"]["structure"]["name"], "VARCHAR"),
        "experiment": (run.experiment, "VARCHAR"),
        "sweep": (run.sweep, "VARCHAR"),
        "steps": (summary["steps"], "BIGINT"),
        "run_dir": (str(run.run_dir), "VARCHAR"),
        "collected_at": (collected_at, "TIMESTAMP"),
        "config": (json.dumps(summary["config"], sort_keys=True), "JSON"),
    }
    for key, value in _flatten(summary["config"]).items():
        row[PARAM + key] = (value, _sql_type(value))
    for name, value in summary["metrics"].items():
        missing = value is None or math.isnan(value)
        row[name] = (None if missing else float(value), "DOUBLE")
    for package, value in summary["versions"].items():
        row[VERSION + package] = (value, "VARCHAR")
    return row


def _as_type(kind: str, value: Any) -> Any:
    """``value`` converted for a column of type ``kind`` (lists and dicts as JSON text)."""
    if value is None or kind in ("JSON", "TIMESTAMP"):
        return value
    if kind == "VARCHAR":
        return value if isinstance(value, str) else json.dumps(value)
    return {"BOOLEAN": bool, "BIGINT": int, "DOUBLE": float}[kind](value)


def _column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, tuple[str, str]]:
    """Lower-cased column name -> (name, type) of ``table``."""
    rows = con.execute(f"DESCRIBE {table}").fetchall()
    return {name.lower(): (name, kind) for name, kind, *_ in rows}


def _evolve(con: duckdb.DuckDBPyConnection, table: str, wanted: dict[str, str]) -> dict[str, str]:
    """Add the ``wanted`` columns ``table`` lacks, widen those too narrow; return the
    resulting type of each wanted column."""
    existing = _column_types(con, table)
    result = {}
    for column, kind in wanted.items():
        name, old = existing.get(column.lower(), (column, None))
        result[column] = _wider(old, kind)
        if old is None:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {_quote(column)} {kind}")
        elif result[column] != old:
            con.execute(f"ALTER TABLE {table} ALTER COLUMN {_quote(name)} TYPE {result[column]}")
    return result


def _runs_table(con: duckdb.DuckDBPyConnection, runs: list[Run]) -> pa.Table:
    """The batch's ``runs`` rows as an Arrow table, after adding or widening columns."""
    collected_at = datetime.now(UTC).replace(tzinfo=None)
    rows = [_run_row(run, collected_at) for run in runs]
    wanted: dict[str, str | None] = {}
    for row in rows:
        for column, (_, kind) in row.items():
            wanted[column] = _wider(wanted.get(column), kind)
    existing = _column_types(con, "runs")
    known = {c: k for c, k in wanted.items() if k or c.lower() in existing}
    types = _evolve(con, "runs", {c: k or existing[c.lower()][1] for c, k in known.items()})
    return pa.table(
        {
            column: pa.array(
                [_as_type(kind, row.get(column, (None,))[0]) for row in rows], ARROW_TYPES[kind]
            )
            for column, kind in types.items()
        }
    )


def _insert_batch(db: Path, runs: list[Run], columns: dict[str, list[str]]) -> None:
    """Write the runs' ``runs`` and ``timeseries`` rows in one transaction."""
    metrics = list(dict.fromkeys(name for run in runs for name in columns[run.run_id]))
    cleaned = ", ".join(
        f"nullif(CAST(t.{_quote(name)} AS DOUBLE), 'NaN'::DOUBLE) AS {_quote(name)}"
        for name in metrics
    )
    sources = pa.table(
        {SOURCE_FILE: [str(run.timeseries) for run in runs], "run_id": [run.run_id for run in runs]}
    )
    with connect(db, read_only=False) as con:
        con.begin()
        batch = _runs_table(con, runs)
        _evolve(con, "timeseries", dict.fromkeys(metrics, "DOUBLE"))
        con.register("new_runs", batch)
        con.register("sources", sources)
        con.execute("INSERT INTO runs BY NAME SELECT * FROM new_runs")
        con.execute(
            f"INSERT INTO timeseries BY NAME SELECT s.run_id, t.step{', ' if metrics else ''}"
            f"{cleaned} FROM {_read_parquet_sql()} t JOIN sources s USING ({SOURCE_FILE})",
            [sources[SOURCE_FILE].to_pylist()],
        )
        con.commit()


def _new_runs(runs: list[Run], stored: set[tuple[str, int]]) -> list[Run]:
    """The runs not stored yet, each run_id once (the first found)."""
    seen = {f"{config_hash}-{seed}" for config_hash, seed in stored}
    fresh = []
    for run in runs:
        if run.run_id not in seen:
            seen.add(run.run_id)
            fresh.append(run)
    return fresh


def _as_paths(folder: Path | str | Sequence[Path | str]) -> list[Path]:
    """One folder or several, as absolute paths."""
    folders = [folder] if isinstance(folder, str | Path) else list(folder)
    return [Path(f).expanduser().resolve() for f in folders]


def collect(
    folder: Path | str | Sequence[Path | str],
    db: Path | str = DEFAULT_DB,
    *,
    sweep: str | None = None,
    experiment: str | None = None,
    progress: bool = False,
    batch_size: int = BATCH_RUNS,
) -> CollectReport:
    """Store every finished run below ``folder`` (one or a list) that ``db`` lacks.

    Every new run is checked before anything is written (StoreError, database unchanged);
    then ``batch_size`` runs are written per transaction. ``sweep`` and ``experiment``
    label the runs (default: the summary's, else for sweep the collected folder's name).
    """
    start = time.perf_counter()
    runs, unfinished = _read_runs(_as_paths(folder), sweep, experiment)
    db = _writable(db)
    with _writer_lock(db):
        fresh = _new_runs(runs, completed_runs(db))
        columns = _timeseries_columns(fresh)
        with tqdm(total=len(fresh), unit="run", disable=not progress, file=sys.stderr) as bar:
            for first in range(0, len(fresh), batch_size):
                batch = fresh[first : first + batch_size]
                _insert_batch(db, batch, columns)
                bar.update(len(batch))
    return CollectReport(
        added=len(fresh),
        skipped=len(runs) - len(fresh),
        unfinished=unfinished,
        seconds=time.perf_counter() - start,
    )


def write_table(
    db: Path | str, table: str, frame: pd.DataFrame, replace_where: dict[str, Any]
) -> None:
    """Replace the rows of ``table`` matching ``replace_where`` by ``frame``, in one
    transaction under the writer lock (for derived results such as sensitivity indices)."""
    db = _writable(db)
    with _writer_lock(db), connect(db, read_only=False) as con:
        con.register("incoming", frame)
        con.execute(f"CREATE TABLE IF NOT EXISTS {_quote(table)} AS SELECT * FROM incoming LIMIT 0")
        where = " AND ".join(f"{_quote(k)} = ?" for k in replace_where)
        known = {row[0] for row in con.execute(f"DESCRIBE {_quote(table)}").fetchall()}
        con.execute("BEGIN TRANSACTION")
        for name, kind, *_ in con.execute("DESCRIBE incoming").fetchall():
            if name not in known:  # a new column (e.g. another design's inputs)
                con.execute(f"ALTER TABLE {_quote(table)} ADD COLUMN {_quote(name)} {kind}")
        con.execute(f"DELETE FROM {_quote(table)} WHERE {where}", list(replace_where.values()))
        con.execute(f"INSERT INTO {_quote(table)} BY NAME SELECT * FROM incoming")
        con.execute("COMMIT")


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point ``cogov-collect``: a StoreError is one line on stderr, exit 2."""
    parser = argparse.ArgumentParser(prog="cogov-collect", description=__doc__.splitlines()[0])
    parser.add_argument(
        "folders", nargs="+", type=Path, metavar="FOLDER", help="runs or folders of runs"
    )
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"default {DEFAULT_DB}")
    parser.add_argument("--sweep", help="label the runs with this sweep name")
    parser.add_argument("--experiment", help="label the runs with this experiment name")
    parser.add_argument(
        "--batch-size", type=int, default=BATCH_RUNS, help="runs written per transaction"
    )
    args = parser.parse_args(argv)
    try:
        report = collect(
            args.folders,
            args.db,
            sweep=args.sweep,
            experiment=args.experiment,
            progress=sys.stderr.isatty(),
            batch_size=args.batch_size,
        )
    except StoreError as error:
        print(f"cogov-collect: error: {error}", file=sys.stderr)
        sys.exit(2)
    print(
        f"added {report.added} runs, skipped {report.skipped} already stored, "
        f"{report.unfinished} unfinished -> {args.db}"
    )


if __name__ == "__main__":
    main()
