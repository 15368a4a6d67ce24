"""The printed table of an experiment: width, precision, arrows, Chinese alignment, and the
Welch interval of a difference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments.labels import HIGHER_IS_BETTER, LOWER_IS_BETTER, label
from experiments.tables import (
    MAX_WIDTH,
    confidence_table,
    decimals,
    difference_half_width,
    display_width,
    format_table,
)

OUTPUTS = [
    "problem_resolution_rate",
    "callback_resolved_rate",
    "callback_satisfied_rate",
    "on_time_rate",
    "time_to_close_mean",
    "abandoned_share",
    "participation_rate",
    "mean_trust",
    "mean_satisfaction",
    "cost_per_problem_solved",
]
STRUCTURES = ["bureaucratic", "party_led", "grid", "sanshe", "decentralised", "co_governance"]


def _table() -> pd.DataFrame:
    """The main job's table from made-up runs: 6 structures x 10 seeds."""
    rng = np.random.default_rng(0)
    rows = [
        {"structure": s, **{o: rng.normal(120 if "cost" in o else 0.8, 0.02) for o in OUTPUTS}}
        for s in STRUCTURES
        for _ in range(10)
    ]
    return confidence_table(pd.DataFrame(rows), "structure", OUTPUTS)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_table_fits_in_100_columns_counting_chinese_as_two(lang):
    text = format_table(_table(), "structure", OUTPUTS, lang)
    assert max(display_width(line) for line in text.splitlines()) <= MAX_WIDTH
    assert all(label(s, lang) in text for s in STRUCTURES)  # no structure name is cut


def test_chinese_columns_line_up_on_the_screen():
    lines = format_table(_table(), "structure", OUTPUTS, "zh").splitlines()
    header = lines[0]
    row = next(line for line in lines if line.startswith(label("mean_trust", "zh")))
    # the second column starts at the same screen column in the header and in a row
    column = display_width(header[: header.index(label("bureaucratic", "zh"))])
    assert display_width(row[: row.index("0.")]) == column
    assert display_width("科层制") == 6 and display_width("ab ±") == 4


def test_each_metric_has_its_better_arrow_and_the_table_explains_them():
    lines = format_table(_table(), "structure", OUTPUTS).splitlines()
    for output in OUTPUTS:
        (line,) = [x for x in lines[1:11] if x.startswith(label(output))]
        expected = "↑" if output in HIGHER_IS_BETTER else "↓" if output in LOWER_IS_BETTER else ""
        assert f"{label(output)} {expected}".strip() in line
    assert "↑ higher is better, ↓ lower is better" in lines


def test_one_number_of_decimals_per_metric():
    text = format_table(_table(), "structure", OUTPUTS)
    lines = text.splitlines()
    rates = " ".join(x.split("↑")[1] for x in lines if x.startswith(label("mean_trust")))
    costs = " ".join(
        x.split("↓")[1] for x in lines if x.startswith(label("cost_per_problem_solved"))
    )
    numbers = [n for n in rates.split() if n != "±"]
    assert len(numbers) == 12 and all(len(n.split(".")[1]) == 3 for n in numbers)
    assert costs.count("±") == 6 and "." not in costs  # about 120 staff-days: whole numbers
    assert [decimals(np.array(v)) for v in ([0.83], [12.3], [153.0], [0.0012], [0.0])] == [
        3,
        1,
        0,
        4,
        2,
    ]


def test_a_narrow_terminal_gets_the_table_in_blocks():
    text = format_table(_table(), "structure", OUTPUTS, width=60)
    assert max(display_width(line) for line in text.splitlines()) <= 60
    assert text.count(label("structure")) >= 3


def test_difference_interval_is_welch_t():
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 4.0, 6.0, np.nan])
    result = stats.ttest_ind(a, b[:3], equal_var=False).confidence_interval(0.95)
    assert difference_half_width(a, b) == pytest.approx((result.high - result.low) / 2)
    assert difference_half_width(np.zeros(3), np.zeros(3)) == 0.0
    assert np.isnan(difference_half_width(a, np.array([1.0])))
