"""Tables of results over seeds: means with 95% Student-t confidence intervals."""

from __future__ import annotations

import unicodedata
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95


def t_half_width(values: np.ndarray) -> float:
    """Half-width of the 95% Student-t confidence interval of the mean of the finite
    ``values`` (in their unit); NaN for fewer than two."""
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return float("nan")
    quantile = stats.t.ppf(0.5 + CONFIDENCE / 2, len(values) - 1)
    return float(quantile * values.std(ddof=1) / np.sqrt(len(values)))


def confidence_table(frame: pd.DataFrame, by: str, outputs: list[str]) -> pd.DataFrame:
    """Per group of ``by``: the number of runs, then each output's mean over its finite
    values and the half-width of its 95% confidence interval (column ``<output>_ci``)."""
    rows = []
    for group, part in frame.groupby(by, sort=False):
        row: dict[str, Any] = {by: group, "runs": len(part)}
        for output in outputs:
            values = part[output].to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            row[output] = finite.mean() if len(finite) else np.nan
            row[f"{output}_ci"] = t_half_width(finite)
        rows.append(row)
    return pd.DataFrame(rows)


def difference_half_width(values: np.ndarray, reference: np.ndarray) -> float:
    """Half-width of the 95% Welch t confidence interval of ``mean(values) -
    mean(reference)`` over their finite entries (in their unit); NaN for fewer than two of
    either."""
    values, reference = values[np.isfinite(values)], reference[np.isfinite(reference)]
    if len(values) < 2 or len(reference) < 2:
        return float("nan")
    a, b = values.var(ddof=1) / len(values), reference.var(ddof=1) / len(reference)
    if a + b == 0:
        return 0.0
    freedom = (a + b) ** 2 / (a**2 / (len(values) - 1) + b**2 / (len(reference) - 1))
    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, freedom) * np.sqrt(a + b))


def difference_table(
    frame: pd.DataFrame, by: str, outputs: list[str], reference: str
) -> pd.DataFrame:
    """Per group of ``by`` other than ``reference``, and per output: the difference of its
    mean from the reference group's (column ``difference``, in the output's unit), the
    half-width of its 95% Welch interval (``half_width``) and the reference's mean
    (``reference_mean``). Means are over finite values."""
    base = frame[frame[by] == reference]
    rows = []
    for group, part in frame[frame[by] != reference].groupby(by, sort=False):
        for output in outputs:
            values, anchor = (x[output].to_numpy(dtype=float) for x in (part, base))
            values, anchor = values[np.isfinite(values)], anchor[np.isfinite(anchor)]
            mean = anchor.mean() if len(anchor) else np.nan
            rows.append(
                {
                    by: group,
                    "output": output,
                    "difference": (values.mean() if len(values) else np.nan) - mean,
                    "half_width": difference_half_width(values, anchor),
                    "reference_mean": mean,
                }
            )
    return pd.DataFrame(rows, columns=[by, "output", "difference", "half_width", "reference_mean"])


MAX_WIDTH = 100
"""Terminal columns the printed table may take."""


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: 2 for each East Asian wide or full-width character
    (Chinese), 0 for a combining mark, 1 otherwise."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def _pad(text: str, width: int) -> str:
    """``text`` followed by spaces up to ``width`` terminal columns."""
    return text + " " * (width - display_width(text))


def _clip(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` terminal columns, ending in ``…`` when cut."""
    if display_width(text) <= width:
        return text
    while display_width(text) > width - 1:
        text = text[:-1]
    return text + "…"


def decimals(values: np.ndarray) -> int:
    """Decimal places that show the largest finite ``abs(value)`` with three significant
    digits (0 to 4); one count for a whole metric keeps its column consistent."""
    finite = np.abs(values[np.isfinite(values)])
    largest = finite.max() if len(finite) else 0.0
    if largest == 0:
        return 2
    return int(np.clip(2 - np.floor(np.log10(largest)), 0, 4))


def _cells(table: pd.DataFrame, output: str) -> list[str]:
    """``mean ± half-width`` per group, both at the metric's own number of decimals."""
    means = table[output].to_numpy(dtype=float)
    places = decimals(means)
    cells = []
    for mean, half in zip(means, table[f"{output}_ci"].to_numpy(dtype=float), strict=True):
        if not np.isfinite(mean):
            cells.append("-")
        elif np.isfinite(half):
            cells.append(f"{mean:.{places}f} ± {half:.{places}f}")
        else:
            cells.append(f"{mean:.{places}f}")
    return cells


def _blocks(widths: list[int], room: int) -> list[list[int]]:
    """Consecutive column indices grouped so that each group fits ``room`` terminal columns
    (two spaces before each column); a column wider than ``room`` has a group of its own."""
    blocks: list[list[int]] = [[]]
    used = 0
    for k, width in enumerate(widths):
        if blocks[-1] and used + 2 + width > room:
            blocks.append([])
            used = 0
        blocks[-1].append(k)
        used += 2 + width
    return blocks


def format_table(
    table: pd.DataFrame, by: str, outputs: list[str], lang: str = "en", width: int = MAX_WIDTH
) -> str:
    """The confidence table as aligned text at most ``width`` terminal columns wide: a row
    per metric (its label and ↑ or ↓, which way is better), a column per group of ``by``,
    cells ``mean ± half-width`` with one number of decimals per metric. Groups that do not
    fit side by side continue in a second block below; a note ends the table."""
    from experiments.labels import arrow, label

    names = [f"{_clip(label(o, lang), width // 2)} {arrow(o)}".rstrip() for o in outputs]
    first = max(display_width(n) for n in [label(by, lang), *names])
    columns = []
    for k, group in enumerate(table[by]):
        header = _clip(label(str(group), lang), width - first - 2)
        cells = [_cells(table, o)[k] for o in outputs]
        columns.append((header, cells, max(display_width(c) for c in [header, *cells])))
    lines: list[str] = []
    for block in _blocks([c[2] for c in columns], width - first):
        if lines:
            lines.append("")
        rows = [[label(by, lang), *(columns[k][0] for k in block)]]
        rows += [[name, *(columns[k][1][i] for k in block)] for i, name in enumerate(names)]
        sizes = [first, *(columns[k][2] for k in block)]
        for row in rows:
            lines.append("  ".join(_pad(c, s) for c, s in zip(row, sizes, strict=True)).rstrip())
    runs = table["runs"].to_numpy(dtype=int)
    low, high = int(runs.min()), int(runs.max())
    count = str(low) if low == high else f"{low}-{high}"
    for key in ("arrows", "table_note"):
        lines.append(_clip(label(key, lang).format(runs=count), width))
    return "\n".join(lines)
