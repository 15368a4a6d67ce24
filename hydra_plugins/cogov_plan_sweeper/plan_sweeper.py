"""A Hydra sweeper that launches the jobs listed in a plan file, each with its own overrides.

Hydra's basic sweeper runs the cartesian product of swept values; an experiment's runs
(a Latin hypercube, posterior draws) are not a product. ``cogov experiment=NAME
hydra/launcher=submitit_slurm`` writes the runs still missing into a plan (a JSON list of
``{"run_id": ..., "overrides": [...]}``) and runs ``cogov -m hydra/sweeper=cogov_plan
hydra.sweeper.plan=PLAN``; this sweeper hands the jobs to the configured launcher (basic,
joblib, submitit, Ray) in batches, each job writing its run into ``hydra.sweep.dir/<run_id>``.

Hydra imports plugins outside the usual module machinery, so this module avoids
``from __future__ import annotations`` (dataclasses then fail to resolve their types).
"""

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)


@dataclass
class PlanSweeperConf:
    _target_: str = "hydra_plugins.cogov_plan_sweeper.plan_sweeper.PlanSweeper"
    plan: str = ""  # path of the plan file
    max_batch_size: Optional[int] = None  # jobs handed to the launcher at once (None: all)  # noqa: UP045 (OmegaConf)


ConfigStore.instance().store(
    group="hydra/sweeper", name="cogov_plan", node=PlanSweeperConf, provider="cogov"
)


class PlanSweeper(Sweeper):
    """Launches every job of ``plan`` (with the command line's other overrides)."""

    def __init__(self, plan: str, max_batch_size: int | None = None):
        super().__init__()
        self.plan = plan
        self.max_batch_size = max_batch_size
        self.config: DictConfig | None = None
        self.launcher = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        from hydra.core.plugins import Plugins

        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def jobs(self, arguments: list[str]) -> list[list[str]]:
        """Each planned run's overrides after the shared ones, writing to its own folder."""
        planned = json.loads(Path(self.plan).read_text(encoding="utf-8"))
        return [
            [*arguments, *run["overrides"], f"hydra.sweep.subdir={run['run_id']}"]
            for run in planned
        ]

    def sweep(self, arguments: list[str]) -> Any:
        assert self.config is not None and self.launcher is not None
        jobs = self.jobs(arguments)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        size = self.max_batch_size or max(1, len(jobs))
        returns = []
        for start in range(0, len(jobs), size):
            batch = jobs[start : start + size]
            log.info("launching %d planned runs", len(batch))
            results = self.launcher.launch(batch, initial_job_idx=start)
            for result in results:
                _ = result.return_value  # a failed job raises here
            returns.append(results)
        return returns
