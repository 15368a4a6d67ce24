"""What an experiment needs before its figures: a calibration, runs, or another experiment's
stored runs (scenario discovery)."""

from __future__ import annotations

from omegaconf import DictConfig

from experiments.sweep import RunSpec
from model.schema import Method


def runs_of(cfg: DictConfig, extra_overrides: list[str]) -> list[RunSpec]:
    """The runs the experiment's figures are drawn from, run first where missing: after its
    calibration (``abc``) or a stored one (``posterior``, ``lhs`` with a calibration); for
    ``prim``, none: it analyses the stored results of ``experiment.source``."""
    from experiments.calibration import prepare
    from experiments.robustness import stored_design
    from experiments.sweep import run_experiment

    if Method(cfg.experiment.method) is Method.prim:
        stored_design(cfg)  # one line if the source experiment's results are not stored
        return []
    prepare(cfg, extra_overrides)
    return run_experiment(cfg, extra_overrides)
