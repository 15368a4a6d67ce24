"""The ``cogov`` command: a Hydra app around one run of the model.

uv run cogov structure=canonical_pgg residents.synergy=4.5 steps=2000
uv run cogov -m residents.synergy=3.5,4.5,5.5 seed='range(5)'

One run (or one experiment) is composed once, checked and handed to Hydra's ``run_job``;
sweeps and Hydra's information options go through Hydra's own entry point; ``--help`` is
written from the schema. Nothing is written before every check has passed.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import hydra
from hydra._internal.utils import get_args_parser  # Hydra's own parser (hydra-core 1.3)
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from experiments.environment import BYTECODE_NOTE, KERNELS_NOTE, bytecode_missing, kernels_uncached
from experiments.overrides import check_overrides
from model.config import (
    CONFIG_DIR,
    SCHEMA_MATCHING,
    KeyRole,
    check_command_line,
    key_role,
    register_schema,
    top_level_key,
    validate,
)
from model.errors import explain

log = logging.getLogger(__name__)


def run_task(cfg: DictConfig) -> dict:
    """One run, or, with ``experiment=NAME``, a whole experiment (table, figure, database)."""
    if cfg.experiment is not None:
        return run_experiment_job(cfg)
    from experiments.run import format_metrics, simulate, write_outputs

    _started()
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    model = simulate(cfg)
    summary = write_outputs(model, out_dir)
    log.debug("wrote %s", out_dir)
    print(f"{cfg.structure.name}, seed {cfg.seed}, {cfg.steps} days -> {out_dir}")
    print(format_metrics(summary["metrics"]))
    return summary["metrics"]


def run_experiment_job(cfg: DictConfig) -> dict:
    """Run what is missing (a calibration first, if the experiment needs one), store it,
    print the table and draw the experiment's figures."""
    import matplotlib

    matplotlib.use("Agg")  # the figure goes to files
    from experiments.figures import FIGURES, draw, write_captions
    from experiments.pipeline import runs_of
    from experiments.store import results_frame
    from experiments.sweep import command_line_overrides
    from experiments.tables import confidence_table, format_table
    from model.schema import Method

    _started()
    experiment = cfg.experiment
    overrides = command_line_overrides()
    start = time.perf_counter()
    specs = runs_of(cfg, overrides)
    seconds = time.perf_counter() - start
    frame = results_frame(specs, cfg.results.db) if specs else None
    if frame is not None and (len(experiment.structures) > 1 or not specs[0].point):
        table = confidence_table(frame, "structure", list(experiment.outputs))
        print(format_table(table, "structure", list(experiment.outputs), cfg.lang))
    if Method(experiment.method) is Method.posterior:
        _print_validation(cfg, frame)
    captions = {}
    for name, (owner, _) in FIGURES.items():
        if owner == experiment.name:
            files, captions[name] = draw(cfg, specs, name)
            print(f"figure: {', '.join(str(f) for f in files)}")
    _print_analysis(cfg, len(specs), seconds)
    write_captions(Path(cfg.results.figures_dir), captions, cfg.lang)
    print(f"runs stored in {cfg.results.db} (tables runs, timeseries)")
    return {"runs": len(specs)}


def _print_analysis(cfg: DictConfig, runs: int, seconds: float) -> None:
    """What the experiment's figure stored, as text: sensitivity indices with their intervals
    (and the sample size and this command's run time), a robustness experiment's regret
    summary, or scenario discovery's boxes."""
    from model.schema import Method

    experiment = cfg.experiment
    method = Method(experiment.method)
    if method not in (Method.sobol, Method.morris, Method.lhs, Method.prim):
        return
    from experiments.robustness import format_boxes, format_regret, summarise_regret
    from experiments.sensitivity import format_indices
    from experiments.store import connect

    name = experiment.name
    with connect(cfg.results.db) as con:
        if method is Method.lhs:
            table = con.execute("SELECT * FROM robustness WHERE experiment = ?", [name]).df()
            print(format_regret(summarise_regret(table)))
        elif method is Method.prim:
            table = con.execute("SELECT * FROM scenarios WHERE experiment = ?", [name]).df()
            print(format_boxes(table))
        else:
            table = con.execute(
                "SELECT * FROM sensitivity WHERE experiment = ? AND method = ?",
                [name, method.value],
            ).df()
            print(
                f"{method.name}: {experiment.samples} base samples, {len(experiment.levers)} "
                f"levers, {runs} runs ({experiment.seeds} seeds each point); runs took "
                f"{seconds:.0f} s in this command"
            )
            print(format_indices(table))


def _print_validation(cfg: DictConfig, frame) -> None:
    """Observed against predicted for every validate target, under the last structure."""
    from experiments.calibration import (
        _targets_path,
        format_comparison,
        inside_by_year,
        predicted_against_observed,
    )
    from experiments.targets import validation_targets

    reform = frame[frame["structure"] == cfg.experiment.structures[-1]]
    targets = validation_targets(_targets_path(cfg.experiment))
    table = predicted_against_observed(reform, targets)
    print(f"validation: {cfg.experiment.structures[-1]} against figures the fit never saw")
    print(format_comparison(table))
    print(
        f"{int(table['inside'].sum())} of {len(table)} observed values inside the interval "
        f"(by year observed: {inside_by_year(table)})"
    )


app = hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")(run_task)
"""Hydra's own entry point, for sweeps (-m) and what Hydra prints (--cfg, --info, ...)."""


