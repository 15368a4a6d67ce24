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
        print(
            f"stored {report.added} runs ({report.skipped} already stored) in {config.results.db}"
        )


class ExitWithLauncher(Callback):
    """Each job that a launcher runs in a worker process (joblib's loky) makes that worker
    exit when the launching ``cogov`` process dies, instead of waiting forever for work."""

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        from experiments.workers import exit_with_launcher

        exit_with_launcher()
