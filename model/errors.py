"""Turn configuration mistakes into one-line messages that name the key and what is allowed.

Hydra and OmegaConf report a misspelt key, an unknown preset or a wrong type as multi-line
exceptions; :func:`explain` rewrites each into a :class:`ConfigError`. Anything that is not a
user's configuration mistake is returned as ``None`` so that real bugs keep their traceback.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from contextlib import contextmanager

from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException, ValidationError


class ConfigError(ValueError):
    """A user-facing configuration mistake; ``str()`` is one line that names the key."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(message)

    def __reduce__(self):  # picklable, so that a worker process can report it
        return (type(self), (self.key, str(self)))

    @classmethod
    def bad_value(cls, key: str, value: object, allowed: str) -> ConfigError:
        """``key=value is not allowed; expected <allowed>``."""
        return cls(key, f"{key}={value!r} is not allowed; expected {allowed}")


def one_of(options: list[str] | tuple[str, ...]) -> str:
    """How to say a list of allowed values."""
    return "one of: " + ", ".join(options)


def unknown_key(full_key: str) -> ConfigError:
    """A key that is not in the schema: name the keys that exist beside it."""
    from model.schema import CogovConfig, ExperimentConfig

    parent, _, leaf = full_key.rpartition(".")
    schema = OmegaConf.structured(CogovConfig(experiment=ExperimentConfig()))  # its keys too
    node = OmegaConf.select(schema, parent) if parent else schema
    if node is None and parent:
        return unknown_key(parent)
    if not isinstance(node, DictConfig):
        return ConfigError(full_key, f"unknown key {full_key}")
    keys = sorted(str(k) for k in node)
    where = f"keys of {parent}" if parent else "top-level keys"
    guess = difflib.get_close_matches(leaf, keys, n=1)
    hint = f"; did you mean {parent + '.' if parent else ''}{guess[0]}?" if guess else ""
    return ConfigError(full_key, f"unknown key {full_key}{hint} ({where}: {', '.join(keys)})")


def _free_form_map(key: str) -> str | None:
    """The free-form map of config keys (``experiment.grid``, ...) that ``key`` (an override's
    key, ``+`` or ``~`` included) lies inside, if any."""
    from model.schema import FREE_FORM

    return next((name for name in FREE_FORM if key.lstrip("+~").startswith(f"{name}.")), None)


def _map_entry(key: str) -> ConfigError | None:
    """The one line for an override of ``key`` inside a free-form map of config keys, which
    Hydra reads as nested maps (``experiment.grid.world.width``) and, without ``++``, cannot
    give a key its preset did not; ``None`` for any other key."""
    name = _free_form_map(key)
    if name is None:
        return None
    return ConfigError(
        name,
        f"{name} is a map of config keys: change its keys' values with "
        f"{name}={{KEY: VALUES}}, add a key with ++{name}={{KEY: VALUES}}",
    )


_TYPE_WORDS = {"Integer": "an integer", "Float": "a number", "Boolean": "true or false"}


def _rule(key: str, otherwise: str) -> str:
    """What the schema allows for ``key``, or ``otherwise`` for a key it does not have."""
    from model.config import PARAMS

    if _free_form_map(key):
        return "a list of values, [low, high] for a range"
    return next((f.metadata["rule"].describe for name, f in PARAMS if name == key), otherwise)


def _bad_type(error: ValidationError, override: str | None) -> ConfigError:
    key = str(getattr(error, "full_key", "") or "")
    value = override.partition("=")[2] if override else getattr(error, "value", "?")
    text = str(error).splitlines()[0]
    enum_values = re.search(r"expected one of \[([^\]]*)\]", text)
    if enum_values:
        allowed = one_of([v.strip() for v in enum_values.group(1).split(",")])
    else:
        wanted = re.search(r"converted to (\w+)", text)
        allowed = _TYPE_WORDS.get(wanted.group(1), wanted.group(1)) if wanted else _rule(key, text)
        if "valid bool" in text:
            allowed = _TYPE_WORDS["Boolean"]
    return ConfigError.bad_value(key, value, allowed)


def explain(error: BaseException) -> ConfigError | None:
    """The one-line :class:`ConfigError` for a user's configuration mistake, else ``None``."""
    if isinstance(error, ConfigError):
        return error
    if isinstance(error, MissingConfigException) and error.missing_cfg_file:
        group, _, choice = error.missing_cfg_file.rpartition("/")
        if group and error.options:
            return ConfigError.bad_value(group, choice, one_of(list(error.options)))
        return ConfigError(error.missing_cfg_file, f"cannot find config {error.missing_cfg_file}")
    if isinstance(error, OverrideParseException):
        return ConfigError(error.override, f"cannot parse override {error.override!r}")
    if isinstance(error, ConfigCompositionException):
        cause = error.__cause__
        first_line = str(error).splitlines()[0] if str(error) else ""
        found = re.search(r"override '([^']+)'|merging override (.+)$", first_line)
        override = (found.group(1) or found.group(2)) if found else None
        key = str(getattr(cause, "full_key", "") or "")
        if override and (entry := _map_entry(override.partition("=")[0])):
            return entry
        if isinstance(cause, ValidationError):
            return _bad_type(cause, override)
        if isinstance(cause, OmegaConfBaseException) and key:
            if (entry := _map_entry(key)) is not None:
                return entry
            if (allowed := _rule(key, "")) and override and "=" in override:
                return ConfigError.bad_value(key, override.partition("=")[2], allowed)
            return unknown_key(key)
        if override:
            return unknown_key(override.partition("=")[0])
        return ConfigError("config", first_line)
    if isinstance(error, ValidationError) and getattr(error, "full_key", None):
        return _bad_type(error, None)
    return None


@contextmanager
def user_errors() -> Iterator[None]:
    """Re-raise a user's configuration mistake inside the block as a one-line
    :class:`ConfigError`; let every other error through unchanged."""
    try:
        yield
    except Exception as error:
        user_error = explain(error)
        if user_error is None or user_error is error:
            raise
        raise user_error from error
