"""The text of ``cogov --help``: how to run, the config groups and their presets, and every
key with its value, its allowed range and its meaning, all taken from the schema."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from dataclasses import MISSING, fields, is_dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from model.config import CONFIG_DIR, config_groups, load_config
from model.schema import CogovConfig


def _sections(schema: type = CogovConfig, prefix: str = "") -> Iterator[tuple[str, type]]:
    """``(dotted_prefix, dataclass)`` for the schema and each of its nested groups."""
    yield prefix, schema
    for f in fields(schema):
        if f.default_factory is not MISSING and is_dataclass(f.default_factory):
            yield from _sections(f.default_factory, f"{prefix}{f.name}.")
        elif "group" in f.metadata:
            yield from _sections(f.metadata["group"], f"{prefix}{f.name}.")


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return value.name
    if OmegaConf.is_config(value):
        return json.dumps(OmegaConf.to_container(value), ensure_ascii=False)
    return str(value)


def keys_text(cfg: DictConfig) -> str:
    """Each key as ``key=value``, its allowed values, and its meaning, section by section."""
    lines = []
    for prefix, schema in _sections():
        leaves = [f for f in fields(schema) if "rule" in f.metadata]
        if not leaves:
            continue
        doc = (schema.__doc__ or "").strip().splitlines()[0]
        unselected = prefix == "experiment." and cfg.experiment is None
        title = "experiment (with experiment=NAME)" if unselected else prefix.rstrip(".")
        lines.append(f"\n{title or 'top level'}: {doc}")
        for f in leaves:
            key = f"{prefix}{f.name}"
            setting = key if unselected else f"{key}={_shown(OmegaConf.select(cfg, key))}"
            lines.append(f"  {setting}  ({f.metadata['rule'].describe})")
            lines.append(f"      {f.metadata['doc']}")
    return "\n".join(lines)


def help_text(overrides: list[str]) -> str:
    """The help page, with the values that ``overrides`` compose."""
    cfg = load_config(*overrides)
    page = OmegaConf.load(CONFIG_DIR / "config.yaml").hydra.help
    groups = "\n".join(f"{group}: {', '.join(names)}" for group, names in config_groups().items())
    return (
        f"{page.header}\n"
        "== Configuration groups ==\n"
        "Compose your configuration from those groups (group=option)\n\n"
        f"{groups}\n\n"
        "== Keys ==\n"
        "Override any key (key=value): its value here, (what it may be), and what it means\n"
        f"{keys_text(cfg)}\n\n"
        f"{page.footer}"
    )
