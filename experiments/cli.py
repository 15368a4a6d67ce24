"""The ``cogov`` command: a Hydra app around one run of the model.

uv run cogov structure=canonical_pgg residents.synergy=4.5 steps=2000
uv run cogov -m residents.synergy=3.5,4.5,5.5 seed='range(5)'
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from pathlib import Path

import hydra
from hydra._internal.utils import get_args_parser  # Hydra's own parser (hydra-core 1.3)
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from experiments.overrides import check_overrides
from experiments.store import check_writable
from model.config import (
    CONFIG_DIR,
    SCHEMA_MATCHING,
    KeyRole,
    key_role,
    register_schema,
    top_level_key,
)
from model.errors import explain

log = logging.getLogger(__name__)


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def app(cfg: DictConfig) -> dict:
    """One run, or, with ``experiment=NAME``, a whole experiment (table, figure, database)."""
    if cfg.experiment is not None:
        return run_experiment_job(cfg)
    from experiments.run import format_metrics, simulate, write_outputs

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

    experiment = cfg.experiment
    overrides = command_line_overrides()
    specs = runs_of(cfg, overrides)
    frame = results_frame(specs, cfg.results.db) if specs else None
    if specs and (len(experiment.structures) > 1 or not specs[0].point):
        table = confidence_table(frame, "structure", list(experiment.outputs))
        print(format_table(table, "structure", list(experiment.outputs), cfg.lang))
    if Method(experiment.method) is Method.posterior:
        _print_validation(cfg, frame)
    captions = {}
    for name, (owner, _) in FIGURES.items():
        if owner == experiment.name:
            files, captions[name] = draw(cfg, specs, name)
            print(f"figure: {', '.join(str(f) for f in files)}")
    write_captions(Path(cfg.results.figures_dir), captions)
    print(f"runs stored in {cfg.results.db} (tables runs, timeseries)")
    return {"runs": len(specs)}


def _print_validation(cfg: DictConfig, frame) -> None:
    """Observed against predicted for every validate target, under the last structure."""
    from experiments.calibration import (
        _targets_path,
        format_comparison,
        predicted_against_observed,
    )
    from experiments.targets import validation_targets

    reform = frame[frame["structure"] == cfg.experiment.structures[-1]]
    targets = validation_targets(_targets_path(cfg.experiment))
    table = predicted_against_observed(reform, targets)
    print(f"validation: {cfg.experiment.structures[-1]} against figures the fit never saw")
    print(format_comparison(table))
    print(f"{int(table['inside'].sum())} of {len(table)} observed values inside the interval")


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


def main() -> None:
    """Console entry point: a user's config mistake becomes one line on stderr and exit 2,
    caught before Hydra creates any output directory."""
    register_schema()
    args = get_args_parser().parse_args()
    if not args.multirun and not _wants_info(args) and _is_main_job(args.overrides):
        sys.argv.append(MAIN_JOB)
        args.overrides.append(MAIN_JOB)
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let errors reach us instead of Hydra's printer
    # A local Ray reuses this environment; Ray's uv hook would insist on the project folder.
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    warnings.filterwarnings("ignore", message=SCHEMA_MATCHING)
    try:
        if not _wants_info(args):
            first = check_overrides(args.overrides)
            if args.multirun or first.experiment is not None:
                check_writable(first.results.db)
            if not args.multirun and first.experiment is not None:
                from experiments.sweep import check_experiment

                check_experiment(first, args.overrides)
        app()
    except Exception as error:
        from experiments.store import StoreError

        user_error = error if isinstance(error, StoreError) else explain(error)
        if user_error is None:
            raise
        print(f"cogov: error: {user_error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
