"""Tables of results over seeds: means with 95% Student-t confidence intervals."""

from __future__ import annotations

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


def format_table(table: pd.DataFrame, by: str, outputs: list[str], lang: str = "en") -> str:
    """The confidence table as aligned text: ``mean ± half-width`` per cell."""
    from experiments.labels import label

    header = [label(by, lang), *(label(o, lang) for o in outputs)]
    lines = [
        [
            str(label(str(row[by]), lang)),
            *(
                f"{row[o]:.3g} ± {row[f'{o}_ci']:.2g}"
                if np.isfinite(row[f"{o}_ci"])
                else f"{row[o]:.3g}"
                for o in outputs
            ),
        ]
        for _, row in table.iterrows()
    ]
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    text = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    text += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines]
    return "\n".join(text)
