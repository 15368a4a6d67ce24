"""The residents' state as a struct of arrays: one entry per household, index ``i``.

Both engines read and write these arrays; a :class:`agents.Resident` exposes its own entries as
ordinary attributes, so inspection, visualisation and Mesa's DataCollector see the same state
whichever engine updates it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.config import ResidentsConfig


@dataclass
class Population:
    """Per-household state (length-N arrays)."""

    participating: np.ndarray  # bool: co-producer (共建者, cooperator) this round
    group_synergy: np.ndarray  # float: r of the co-production group centred on this household
    bonus: np.ndarray  # float: payoff added to this household when it co-produces (rewards)

    @classmethod
    def initial(cls, n: int, residents: ResidentsConfig, rng: np.random.Generator) -> Population:
        """Co-producers drawn independently with probability ``initial_participation``."""
        return cls(
            participating=rng.random(n) < residents.initial_participation,
            group_synergy=np.full(n, residents.synergy * residents.synergy_multiplier),
            bonus=np.full(n, float(residents.reward)),
        )

    @property
    def size(self) -> int:
        """Number of households, N."""
        return len(self.participating)
