"""The actors of cogov as Mesa agents."""

from agents.resident import Resident

__all__ = ["Resident"]
