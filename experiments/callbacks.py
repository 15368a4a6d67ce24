"""Hydra callbacks of the cogov app."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)


class CollectSweep(Callback):
    """At the end of a multirun, store the sweep's finished runs in ``results.db``
    (idempotent: runs already stored are skipped)."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from experiments.store import StoreError, collect

        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            report = collect(sweep_dir, config.results.db, sweep=sweep_dir.name)
        except StoreError as error:  # Hydra would only warn; say it plainly
            print(f"cogov: the sweep ran but was not stored: {error}")
            log.error("collect failed: %s", error)
            return
        stored = f"stored {report.added} runs in {config.results.db}"
        if report.skipped:  # the runs did run; identical ones had been stored before
            stored += f"; {report.skipped} identical runs (same config and seed) were there already"
        print(stored)


class WorkersExitWithCogov(Callback):
    """When a multirun starts, make the worker processes of Hydra's joblib launcher (loky)
    exit when this ``cogov`` process dies, instead of waiting forever for work."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from experiments.workers import loky_workers_exit_with_this_process

        loky_workers_exit_with_this_process()
