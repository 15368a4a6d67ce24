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
of runs per transaction), and a new database appears with its tables, so a killed collection
leaves whole runs only; collecting again adds the missing ones and skips those already
stored. The database path may start with ``~``; symbolic links are followed. Writers queue
on the file lock ``<db>.lock`` beside the real file, and wait for other processes that have
the database open, saying on stderr which one after NOTICE_AFTER seconds; readers use
:func:`connect`, which waits briefly while a writer has the file. A file that is not a cogov
database (SQLite, or DuckDB with other tables) is refused before anything is written.
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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from experiments.files import user_path
from experiments.records import PARAM, RUN_FIELDS, SUMMARY, TIMESERIES, VERSION, Run, read_summary

DEFAULT_DB = Path("results/cogov.duckdb")
BATCH_RUNS = 200  # runs written per transaction
LOCK_TIMEOUT = 600.0  # seconds a writer waits for another writer (or open readers)
READ_TIMEOUT = 10.0  # seconds a reader waits for a writer to release the file
RETRY_PAUSE = 0.05  # seconds between attempts to take a lock
NOTICE_AFTER = 1.0  # seconds of waiting for a lock before saying what for, on stderr
DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file
SQLITE_MAGIC = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file

FIXED_COLUMNS = dict(
    zip(
        RUN_FIELDS,
        (
            "VARCHAR PRIMARY KEY",  # run_id
            "VARCHAR NOT NULL",  # config_hash
            "BIGINT NOT NULL",  # seed
            "VARCHAR",  # structure
            "VARCHAR",  # experiment
            "VARCHAR",  # sweep
            "BIGINT NOT NULL",  # steps
            "VARCHAR NOT NULL",  # run_dir
            "TIMESTAMP NOT NULL",  # collected_at
            "JSON NOT NULL",  # config
        ),
        strict=True,
    )
)
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


class PlannedRun(Protocol):
    """A run an experiment plans (:class:`experiments.sweep.RunSpec`)."""

    @property
    def run_id(self) -> str: ...

    @property
    def structure(self) -> str: ...

    @property
    def point(self) -> tuple[tuple[str, Any], ...]: ...


class StoreError(Exception):
    """A user-facing problem with runs or the database; ``str()`` is one line."""


@dataclass(frozen=True)
class CollectReport:
    """What one collection did: runs added, skipped (already stored), unfinished, seconds."""

    added: int
    skipped: int
    unfinished: int
    seconds: float


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
            summary, problem = read_summary(run_dir)
            if problem:
                problems.append(problem)
                continue
            assert summary is not None  # read_summary gives a summary or a problem
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
    """The database path (see :func:`user_path`), its folder created; StoreError if it
    cannot be written or is not a cogov database."""
    db = user_path(db)
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
    _check_duckdb_file(db)
    return db


def check_writable(db: Path | str) -> None:
    """StoreError (one line) unless ``db`` can be written: it must not be a folder nor a
    file other than a DuckDB database, and its nearest existing folder must accept a new
    file (probed with a temporary file, removed at once). Nothing else is created."""
    path = user_path(db)
    if path.is_dir():
        raise StoreError(f"cannot use {path} as the database: it is a directory")
    existing = next(p for p in path.parents if p.exists())
    if not existing.is_dir():
        raise StoreError(f"cannot write the database {path}: {existing} is not a folder")
    if path.exists() and not os.access(path, os.W_OK):
        raise StoreError(f"cannot write the database {path}: the file is read-only")
    _check_duckdb_file(path)
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise StoreError(
            f"cannot write the database {path}: {existing}: {error.strerror}"
        ) from None


def _check_duckdb_file(db: Path) -> None:
    """StoreError unless ``db`` is missing or starts like a DuckDB database (so that DuckDB
    is never asked to open, or fetch an extension for, a SQLite or other file)."""
    if not db.is_file():
        return
    with open(db, "rb") as file:
        header = file.read(len(SQLITE_MAGIC))
    if header[8:12] != DUCKDB_MAGIC:
        kind = " (it is a SQLite database)" if header.startswith(SQLITE_MAGIC) else ""
        raise StoreError(
            f"{db} is not a valid DuckDB database{kind}; choose another file for the results"
        )


