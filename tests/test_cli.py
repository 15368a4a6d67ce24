"""The ``cogov`` command: odd overrides, the help page, the pre-flight checks and what it loads."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import pytest

from experiments import cli
from model.config import CONFIG_DIR
from model.schema import iter_params

TINY_RUN = [
    *("world.width=10", "world.height=10", "world.community_households=100"),
    *("world.grid_unit_households=50", "steps=1", "metrics.burn_in=0"),
]
"""A one-day run on 10 x 10 households (with a structure=...)."""


@pytest.mark.parametrize(
    "args,expected",
    [
        (["=5"], "cannot parse override '=5': it needs a key"),
        (["world=null"], "world=null is not allowed; expected one of: default"),
        (["-m", "seed=range(0)"], "seed=range(0) sweeps over no values"),
        (["-m", "seed=interval(0,1)"], "seed=interval(0,1): the basic sweeper cannot enumerate"),
        (["~world.width"], "~world.width would remove world.width"),
        (["~structure"], "choose a preset with structure=NAME"),
        (["world.torus=2"], "world.torus=2 is not allowed; expected true or false"),
        (["party.whistle=yes"], "party.whistle='yes' is not allowed; expected true or false"),
        (["-m", "party.whistle=true,on"], "party.whistle='on' is not allowed; expected true"),
        (["structure=[sanshe,grid]"], "is not allowed; expected one of: "),
        (["structure=[sanshe,grid]"], "(one preset per group)"),
        (["structure@world=grid"], "a preset cannot move to another key"),
        (["+world.width=3"], "+world.width: world.width exists already"),
        (["seed=1,2"], "seed=1,2 is a sweep; sweep it with cogov -m"),
        (["seed=tag(a,1)"], "cannot parse override 'seed=tag(a,1)'"),
        (["world/x=1"], "unknown config group world/x"),
        (["-m", "hydra/launcher=../../x", "seed=0"], "expected the name of one preset (no list"),
    ],
    ids=lambda arg: " ".join(arg) if isinstance(arg, list) else None,
)
def test_odd_overrides_are_one_line_naming_the_key(args, expected, cogov_fails, tmp_cwd):
    code, lines = cogov_fails(*args)
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("cogov: error: "), lines
    assert expected in lines[0]
    assert not any(tmp_cwd.iterdir())


def test_a_preset_outside_its_group_is_never_loaded(cogov_fails, tmp_cwd):
    """``structure=../../somewhere/evil`` must not load a YAML file from elsewhere on disk."""
    (tmp_cwd / "evil.yaml").write_text("name: evil\ninstitutions: false\n")
    escape = os.path.relpath(tmp_cwd / "evil", CONFIG_DIR / "structure")
    code, lines = cogov_fails(f"structure={escape}", "steps=1")
    assert code == 2 and len(lines) == 1
    assert f"structure={escape!r} is not allowed; expected one of: " in lines[0]
    assert "bureaucratic, canonical_pgg" in lines[0]
    assert [p.name for p in tmp_cwd.iterdir()] == ["evil.yaml"]


def test_help_lists_every_key_with_its_range_and_meaning(monkeypatch, capsys, tmp_cwd):
    monkeypatch.setattr(sys, "argv", ["cogov", "--help"])
    cli.main()
    text = capsys.readouterr().out
    assert "== Configuration groups ==" in text and "shock: disaster, epidemic, none" in text
    for key, f in iter_params():
        rule, doc = f.metadata["rule"].describe, f.metadata["doc"]
        shown = key if key.startswith("experiment.") else f"{key}="
        assert f"  {shown}" in text and f"({rule})" in text and f"      {doc}\n" in text, key
    assert "  world.width=100  (an integer in [2, 46340])" in text
    assert not any(tmp_cwd.iterdir())


def test_help_shows_the_values_the_command_line_composes(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["cogov", "structure=canonical_pgg", "--help"])
    cli.main()
    text = capsys.readouterr().out
    assert "  world.torus=true  (true or false)" in text
    assert "  structure.institutions=false" in text


@pytest.mark.parametrize("args", [["lang=zh"], ["experiment=shock_response", "lang=zh"]])
def test_chinese_without_a_cjk_font_fails_before_any_run(args, cogov_fails, monkeypatch, tmp_cwd):
    monkeypatch.setattr("experiments.labels.cjk_font", lambda: None)
    code, lines = cogov_fails(*args)
    assert code == 2
    assert len(lines) == 1 and "lang=zh needs a CJK font" in lines[0]
    assert "fonts-noto-cjk" in lines[0]
    assert not any(tmp_cwd.iterdir())  # no run, no database, no figure


def test_figures_without_a_cjk_font_fail_before_any_run(monkeypatch, capsys, tmp_cwd):
    from experiments import figures

    monkeypatch.setattr("experiments.labels.cjk_font", lambda: None)
    with pytest.raises(SystemExit) as stopped:
        figures.main(["lang=zh"])
    assert stopped.value.code == 2
    assert "lang=zh needs a CJK font" in capsys.readouterr().err
    assert not any(tmp_cwd.iterdir())


def _modules_loaded(*args: str) -> set[str]:
    """The modules ``cogov ARGS`` imports, from ``python -X importtime`` in a fresh process."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "experiments.cli", *args],
        capture_output=True,
        text=True,
    )
    return {
        line.rpartition("|")[2].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }


