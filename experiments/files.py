"""Writing output files atomically: a reader sees the old file or the new one, never half."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _default_mode() -> int:
    """Permissions a plain ``open(path, "w")`` would give: 0o666 minus the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` with the same suffix; when the block succeeds,
    give it the usual permissions and rename it onto ``target``, otherwise delete it."""
    handle, temp = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.stem}.", suffix=target.suffix
    )
    os.close(handle)
    try:
        yield Path(temp)
        os.chmod(temp, _default_mode())
        os.replace(temp, target)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def user_path(path: Path | str) -> Path:
    """The file a user means by ``path``: ``~`` expanded, absolute, symbolic links resolved."""
    return Path(path).expanduser().resolve()