def _check_cogov_tables(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    """StoreError unless the tables ``runs`` and ``timeseries``, where they exist, have
    the columns cogov gives them."""
    for table, needed in (("runs", FIXED_COLUMNS), ("timeseries", ("run_id", "step"))):
        if not _has_table(con, table):
            continue
        missing = [name for name in needed if name not in _column_types(con, table)]
        if missing:
            raise StoreError(
                f"{db} is not a cogov results database (its table {table} has no column "
                f"{', '.join(missing)}); choose another file for the results"
            )


class _Busy(Exception):
    """What we wait for is held by another process; ``str()`` says by whom."""


def _patiently[T](attempt: Callable[[], T], action: str, timeout: float) -> T:
    """``attempt()`` again every RETRY_PAUSE seconds while it raises :class:`_Busy`: after
    NOTICE_AFTER seconds say once on stderr what ``action`` waits for; after ``timeout``
    seconds give up with a StoreError."""
    start = time.monotonic()
    told = False
    while True:
        try:
            return attempt()
        except _Busy as busy:
            waited = time.monotonic() - start
            if waited > timeout:
                raise StoreError(
                    f"cannot {action}: {busy}; gave up after {timeout:g} s, try again when "
                    "it is free"
                ) from None
            if waited > NOTICE_AFTER and not told:
                print(f"cogov: waiting up to {timeout:g} s to {action}: {busy}", file=sys.stderr)
                told = True
        time.sleep(RETRY_PAUSE)


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

    def take() -> None:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _Busy(f"it is being written by another cogov process (it holds {lock})") from None

    with handle:
        _patiently(take, f"write {db}", LOCK_TIMEOUT)
        yield


def _open_db(db: Path, read_only: bool, timeout: float) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection, retrying for ``timeout`` seconds while another process holds a
    conflicting lock on the file."""

    def open_it() -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(str(db), read_only=read_only)
        except duckdb.Error as error:
            if "lock" not in str(error).lower():
                raise StoreError(f"cannot open {db}: {_first_line(error)}") from None
            holder = re.search(r"held in (.+) \(PID (\d+)\)", str(error))
            who = f"process {holder[2]} ({Path(holder[1]).name})" if holder else "another process"
            raise _Busy(
                f"{who} has it open"
                + ("" if read_only else " (even a read-only connection blocks writers)")
            ) from None

    return _patiently(open_it, f"{'read' if read_only else 'write'} {db}", timeout)


def _create(db: Path) -> None:
    """Create the database with its tables unless it exists, atomically: built under a
    temporary name, then linked into place, so nobody ever sees a database without tables."""
    temp = db.with_name(f".{db.name}.{os.getpid()}.new")
    leftovers = (temp, temp.with_name(temp.name + ".wal"))
    for path in leftovers:
        path.unlink(missing_ok=True)
    try:
        with duckdb.connect(str(temp)) as con:
            _create_tables(con)
        os.link(temp, db)
    except FileExistsError:
        pass  # another writer created it first
    finally:
        for path in leftovers:
            path.unlink(missing_ok=True)


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables ``runs`` and ``timeseries`` unless they exist."""
    columns = ", ".join(f"{name} {kind}" for name, kind in FIXED_COLUMNS.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS runs ({columns})")
    con.execute(
        "CREATE TABLE IF NOT EXISTS timeseries (run_id VARCHAR NOT NULL, step BIGINT NOT NULL)"
    )


def connect(
    db: Path | str = DEFAULT_DB, read_only: bool = True, *, timeout: float | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection to the results store (use it in a ``with`` block). Read-only by
    default, waiting up to READ_TIMEOUT seconds while a writer has the file; a read-write
    connection creates the database and its tables, waiting up to LOCK_TIMEOUT seconds for
    other processes to close it. Writers should call :func:`collect`. ``db`` may start with
    ``~``; a file that is not a cogov database is a StoreError."""
    if read_only:
        db = user_path(db)
        if not db.is_file():
            raise StoreError(f"no results database at {db}; collect runs with cogov-collect")
        _check_duckdb_file(db)
        con = _open_db(db, True, READ_TIMEOUT if timeout is None else timeout)
    else:
        db = _writable(db)
        if not db.exists():
            _create(db)
        con = _open_db(db, False, LOCK_TIMEOUT if timeout is None else timeout)
    try:
        _check_cogov_tables(con, db)
    except StoreError:
        con.close()
        raise
    if not read_only:
        _create_tables(con)  # a database made by DuckDB itself has none
    return con


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the database has the table (a database made by DuckDB itself may have none)."""
    return _number(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]) > 0


def _number(con: duckdb.DuckDBPyConnection, query: str, parameters: list | None = None) -> int:
    """The count a ``SELECT count(*)`` or an ``UPDATE`` returns (always one row)."""
    row = con.execute(query, parameters).fetchone()
    assert row is not None
    return row[0]


def completed_runs(db: Path | str = DEFAULT_DB) -> set[tuple[str, int]]:
    """``(config_hash, seed)`` of every stored run; empty if the database does not exist."""
    if not user_path(db).exists():
        return set()
    with connect(db) as con:
        if not _has_table(con, "runs"):
            return set()
        return set(con.execute("SELECT config_hash, seed FROM runs").fetchall())


def runs_frame(db: Path | str = DEFAULT_DB, **filters: Any) -> pd.DataFrame:
    """Stored runs, one row each, sorted by structure, config and seed. Filters match
    columns: ``runs_frame(db, structure="sanshe", residents__synergy=[3.5, 4.5])`` (``__``
    for dots, ``param.`` implied, a list matches any of its values, None matches NULL)."""
    with connect(db) as con:
        if not _has_table(con, "runs"):
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


def _planned(specs: Sequence[PlannedRun], *, points: bool) -> pd.DataFrame:
    """The planned runs as a frame: run_id, structure (or each point's values), plan order."""
    columns: dict[str, list[Any]] = {"run_id": [s.run_id for s in specs]}
    if points:
        columns |= {k: [dict(s.point)[k] for s in specs] for k, _ in specs[0].point}
    else:
        columns["structure"] = [s.structure for s in specs]
    return pd.DataFrame(columns | {"plan_order": range(len(specs))})


def results_frame(specs: Sequence[PlannedRun], db: Path | str = DEFAULT_DB) -> pd.DataFrame:
    """The stored ``runs`` rows of the planned runs, in plan order, each preceded by the
    values of its point (one column per experiment key); runs not stored are left out."""
    with connect(db) as con:
        con.register("planned", _planned(specs, points=True))
        return con.execute(
            "SELECT planned.* EXCLUDE (plan_order), runs.* EXCLUDE (run_id) "
            "FROM planned JOIN runs USING (run_id) ORDER BY plan_order"
        ).df()


def timeseries_frame(
    specs: Sequence[PlannedRun], db: Path | str, metrics: list[str]
) -> pd.DataFrame:
    """The stored time series of the planned runs: run_id, structure, step and ``metrics``,
    by run (in plan order) and step."""
    columns = ", ".join(f"timeseries.{_quote(m)}" for m in metrics)
    with connect(db) as con:
        con.register("planned", _planned(specs, points=False))
        return con.execute(
            f"SELECT planned.run_id, planned.structure, step, {columns} "
            "FROM planned JOIN timeseries USING (run_id) ORDER BY plan_order, step"
        ).df()


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
        row[name] = (None if value is None or math.isnan(value) else float(value), "DOUBLE")
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
    if batch_size < 1:
        raise StoreError(
            f"batch size {batch_size} is not allowed; expected a positive number of runs "
            "per transaction (--batch-size)"
        )
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


def claim_runs(db: Path | str, run_ids: Sequence[str], experiment: str) -> int:
    """Label with ``experiment`` those of the stored runs ``run_ids`` that have no
    experiment yet (runs collected by hand before the experiment planned them); return how
    many. Nothing is written when there are none."""
    if not user_path(db).exists():
        return 0
    planned = pa.table({"run_id": pa.array(run_ids, pa.string())})
    unlabelled = "experiment IS NULL AND run_id IN (SELECT run_id FROM planned)"
    with connect(db) as con:
        con.register("planned", planned)
        found = _has_table(con, "runs") and _number(
            con, f"SELECT count(*) FROM runs WHERE {unlabelled}"
        )
    if not found:
        return 0
    db = _writable(db)
    with _writer_lock(db), connect(db, read_only=False) as con:
        con.register("planned", planned)
        update = f"UPDATE runs SET experiment = ? WHERE {unlabelled}"
        return _number(con, update, [experiment])


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
    parser = argparse.ArgumentParser(
        prog="cogov-collect", description=(__doc__ or "").partition("\n")[0]
    )
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
