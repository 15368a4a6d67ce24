"""The model description stays complete: every configuration key a user can set and every
metric the model records is named in docs/ODD.md (in backticks, as the dotted key or name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from model import CoGovModel, load_config
from model.schema import iter_params
from tests.conftest import days, world

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"


@pytest.fixture(scope="module")
def odd_text() -> str:
    return ODD.read_text(encoding="utf-8")


def missing_from(text: str, names: list[str]) -> list[str]:
    """The names that do not appear in ``text`` as `` `name` ``."""
    return [name for name in names if f"`{name}`" not in text]


def test_every_config_key_is_documented(odd_text):
    keys = [key for key, _ in iter_params()]
    missing = missing_from(odd_text, keys)
    assert not missing, f"docs/ODD.md does not name these config keys: {', '.join(missing)}"


def test_every_metric_is_documented(odd_text):
    """Daily metrics (the time series) and headline metrics (the run's summary)."""
    model = CoGovModel(load_config(*world(6), *days(2), "shock=epidemic", "shock.start=1"))
    model.run_for(2)
    names = list(dict.fromkeys([*model.metrics, *model.headline()]))
    missing = missing_from(odd_text, names)
    assert not missing, f"docs/ODD.md does not name these metrics: {', '.join(missing)}"
