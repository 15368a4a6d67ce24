"""cogov's Mesa model: world, issue flow, engines and metrics."""

from model.config import load_config
from model.errors import ConfigError
from model.model import CoGovModel

__all__ = ["CoGovModel", "ConfigError", "load_config"]
