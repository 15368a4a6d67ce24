"""What the installed environment lacks that slows every command down."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BYTECODE_NOTE = (
    "the installed packages have no bytecode and Python may not write it"
    " (PYTHONDONTWRITEBYTECODE), so every command first compiles again the modules it imports"
    " (several seconds); run `uv sync --compile-bytecode` once"
)


def bytecode_missing() -> bool:
    """Whether Mesa has no bytecode for this Python and Python may not write it: then every
    process compiles the installed packages again (README, Quick start). Finds Mesa without
    importing it."""
    if not sys.dont_write_bytecode:
        return False
    spec = importlib.util.find_spec("mesa")
    if spec is None or spec.origin is None:
        return False
    return not Path(importlib.util.cache_from_source(spec.origin)).exists()
