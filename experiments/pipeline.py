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
    from experiments.sweep import check_experiment, run_experiment

    if Method(cfg.experiment.method) is Method.prim:
        check_experiment(cfg)  # its questions, and the stored results it analyses
        return []
    prepare(cfg, extra_overrides)
    return run_experiment(cfg, extra_overrides)
