"""What the installed environment or the checkout lacks that slows a command down."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import model

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


KERNELS_NOTE = (
    "the model's compiled kernels are not cached yet: this first run compiles them (about half"
    " a minute), later runs load them"
)


def kernels_uncached() -> bool:
    """Whether numba has cached none of the model's kernels yet (a fresh checkout, or a new
    ``NUMBA_CACHE_DIR``): the first run compiles them all."""
    cache_dir = os.environ.get("NUMBA_CACHE_DIR")
    where = Path(cache_dir) if cache_dir else Path(model.__file__).parent / "__pycache__"
    return not any(where.rglob("*.nbi"))
