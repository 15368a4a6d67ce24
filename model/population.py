"""The residents' state as a struct of arrays: one entry per household, index ``i``.

Both engines read and write these arrays; a :class:`agents.Resident` exposes its own entries as
ordinary attributes, so inspection, visualisation and Mesa's DataCollector see the same state
whichever engine updates it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.schema import ResidentsConfig

# A household's outcome of the day (Population.outcome).
NO_OUTCOME, FIX_HELD, FIX_FAILED, ABANDONED = range(4)


@dataclass
class Population:
    """Per-household state (length-N arrays)."""

    participating: np.ndarray  # bool: co-producer (共建者, cooperator) this round
    group_synergy: np.ndarray  # float: r of the co-production group centred on this household
    bonus: np.ndarray  # float: payoff added to this household when it co-produces (rewards)
    trust: np.ndarray  # float in [0, 1]: institutional trust
    satisfaction: np.ndarray  # float in [0, 1]: 获得感、幸福感、安全感
    points: np.ndarray  # float: points (积分) earned, payoff units
    service_record: np.ndarray  # float: decaying count of fixes that held minus failures
    open_issue: np.ndarray  # int: id of this household's open issue, or -1
    outcome: np.ndarray  # int8: today's outcome (NO_OUTCOME, FIX_HELD, FIX_FAILED, ABANDONED)
    outcome_delay: np.ndarray  # int: days from creation to today's outcome
    contacted: np.ndarray  # bool: visited by party members today

    @classmethod
    def initial(cls, n: int, residents: ResidentsConfig, rng: np.random.Generator) -> Population:
        """Co-producers drawn independently with probability ``initial_participation``; trust
        and satisfaction start at their configured levels."""
        return cls(
            participating=rng.random(n) < residents.initial_participation,
            group_synergy=np.full(n, residents.synergy * residents.synergy_multiplier),
            bonus=np.full(n, float(residents.reward)),
            trust=np.full(n, float(residents.initial_trust)),
            satisfaction=np.full(n, float(residents.initial_satisfaction)),
            points=np.zeros(n),
            service_record=np.zeros(n),
            open_issue=np.full(n, -1, np.int64),
            outcome=np.zeros(n, np.int8),
            outcome_delay=np.zeros(n, np.int64),
            contacted=np.zeros(n, bool),
        )

    def new_day(self) -> None:
        """Forget yesterday's outcomes and party visits."""
        self.outcome[:] = 0
        self.contacted[:] = False

    def co_producers(self) -> int:
        """Number of co-producing households."""
        return int(np.count_nonzero(self.participating))

    def participation_rate(self) -> float:
        """Share of households co-producing (the same float as ``participating.mean()``,
        without its float temporary)."""
        return self.co_producers() / self.size

    @property
    def size(self) -> int:
        """Number of households, N."""
        return len(self.participating)
