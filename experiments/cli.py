"""The ``cogov`` command: a Hydra app around one run of the model.

uv run cogov structure=canonical_pgg residents.synergy=4.5 steps=2000
uv run cogov -m residents.synergy=3.5,4.5,5.5 seed='range(5)'
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import hydra
from hydra._internal.utils import get_args_parser  # Hydra's own parser (hydra-core 1.3)
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from model.config import CONFIG_DIR, check_overrides, register_schema
from model.errors import explain

log = logging.getLogger(__name__)


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def app(cfg: DictConfig) -> dict:
    """Run the model once and write ``summary.json`` and ``timeseries.parquet``."""
    from experiments.run import format_metrics, simulate, write_outputs

    out_dir = Path(HydraConfig.get().runtime.output_dir)
    model = simulate(cfg)
    summary = write_outputs(model, out_dir)
    log.debug("wrote %s", out_dir)
    print(f"{cfg.structure.name}, seed {cfg.seed}, {cfg.steps} days -> {out_dir}")
    print(format_metrics(summary["metrics"]))
    return summary["metrics"]


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
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let errors reach us instead of Hydra's printer
    try:
        if not _wants_info(args):
            check_overrides(args.overrides)
        app()
    except Exception as error:
        user_error = explain(error)
        if user_error is None:
            raise
        print(f"cogov: error: {user_error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
