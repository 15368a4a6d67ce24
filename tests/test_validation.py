"""Validation anchor: with institutions off on a torus, the model is the canonical spatial
public goods game and reproduces its phase behaviour at K = 0.5 (Szolnoki, Perc & Szabo 2009,
Phys. Rev. E 80:056109): co-producers die out below r_c1 ~ 3.74, co-producers and free riders
coexist in between, free riders die out above r_c2 ~ 5.49.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import build, small_game

PUBLISHED_R_C1 = 3.74
PUBLISHED_R_C2 = 5.49


def stationary_participation(
    size: int, synergy: float, steps: int, seed: int
) -> tuple[float, float]:
    """(final participation, mean over the last fifth of the run)."""
    model = build(*small_game(size, f"residents.synergy={synergy}"), f"seed={seed}")
    model.run_for(steps)
    series = model.datacollector.get_model_vars_dataframe()["participation_rate"].to_numpy()
    return float(series[-1]), float(series[-steps // 5 :].mean())


@pytest.mark.parametrize("seed", [0, 1])
def test_three_phases_on_a_small_torus(seed):
    final_low, _ = stationary_participation(50, 3.2, 1500, seed)
    _, mixed = stationary_participation(50, 4.5, 1500, seed)
    final_high, _ = stationary_participation(50, 6.0, 1500, seed)
    assert final_low == 0.0  # co-producers extinct
    assert 0.2 < mixed < 0.9  # coexistence
    assert final_high == 1.0  # free riders extinct


@pytest.mark.slow
@pytest.mark.parametrize(
    "synergy,phase",
    [
        (3.6, "defect"),
        (3.7, "defect"),
        (3.9, "mixed"),
        (4.5, "mixed"),
        (5.2, "mixed"),
        (5.6, "cooperate"),
        (5.8, "cooperate"),
    ],
)
def test_phase_diagram_on_the_published_lattice(synergy, phase):
    """Full size: 100 x 100 torus, 10,000 MCS, around both published thresholds."""
    final, mean = stationary_participation(100, synergy, 10_000, seed=0)
    if phase == "defect":
        assert final == 0.0 and synergy < PUBLISHED_R_C1
    elif phase == "cooperate":
        assert final == 1.0 and synergy > PUBLISHED_R_C2
    else:
        assert 0.0 < final < 1.0 and 0.05 < mean < 0.995


@pytest.mark.slow
def test_participation_rises_with_synergy():
    levels = [stationary_participation(100, r, 5_000, seed=1)[1] for r in (3.9, 4.2, 4.6, 5.0, 5.3)]
    assert np.all(np.diff(levels) > 0)
