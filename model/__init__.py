"""cogov's Mesa model: world, issue flow, engines and metrics.

``CoGovModel`` is imported on first use, so that reading or checking a configuration
(``from model import load_config``) does not load Mesa and numba.
"""

from typing import TYPE_CHECKING

from model.config import load_config
from model.errors import ConfigError

if TYPE_CHECKING:
    from model.model import CoGovModel

__all__ = ["CoGovModel", "ConfigError", "load_config"]


def __getattr__(name: str):
    if name == "CoGovModel":
        from model.model import CoGovModel

        return CoGovModel
    raise AttributeError(f"module 'model' has no attribute {name!r}")
