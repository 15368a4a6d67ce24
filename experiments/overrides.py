"""Checking a command line's overrides before anything runs or is written.

Every sweep value is tried once, and a launcher must have its plugin installed; a problem is
one :class:`model.errors.ConfigError` line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from omegaconf import DictConfig, OmegaConf

from model.config import (
    check_command_line,
    check_override,
    config_groups,
    load_config,
    parse_overrides,
    validate,
)
from model.errors import ConfigError, user_errors

if TYPE_CHECKING:
    from hydra.core.override_parser.types import Override

LAUNCHER_PLUGINS = {
    "joblib": ("hydra_plugins.hydra_joblib_launcher", "uv sync"),
    "submitit_local": ("hydra_plugins.hydra_submitit_launcher", "uv sync"),
    "submitit_slurm": ("hydra_plugins.hydra_submitit_launcher", "uv sync"),
    "ray": ("hydra_plugins.hydra_ray_launcher", "uv sync --extra ray"),
}


REMOTE_LAUNCHERS = ("submitit_slurm", "ray")
"""Launchers whose runs may happen on other machines: their memory is checked there."""


def _check_launcher(choice: str) -> None:
    """A launcher whose plugin is not installed fails here, in one line."""
    import importlib.util

    module, install = LAUNCHER_PLUGINS.get(choice, (None, None))
    if module and importlib.util.find_spec(module) is None:
        raise ConfigError(
            "hydra/launcher",
            f"hydra/launcher={choice} needs its plugin; install it with: {install}",
        )


def sweep_values(override: Override) -> list[str]:
    """The values a sweep override takes, as they would be typed (``range(3)`` -> 0, 1, 2)."""
    from hydra.core.override_parser.types import Glob, ValueType

    key = override.key_or_group
    if override.is_interval_sweep():
        raise ConfigError(
            key,
            f"{override.input_line}: the basic sweeper cannot enumerate an interval; list the "
            f"values (e.g. {key}=0,0.5,1) or use range(start,stop,step)",
        )
    if override.value_type is ValueType.GLOB_CHOICE_SWEEP:
        if key not in config_groups():
            raise ConfigError(key, f"{override.input_line}: glob() chooses presets of a group")
        values = cast(Glob, override.value()).filter(list(config_groups()[key]))
    else:
        values = list(override.sweep_string_iterator())
    if not values:
        raise ConfigError(key, f"{override.input_line} sweeps over no values; give at least one")
    return values


def check_overrides(overrides: list[str]) -> DictConfig:
    """Compose and validate every run a sweep's command line asks for, before anything is
    written.

    Each sweep value is tried at least once (with the other keys at their first value): a
    preset choice by composing, a plain value by setting it on the composed config; a
    launcher must have its plugin installed. Whether a run fits in memory is checked here
    unless a remote launcher runs it. Returns the config of the first run; raises
    :class:`ConfigError` on the first problem.
    """
    parsed = check_command_line(overrides, sweeps=True)
    sweeps = {i: sweep_values(o) for i, o in enumerate(parsed) if o.is_sweep_override()}
    launchers = [
        str(choice)
        for i, override in enumerate(parsed)
        if override.key_or_group == "hydra/launcher"
        for choice in sweeps.get(i, [override.value()])
    ]
    for choice in launchers:
        _check_launcher(choice)
    memory = not set(launchers) & set(REMOTE_LAUNCHERS)
    first = [
        f"{o.get_key_element()}={sweeps[i][0]}" if i in sweeps else overrides[i]
        for i, o in enumerate(parsed)
    ]
    cfg = load_config(*first, memory=memory)
    for i, values in sweeps.items():
        key = parsed[i].get_key_element()
        for text in values[1:]:
            (trial,) = parse_overrides([f"{key}={text}"])
            check_override(trial)
            if trial.key_or_group in config_groups() or trial.is_hydra_override():
                load_config(*first[:i], f"{key}={text}", *first[i + 1 :], memory=memory)
                continue
            config = cfg.copy()
            with user_errors():
                OmegaConf.update(config, trial.key_or_group, trial.value(), merge=True)
            validate(config, memory=memory)
    return cfg