def _freeze() -> None:
    """Keep every object made so far out of later garbage collections (``gc.freeze``; frozen
    objects are still freed at exit, only their cycles are not searched). Not once DuckDB is
    loaded: its bindings would report the unsearched objects as leaks at exit."""
    if "duckdb" not in sys.modules:
        gc.freeze()


def _started() -> None:
    """The command's code is loaded: collect garbage as usual from here on. A single run or
    experiment (:func:`main`) collects nothing until then: its start-up makes ~250,000
    objects that live until exit (and ~1.5 MB of garbage), and the collector's passes over
    them cost ~0.3 s, more than a small run; they are frozen (:func:`_freeze`). A sweep
    collects throughout (its launcher may run the tasks in other processes while this one
    composes every job's config): nothing to do then."""
    if gc.isenabled():
        return
    _freeze()
    gc.enable()


def run_once(overrides: list[str]) -> Any:
    """One run or one experiment: compose the config once, check it, and let Hydra's
    ``run_job`` make the run directory and call :func:`run_task`. (Hydra's own entry point
    would compose it twice more, once only to read ``hydra.mode``; that costs more than a
    small run.) Returns the task's result; raises its error."""
    from hydra import initialize_config_dir
    from hydra._internal.callbacks import Callbacks  # as Hydra.run uses them (hydra-core 1.3)
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.utils import run_job
    from hydra.types import HydraContext, RunMode

    check_command_line(overrides, sweeps=False)
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3", job_name="cogov"):
        hydra_app = GlobalHydra.instance().hydra
        assert hydra_app is not None  # initialize_config_dir made it
        cfg = hydra_app.compose_config(
            "config", [*overrides, "hydra.mode=RUN"], RunMode.RUN, with_log_configuration=True
        )
        validate(cfg)
        _check_outputs(cfg, sweep=False)
        if cfg.experiment is not None:
            from experiments.sweep import check_experiment

            check_experiment(cfg, overrides)
        _note_slow_start()
        callbacks = Callbacks(cfg)
        callbacks.on_run_start(config=cfg, config_name="config")
        result = run_job(
            hydra_context=HydraContext(config_loader=hydra_app.config_loader, callbacks=callbacks),
            task_function=run_task,
            config=cfg,
            job_dir_key="hydra.run.dir",
            job_subdir_key=None,
        )
        callbacks.on_run_end(config=cfg, config_name="config", job_return=result)
    return result.return_value


def _check_outputs(cfg: DictConfig, sweep: bool) -> None:
    """Before anything runs: a sweep or an experiment must be able to write its results
    database, and an experiment's figure needs a font for its language."""
    if sweep or cfg.experiment is not None:
        from experiments.store import check_writable

        check_writable(cfg.results.db)
    if cfg.experiment is not None:
        from experiments.labels import require_font

        require_font(cfg.lang)


def _note_slow_start() -> None:
    """Once the command is checked and about to run: say so when every start compiles the
    installed packages again (and how to stop it), or when this run compiles the kernels."""
    if bytecode_missing():
        print(f"cogov: note: {BYTECODE_NOTE}", file=sys.stderr)
    if kernels_uncached():
        print(f"cogov: note: {KERNELS_NOTE}", file=sys.stderr)


MAIN_JOB = "experiment=compare_structures"


def _is_main_job(overrides: list[str]) -> bool:
    """``uv run cogov`` alone (or with only presentation keys such as lang=zh) is the main
    job: compare the structures. Any model key (structure=..., seed=...) asks for one run."""
    return all(
        key_role(o) is KeyRole.presentation and top_level_key(o) != "experiment" for o in overrides
    )


def _wants_info(args: argparse.Namespace) -> bool:
    """Whether Hydra is asked to print something (help, config, info) rather than run."""
    return bool(
        args.help
        or args.hydra_help
        or args.cfg
        or args.info
        or args.shell_completion
        or args.config_dir
        or args.config_name
        or args.experimental_rerun
    )


def _user_error(error: Exception) -> Exception | None:
    """The one-line error for a user's mistake, or None for a bug (which keeps its traceback)."""
    store = sys.modules.get("experiments.store")  # loaded only by commands that store results
    if store is not None and isinstance(error, store.StoreError):
        return error
    return explain(error)


def main() -> None:
    """Console entry point: a user's config mistake becomes one line on stderr and exit 2,
    caught before Hydra creates any output directory."""
    args = get_args_parser().parse_args()
    if not args.multirun and not _wants_info(args) and _is_main_job(args.overrides):
        args.overrides.append(MAIN_JOB)
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let errors reach us instead of Hydra's printer
    # A local Ray reuses this environment; Ray's uv hook would insist on the project folder.
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    warnings.filterwarnings("ignore", message=SCHEMA_MATCHING)
    try:
        if args.help:  # every key from the schema, without Hydra's help
            from experiments.usage import help_text

            print(help_text(args.overrides))
            return
        register_schema()
        if _wants_info(args):
            app()
        elif not args.multirun:
            gc.disable()  # until the command's code is loaded (:func:`_started`)
            run_once(args.overrides)
        else:
            _check_outputs(check_overrides(args.overrides), sweep=True)
            _note_slow_start()
            app()
        # Everything is written and closed. Spare a single run the interpreter's last garbage
        # collections, which walk every object Mesa, numba and pandas made (0.4 s, more than a
        # small run).
        _freeze()
    except BrokenPipeError:  # the reader stopped early (cogov --help | head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except Exception as error:
        user_error = _user_error(error)
        if user_error is None:
            raise
        print(f"cogov: error: {user_error}", file=sys.stderr)
        sys.exit(2)
    finally:
        gc.enable()  # when a run stopped before its task (an error)


if __name__ == "__main__":
    main()