@pytest.mark.parametrize(
    "args",
    [["--help"], ["world.widht=5"], ["seed=-1"], ["-m", "seed=range(0)"]],
    ids=" ".join,
)
def test_help_and_config_errors_load_neither_mesa_numba_nor_duckdb(args, tmp_cwd):
    loaded = _modules_loaded(*args)
    assert "omegaconf" in loaded  # the importtime report was read
    assert not loaded & {"mesa", "numba", "duckdb"}


def test_bytecode_is_missing_when_python_may_not_write_it_and_mesa_has_none(monkeypatch, tmp_path):
    from experiments.environment import bytecode_missing

    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # Python writes it as it goes
    assert not bytecode_missing()
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    absent, present = tmp_path / "absent.pyc", tmp_path / "present.pyc"
    present.touch()
    monkeypatch.setattr("importlib.util.cache_from_source", lambda _: str(absent))
    assert bytecode_missing()
    monkeypatch.setattr("importlib.util.cache_from_source", lambda _: str(present))
    assert not bytecode_missing()


def test_uncached_kernels_are_found_where_numba_caches_them(monkeypatch, tmp_path):
    from experiments.environment import kernels_uncached

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert kernels_uncached()
    (tmp_path / "work" / "model").mkdir(parents=True)
    (tmp_path / "work" / "model" / "kernels.co_production_round-10.py312.nbi").touch()
    assert not kernels_uncached()


@pytest.mark.parametrize(("missing", "uncached"), [(True, False), (False, True), (False, False)])
def test_a_run_notes_once_why_it_starts_slowly(missing, uncached, monkeypatch, capsys, tmp_cwd):
    """Each note comes after the checks (a refused command stays one line) and before the
    run; the bytecode note names the command that stops it."""
    monkeypatch.setattr(cli, "bytecode_missing", lambda: missing)
    monkeypatch.setattr(cli, "kernels_uncached", lambda: uncached)
    monkeypatch.setattr(sys, "argv", ["cogov", "structure=sanshe", *TINY_RUN])
    cli.main()
    notes = [line for line in capsys.readouterr().err.splitlines() if "note:" in line]
    expected = [(cli.BYTECODE_NOTE, missing), (cli.KERNELS_NOTE, uncached)]
    assert notes == ["cogov: note: " + note for note, shown in expected if shown]
    assert "uv sync --compile-bytecode" in cli.BYTECODE_NOTE


def test_a_refused_command_gives_no_note(monkeypatch, cogov_fails, tmp_cwd):
    monkeypatch.setattr(cli, "bytecode_missing", lambda: True)
    monkeypatch.setattr(cli, "kernels_uncached", lambda: True)
    code, lines = cogov_fails("world.widht=5")
    assert code == 2 and len(lines) == 1 and lines[0].startswith("cogov: error: ")


def test_the_collector_rests_while_cogov_starts_and_is_back_for_the_run(
    monkeypatch, capsys, cogov_fails, tmp_cwd
):
    """No garbage collection while a run loads and composes (:func:`experiments.cli._started`);
    on again once the model runs, and after a refused command; on throughout a sweep."""
    from experiments import run

    seen: dict[str, bool] = {}
    check, simulate = cli.validate, run.simulate
    monkeypatch.setattr(
        cli, "validate", lambda cfg: seen.update(composed=gc.isenabled()) or check(cfg)
    )
    monkeypatch.setattr(
        run, "simulate", lambda cfg: seen.update(runs=gc.isenabled()) or simulate(cfg)
    )
    monkeypatch.setattr(sys, "argv", ["cogov", "structure=sanshe", *TINY_RUN])
    cli.main()
    assert seen == {"composed": False, "runs": True} and gc.isenabled()
    assert cogov_fails("world.widht=5")[0] == 2 and gc.isenabled()
    launched = []  # a sweep collects throughout: its launcher may run the tasks elsewhere
    monkeypatch.setattr(cli, "app", lambda: launched.append(gc.isenabled()))
    monkeypatch.setattr(sys, "argv", ["cogov", "-m", "seed=0,1", *TINY_RUN])
    cli.main()
    assert launched == [True]
