"""Mesa's conventions: ``mesa.batch_run`` drives CoGovModel (and the app's model) with dotted
config keys as parameters and seeds."""

from __future__ import annotations

import warnings

import mesa
import pandas as pd
import pytest

from model import CoGovModel, ConfigError

WORLD = {
    "world.width": 20,
    "world.height": 20,
    "world.community_households": 400,
    "world.grid_unit_households": 100,
    "metrics.burn_in": 5,
}


def batch(model_cls, parameters, **options) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # batch_run's own `iterations`
        return pd.DataFrame(
            mesa.batch_run(model_cls, parameters=parameters, display_progress=False, **options)
        )


def test_batch_run_with_dotted_keys_two_structures_two_iterations():
    frame = batch(
        CoGovModel,
        {"structure": ["bureaucratic", "sanshe"], **WORLD},
        iterations=2,
        max_steps=10,
        number_processes=2,
    )
    assert len(frame) == 4 and set(frame["structure"]) == {"bureaucratic", "sanshe"}
    assert (frame["Step"] == 10).all()
    assert {"backlog", "participation_rate", "mean_trust", "issues_created"} <= set(frame)
    # iterations are different runs (a fresh seed each), not copies
    runs = frame.sort_values(["structure", "iteration"])
    assert runs.groupby("structure")["issues_created"].nunique().max() == 2 or (
        runs.groupby("structure")["participation_rate"].nunique().max() == 2
    )


def test_batch_run_returns_every_metric_per_step_and_seeds_reproduce():
    frame = batch(
        CoGovModel,
        {"structure": "bureaucratic", **WORLD},
        rng=[3, 3, 4],
        max_steps=6,
        data_collection_period=1,
    )
    assert sorted(frame["Step"].unique()) == list(range(7))
    by_run = [part.reset_index(drop=True) for _, part in frame.groupby("RunId")]
    metrics = ["backlog", "participation_rate", "issues_created"]
    assert by_run[0][metrics].equals(by_run[1][metrics])  # seed 3 twice: the same run
    assert not by_run[0][metrics].equals(by_run[2][metrics])


def test_the_apps_model_under_batch_run_with_a_seed_sweep():
    from app import CoGovApp

    frame = batch(CoGovApp, {"structure": "sanshe"}, rng=[1, 2], max_steps=5)
    assert len(frame) == 2 and frame["participation_rate"].nunique() == 2


def test_keyword_overrides_are_checked_like_the_command_line():
    model = CoGovModel(structure="canonical_pgg", **{"world.width": 12, "world.height": 12}, seed=7)
    assert model.config.seed == 7 and model.config_source.seed == 7
    with pytest.raises(ConfigError, match=r"world\.widht"):
        CoGovModel(**{"world.widht": 5})
