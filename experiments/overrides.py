"""Checking a command line's overrides before anything runs or is written.

Every sweep value is tried once, and a launcher must have its plugin installed; a problem is
one :class:`model.errors.ConfigError` line.
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from model.config import CONFIG_DIR, load_config, validate
from model.errors import ConfigError, user_errors


def _is_group(key: str) -> bool:
    return key.startswith("hydra/") or (CONFIG_DIR / key).is_dir()


LAUNCHER_PLUGINS = {
    "joblib": ("hydra_plugins.hydra_joblib_launcher", "uv sync"),
    "submitit_local": ("hydra_plugins.hydra_submitit_launcher", "uv sync"),
    "submitit_slurm": ("hydra_plugins.hydra_submitit_launcher", "uv sync"),
    "ray": ("hydra_plugins.hydra_ray_launcher", "uv sync --extra ray"),
}


def _check_launcher(choice: str) -> None:
    """A launcher whose plugin is not installed fails here, in one line."""
    import importlib.util

    module, install = LAUNCHER_PLUGINS.get(choice, (None, None))
    if module and importlib.util.find_spec(module) is None:
        raise ConfigError(
            "hydra/launcher",
            f"hydra/launcher={choice} needs its plugin; install it with: {install}",
        )


def check_overrides(overrides: list[str]) -> DictConfig:
    """Compose and validate every run a command line asks for, before anything is written.

    Each sweep value is tried at least once (with the other keys at their first value): a
    preset choice by composing, a plain value by setting it on the composed config; a
    launcher must have its plugin installed. Returns the config of the first run; raises
    :class:`ConfigError` on the first problem.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    for override in parsed:
        if override.key_or_group == "hydra/launcher":
            for choice in (
                override.sweep_string_iterator()
                if override.is_sweep_override()
                else [override.value()]
            ):
                _check_launcher(str(choice))
    first = [
        f"{o.get_key_element()}={next(o.sweep_string_iterator())}"
        if o.is_sweep_override()
        else o.input_line
        for o in parsed
    ]
    cfg = load_config(*first)
    for i, override in enumerate(parsed):
        if not override.is_sweep_override():
            continue
        key = override.key_or_group
        texts = list(override.sweep_string_iterator())[1:]
        values = list(override.sweep_iterator())[1:]
        for text, value in zip(texts, values, strict=True):
            if _is_group(key):
                load_config(*first[:i], f"{override.get_key_element()}={text}", *first[i + 1 :])
                continue
            trial = cfg.copy()
            with user_errors():
                OmegaConf.update(trial, key, value, merge=True)
            validate(trial)
    return cfg
