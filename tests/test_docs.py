"""The model description stays complete and true: every configuration key a user can set and every
metric the model records is named in docs/ODD.md (in backticks, as the dotted key or name)."""

from __future__ import annotations

import functools
import importlib
import re
from pathlib import Path

import pytest

from model import CoGovModel, load_config
from model.schema import iter_params
from tests.conftest import days, world

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"


@pytest.fixture(scope="module")
def odd_text() -> str:
    return ODD.read_text(encoding="utf-8")


def missing_from(text: str, names: list[str]) -> list[str]:
    """The names that do not appear in ``text`` as `` `name` ``."""
    return [name for name in names if f"`{name}`" not in text]


def test_every_config_key_is_documented(odd_text):
    keys = [key for key, _ in iter_params()]
    missing = missing_from(odd_text, keys)
    assert not missing, f"docs/ODD.md does not name these config keys: {', '.join(missing)}"


def test_every_metric_is_documented(odd_text):
    """Daily metrics (the time series) and headline metrics (the run's summary)."""
    model = CoGovModel(load_config(*world(6), *days(2), "shock=epidemic", "shock.start=1"))
    model.run_for(2)
    names = list(dict.fromkeys([*model.metrics, *model.headline()]))
    missing = missing_from(odd_text, names)
    assert not missing, f"docs/ODD.md does not name these metrics: {', '.join(missing)}"


ROOT = ODD.parent.parent
MAP_ROW = re.compile(r"^\| (7\.\d+) \| `([\w/]+\.py)` \| (.+) \|$", re.MULTILINE)


def section_map(text: str) -> list[tuple[str, str, list[str]]]:
    """The rows of the table "ODD section → module": section, module file, names in it."""
    return [
        (section, module, re.findall(r"`([\w.]+)`", names))
        for section, module, names in MAP_ROW.findall(text)
    ]


def test_the_section_map_lists_every_submodel(odd_text):
    submodels = set(re.findall(r"^### (7\.\d+) ", odd_text, re.MULTILINE))
    mapped = {section for section, _, _ in section_map(odd_text)}
    assert submodels, "docs/ODD.md has no subsections 7.x"
    assert submodels <= mapped, f"not in the section map: {sorted(submodels - mapped)}"


def test_every_module_and_name_in_the_section_map_exists(odd_text):
    wrong = []
    for section, module, names in section_map(odd_text):
        if not (ROOT / module).is_file():
            wrong.append(f"{section}: no file {module}")
            continue
        code = importlib.import_module(module.removesuffix(".py").replace("/", "."))
        for name in names:
            try:
                functools.reduce(getattr, name.split("."), code)
            except AttributeError:
                wrong.append(f"{section}: {module} has no {name}")
    assert not wrong, "the section map in docs/ODD.md is out of date:\n" + "\n".join(wrong)


def test_the_readme_python_examples_run_as_a_script(tmp_path):
    """The Python blocks of the README's "In Python or a notebook", in order, as one script
    file run by a fresh interpreter: what a user who copies them gets, Mesa's ``batch_run``
    with its ``spawn`` workers included (which import the script again)."""
    import os
    import subprocess
    import sys

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.partition("### In Python or a notebook\n")[2].partition("\n## ")[0]
    blocks = re.findall(r"^```python\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 2 and "batch_run" in blocks[1]
    script = tmp_path / "examples.py"
    # under the block's own guard: a spawned worker that reached it would fail to start
    script.write_text("\n".join(blocks) + "    print('results', len(results))\n")
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == "results 6"


def test_the_readme_results_store_examples_run_on_a_store(tmp_cwd):
    """The README's queries of ``results/cogov.duckdb`` (its SQL, its pandas and its DuckDB
    relations blocks), run in the folder where a user ran two small experiments, return the
    structures and the backlog curves those experiments stored."""
    import contextlib
    import io

    import duckdb

    from experiments.sweep import run_experiment

    two = ["experiment.structures=[grid,sanshe]", "experiment.workers=1", "experiment.seeds=1"]
    tiny = [*world(16, communities=4), *days(12)]  # the model keys every run gets, as in cogov
    run_experiment(load_config("experiment=compare_structures", *two), tiny, progress=False)
    early = [*tiny, "shock.start=3"]  # the epidemic within the twelve days
    run_experiment(load_config("experiment=shock_response", *two), early, progress=False)
    assert (tmp_cwd / "results" / "cogov.duckdb").is_file()

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.partition("### The results store\n")[2].partition("\n## ")[0]
    (sql,) = re.findall(r"^```sql\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    frame, relations = re.findall(r"^```python\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    with duckdb.connect("results/cogov.duckdb", read_only=True) as con:
        assert sorted(row[0] for row in con.execute(sql).fetchall()) == ["grid", "sanshe"]
        sizes = 'SELECT DISTINCT "param.world.width", steps FROM runs'
        assert con.execute(sizes).fetchall() == [(16, 12)]

    *statements, last = frame.strip().splitlines()
    scope: dict = {}
    exec("\n".join(statements), scope)  # the README's own example
    means = eval(last, scope)  # its last line: an expression a notebook would show
    assert sorted(means.index) == ["grid", "sanshe"]
    assert list(means.columns) == ["problem_resolution_rate", "cost_per_problem_solved"]

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(relations, {})
    assert "backlog" in printed.getvalue() and "grid" in printed.getvalue()
