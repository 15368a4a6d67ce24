"""The live cogov app: ``uv run solara run app.py`` (``COGOV_LANG=zh`` for Chinese labels).

Households on the grid, coloured by participation or by trust, with open issues outlined in
red; live charts of backlog, the workstations' queue, participation, trust and satisfaction,
with the shock period shaded. The sidebar holds Reset, play and Step buttons and the
parameters of the next run: as in every Mesa app, they take effect when Reset rebuilds the
model.

Each day redraws the grid as one picture and the charts in the browser (ECharts), so the app
plays many days a second; ``uv run cogov-bench --only app`` measures how many.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial, reduce

import ipyvuetify
import matplotlib as mpl
import mesa
import numpy as np
import solara
import solara.lab
import traitlets
from matplotlib import colors
from mesa.visualization.utils import force_update, update_counter

from experiments.labels import SHOCKS, STRUCTURES, check_language, label
from model import CoGovModel, load_config

LANG = check_language(os.environ.get("COGOV_LANG", "en"))
tr = partial(label, lang=LANG)

WORLD = ("world.width=40", "world.height=40", "world.community_households=400")
"""Small enough to step and draw many times a second."""
DEFAULT = load_config()  # the default structure and shock: its lever values start the sliders
PLAY_INTERVAL_MS = 10
"""Pause between days while playing (Mesa's, 100 ms, would cap play at 10 days/s)."""
DAYS_AHEAD = 2
"""How far playing may run ahead of the days the browser has drawn: the model computes the
next day while the browser draws, but never queues more."""
DRAW_TIMEOUT_S = 1.0
"""How long a played day waits for the browser (there is none in an in-process test)."""


# -- the levers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Lever:
    """A model parameter the sidebar sets: a slider from ``low`` to ``high`` by ``step``, or an
    on/off switch when ``step`` is None. A lever ``by_structure`` is set by the structure's
    preset, which the sidebar's value replaces only while the preset is overridden."""

    key: str  # the config key; its label is in experiments/labels.py
    low: float = 0.0
    high: float = 1.0
    step: float | None = 0.05
    by_structure: bool = True

    def value_in(self, config) -> float | bool:
        """This lever's value in a composed config."""
        return reduce(getattr, self.key.split("."), config)

    def override(self, value: float | bool) -> str:
        """The config override that sets this lever to ``value``."""
        return f"{self.key}={str(bool(value)).lower() if self.step is None else float(value)}"

    def shown(self, value: float | bool) -> str:
        """``value`` as the app writes it."""
        if self.step is None:
            return tr("on") if value else tr("off")
        return f"{value:g}"


LEVERS = (
    Lever("residents.synergy", low=3.0, high=6.0, step=0.1, by_structure=False),
    Lever("government.devolution.authority"),
    Lever("government.devolution.resources"),
    Lever("government.data_sharing"),
    Lever("party.whistle", step=None),
)
"""Every lever the app offers: its controls, the 'levers in use' line and the ``levers`` that
CoGovApp takes all come from this table."""
LEVER_BY_KEY = {lever.key: lever for lever in LEVERS}


def levers_in_use(config) -> str:
    """The levers as the running model has them (the preset's unless overridden)."""
    values = (f"{tr(lever.key)} {lever.shown(lever.value_in(config))}" for lever in LEVERS)
    return f"{tr('levers_in_use')}: {' · '.join(values)}"


# -- the model ------------------------------------------------------------------------------

CHARTS = {
    "backlog": {"backlog": "#d62728"},
    "workstation_queue": {"workstation_queue": "#9467bd"},
    "shares": {
        "participation_rate": "#2ca02c",
        "mean_trust": "#1f77b4",
        "mean_satisfaction": "#ff7f0e",
    },
}
"""Chart title -> the metrics it draws and their colours."""
CHARTED = tuple(name for lines in CHARTS.values() for name in lines)


def _recorded(model: CoGovModel, name: str) -> float:
    return model.metrics.get(name, math.nan)


class CoGovApp(CoGovModel):
    """CoGovModel at the app's size, built from the sidebar's parameters (Reset calls
    ``CoGovApp(**parameters)``). ``levers`` maps lever keys (LEVERS) to values; those set by
    the structure keep the preset's values unless ``custom_levers`` is set. Every charted
    metric is recorded for every structure (NaN where a structure has none)."""

    def __init__(
        self,
        structure: str = DEFAULT.structure.name,
        shock: str = DEFAULT.shock.name,
        seed: int | None = 0,
        custom_levers: bool = False,
        levers: Mapping[str, float | bool] | None = None,
    ):
        levers = dict(levers or {})
        if unknown := sorted(set(levers) - set(LEVER_BY_KEY)):
            raise ValueError(
                f"unknown lever {unknown[0]}; expected one of: {', '.join(LEVER_BY_KEY)}"
            )
        overrides = [*WORLD, f"structure={structure}", f"shock={shock}"]
        overrides += [
            LEVER_BY_KEY[key].override(value)
            for key, value in levers.items()
            if custom_levers or not LEVER_BY_KEY[key].by_structure
        ]
        super().__init__(load_config(*overrides), seed=seed)  # None: a fresh seed (batch_run)
        recorded = sorted({*self.metrics, *CHARTED})
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(_recorded, name=name) for name in recorded}
        )
        self.datacollector.collect(self)


DEFAULT_PARAMETERS = {
    "structure": DEFAULT.structure.name,
    "shock": DEFAULT.shock.name,
    "seed": 0,
    "custom_levers": False,
    "levers": {lever.key: lever.value_in(DEFAULT) for lever in LEVERS},
}
"""CoGovApp's keyword arguments for the first Reset."""


def shock_news(model: CoGovModel) -> str | None:
    """When the shock runs, said from today's point of view; None without a shock."""
    shock = model.config.shock
    if shock.duration == 0:
        return None
    start, end, day = shock.start, shock.start + shock.duration - 1, model.steps
    words = {"shock": tr(shock.name), "start": start, "end": end}
    if day < start:
        return tr("shock_ahead").format(**words)
    if day <= end:
        return tr("shock_under_way").format(day=day - start + 1, days=shock.duration, **words)
    return tr("shock_over").format(**words)


# -- the grid -------------------------------------------------------------------------------

CELL_PX = 10
"""Pixels a household on each side."""
CO_PRODUCER, FREE_RIDER, OPEN_ISSUE = (
    np.array(colors.to_rgb(name)) * 255 for name in ("tab:green", "lightgray", "red")
)
TRUST_COLOURS = mpl.colormaps["viridis"]
TRUST_PERCENTILES = (2, 98)
"""Trust sits in a narrow band: the colour scale spans these percentiles of today's trust."""
COLOUR_BY = ("participation", "trust")
COLOUR_BY_LABEL = {tr(key): key for key in COLOUR_BY}
grid_colouring = solara.reactive("participation")  # a view setting: applies without a Reset


def trust_span(trust: np.ndarray) -> tuple[float, float]:
    """The trust values at the ends of the colour scale: TRUST_PERCENTILES of ``trust``, at
    least 0.01 apart (at the start every household has the same trust)."""
    low, high = np.percentile(trust, TRUST_PERCENTILES)
    middle, half = (low + high) / 2, max(high - low, 0.01) / 2
    return float(middle - half), float(middle + half)


def grid_picture(model: CoGovModel, colour_by: str) -> np.ndarray:
    """The households as an RGB image, CELL_PX pixels each, y upwards as in Mesa's space
    drawings; a red frame marks a household with an open issue."""
    world, population = model.config.world, model.population
    if colour_by == "trust":
        low, high = trust_span(population.trust)
        shade = np.clip((population.trust - low) / (high - low), 0.0, 1.0)
        colours = TRUST_COLOURS(shade, bytes=True)[:, :3]
    else:
        colours = np.where(population.participating[:, None], CO_PRODUCER, FREE_RIDER)
    # households are indexed x * height + y: rows of the image are y, from the top
    cells = colours.reshape(world.width, world.height, 3).transpose(1, 0, 2)[::-1]
    has_issue = (population.open_issue >= 0).reshape(world.width, world.height).T[::-1]
    frame = np.ones((CELL_PX, CELL_PX), dtype=bool)
    frame[2:-2, 2:-2] = False
    picture = cells.repeat(CELL_PX, axis=0).repeat(CELL_PX, axis=1).astype(np.uint8)
    picture[np.kron(has_issue, frame).astype(bool)] = OPEN_ISSUE
    return picture


def _swatch(colour: str, text: str, frame: str | None = None) -> str:
    border = f"2px solid {frame}" if frame else "none"
    return (
        f'<span style="display:inline-block;width:14px;height:14px;background:{colour};'
        f'border:{border};margin:0 4px 0 12px;vertical-align:middle"></span>{text}'
    )


def rgb_hex(rgb: np.ndarray) -> str:
    """``#rrggbb`` of an RGB colour on the 0-255 scale."""
    # an RGB array is a colour to matplotlib; its stubs accept only tuples
    return colors.to_hex(rgb / 255)  # pyright: ignore[reportArgumentType]


def grid_legend(model: CoGovModel, colour_by: str) -> str:
    """HTML: what the colours and the frame mean; for trust, a colour bar with its range."""
    open_issue = _swatch("white", tr("open_issues"), frame=rgb_hex(OPEN_ISSUE))
    if colour_by != "trust":
        co_producer, free_rider = (rgb_hex(c) for c in (CO_PRODUCER, FREE_RIDER))
        return (
            _swatch(co_producer, tr("co_producer"))
            + _swatch(free_rider, tr("free_rider"))
            + open_issue
        )
    low, high = trust_span(model.population.trust)
    stops = ", ".join(colors.to_hex(TRUST_COLOURS(x)) for x in np.linspace(0, 1, 9))
    bar = (
        f'<span style="display:inline-block;width:160px;height:14px;margin:0 6px;'
        f'vertical-align:middle;background:linear-gradient(to right, {stops})"></span>'
    )
    return (
        f'{tr("trust")}: <span class="trust-low">{low:.3f}</span>{bar}'
        f'<span class="trust-high">{high:.3f}</span>{open_issue}'
        f'<div style="font-size:smaller">{tr("trust_scale")}</div>'
    )


@solara.component  # pyright: ignore[reportPrivateImportUsage]
def Households(model: CoGovApp, day: int):
    """What is running on ``day``, the shock's schedule, the colour switch, the grid and its
    legend; a new ``day`` draws them again."""
    config, colour_by = model.config, grid_colouring.value
    solara.Text(
        f"{tr('structure')}: {tr(config.structure.name)} · {tr('shock')}: "
        f"{tr(config.shock.name)} · {tr('day')}: {day}",
        classes=["status"],
    )
    if news := shock_news(model):
        solara.Text(news, classes=["shock-news"], style={"font-weight": "bold"})
    solara.Text(levers_in_use(config), classes=["levers"])
    solara.Select(
        label=tr("colour_by"),
        value=tr(colour_by),
        values=list(COLOUR_BY_LABEL),
        on_value=lambda shown: grid_colouring.set(COLOUR_BY_LABEL[shown]),
    )
    solara.Image(grid_picture(model, colour_by), classes=["grid"])
    solara.HTML(unsafe_innerHTML=grid_legend(model, colour_by), classes=["legend"])


# -- charts ---------------------------------------------------------------------------------


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no NaN; ECharts leaves a gap


def chart_option(model: CoGovModel, title: str) -> dict:
    """An ECharts line chart of CHARTS[title] by day, read from the DataCollector's columns,
    with the shock's days so far shaded. The days are the category axis's positions, so each
    series is a flat list of values: reacton walks every item of an element's arguments on
    each render, and pairs of (day, value) would cost three times as much."""
    columns, shock, today = model.datacollector.model_vars, model.config.shock, model.steps
    series = [
        {
            "name": tr(name),
            "type": "line",
            "showSymbol": today == 0,  # a lone first point is drawn as a dot
            "color": colour,
            "data": [_finite_or_none(value) for value in columns[name]],
        }
        for name, colour in CHARTS[title].items()
    ]
    if shock.duration and today >= shock.start:
        end = min(shock.start + shock.duration - 1, today)
        series[0]["markArea"] = {
            "silent": True,
            "itemStyle": {"color": "rgba(214, 39, 40, 0.12)"},
            "label": {"position": "insideTop", "color": "#d62728"},
            "data": [[{"name": tr(shock.name), "xAxis": shock.start}, {"xAxis": end}]],
        }
    return {
        "animation": False,
        "title": {"text": tr(title), "left": "center", "textStyle": {"fontSize": 14}},
        "legend": {"top": 22},
        "tooltip": {"trigger": "axis"},
        "grid": {"top": 60, "bottom": 44, "left": 50, "right": 20},
        "xAxis": {
            "type": "category",
            "boundaryGap": False,
            "name": tr("day"),
            "nameLocation": "middle",
            "nameGap": 24,
        },
        "yAxis": {"type": "value", "scale": True},
        "series": series,
    }


@solara.component  # pyright: ignore[reportPrivateImportUsage]
def Chart(model: CoGovApp, title: str, day: int):
    """The chart CHARTS[title], drawn by the browser; a new ``day`` draws it again."""
    solara.FigureEcharts(
        chart_option(model, title), attributes={"style": "height: 260px;", "class": title}
    )


class Pacer:
    """The last day the browser has drawn, for the play loop to wait for."""

    def __init__(self):
        self._drawn_day = -1
        self._changed = threading.Condition()

    def drawn(self, day: int) -> None:
        with self._changed:
            self._drawn_day = day
            self._changed.notify_all()

    def wait_to_play(self, day: int) -> bool:
        """Wait until the browser is at most DAYS_AHEAD behind ``day``; False if it did not
        get there within DRAW_TIMEOUT_S."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._drawn_day >= day - DAYS_AHEAD, timeout=DRAW_TIMEOUT_S
            )


class DayDrawn(ipyvuetify.VuetifyTemplate):  # pyright: ignore[reportPrivateImportUsage]
    """Invisible; calls ``on_drawn(day)`` once the browser has applied the page's updates for
    ``day`` (the updates of a day arrive in order, and this one comes last)."""

    template = traitlets.Unicode(
        """<template><span></span></template>
<script>
module.exports = {
  mounted() { this.drawn(this.day); },
  watch: { day(day) { this.$nextTick(() => this.drawn(day)); } },
};
</script>"""
    ).tag(sync=True)
    day = traitlets.Int(0).tag(sync=True)
    on_drawn = traitlets.Callable(None, allow_none=True)

    def vue_drawn(self, day: int) -> None:
        if self.on_drawn is not None:
            self.on_drawn(day)


@solara.component  # pyright: ignore[reportPrivateImportUsage]
def RunningModel(model: CoGovApp, pacer: Pacer):
    """The grid and the charts side by side, redrawn after each step. Only this component
    listens to Mesa's step counter (when several do, the page renders again from their
    common ancestor); it hands the day to its children, as reacton renders a component
    again only when its arguments change. The browser reports each day it has drawn to
    ``pacer``."""
    update_counter.get()
    with solara.Columns([1, 1]):
        with solara.Column():
            Households(model, model.steps)
        with solara.Column():
            for title in CHARTS:
                Chart(model, title, model.steps)
    DayDrawn.element(day=model.steps, on_drawn=pacer.drawn)  # pyright: ignore[reportAttributeAccessIssue]


# -- parameters and page --------------------------------------------------------------------

STRUCTURE_BY_LABEL = {tr(key): key for key in STRUCTURES}
SHOCK_BY_LABEL = {tr(key): key for key in SHOCKS}


@solara.component  # pyright: ignore[reportPrivateImportUsage]
def LeverControl(lever: Lever, value: float | bool, locked: bool, on_value):
    """A lever's slider, with its value in the label, or its switch."""
    if lever.step is None:
        solara.Checkbox(label=tr(lever.key), value=bool(value), on_value=on_value, disabled=locked)
    else:
        solara.SliderFloat(
            f"{tr(lever.key)}: {lever.shown(value)}",
            value=value,
            min=lever.low,
            max=lever.high,
            step=lever.step,
            on_value=on_value,
            disabled=locked,
        )


@solara.component  # pyright: ignore[reportPrivateImportUsage]
def Parameters(parameters: solara.Reactive[dict], running):
    """The next run's parameters, which Reset applies. The levers set by the structure show
    the ``running`` config's values and stay locked unless the preset is overridden."""
    chosen = parameters.value

    def choose(**changes):
        parameters.set({**parameters.value, **changes})

    def set_lever(key: str, value: float | bool):
        choose(levers={**parameters.value["levers"], key: value})

    def override_preset(custom: bool):
        levers = parameters.value["levers"]
        if custom:  # start from the values that run
            preset = {lever.key: lever.value_in(running) for lever in LEVERS if lever.by_structure}
            levers = {**levers, **preset}
        choose(custom_levers=custom, levers=levers)

    solara.Select(
        label=tr("structure"),
        value=tr(chosen["structure"]),
        values=list(STRUCTURE_BY_LABEL),
        on_value=lambda shown: choose(structure=STRUCTURE_BY_LABEL[shown]),
    )
    solara.Select(
        label=tr("shock"),
        value=tr(chosen["shock"]),
        values=list(SHOCK_BY_LABEL),
        on_value=lambda shown: choose(shock=SHOCK_BY_LABEL[shown]),
    )
    solara.SliderInt(
        f"{tr('seed')}: {chosen['seed']}",
        value=chosen["seed"],
        min=0,
        max=99,
        on_value=lambda seed: choose(seed=seed),
    )
    solara.Checkbox(
        label=tr("custom_levers"), value=chosen["custom_levers"], on_value=override_preset
    )
    for lever in LEVERS:
        locked = lever.by_structure and not chosen["custom_levers"]
        LeverControl(
            lever,
            lever.value_in(running) if locked else chosen["levers"][lever.key],
            locked,
            partial(set_lever, lever.key),
        )
    solara.Text(tr("apply_hint"), style={"font-style": "italic"})


@solara.component  # pyright: ignore[reportPrivateImportUsage]
def Controls(model: solara.Reactive[CoGovApp], parameters: solara.Reactive[dict], pacer: Pacer):
    """Reset, play and Step, as Mesa's ModelController, and the pause between played days.
    Playing waits for the browser to draw (Pacer): Mesa's loop steps on regardless, so the
    page fell ever further behind the model (the browser queued the days and showed them
    late), and a click while playing could find its render overtaken by steps on every pass
    (reacton: "Too many renders triggered")."""
    playing = solara.use_reactive(False)
    pause_ms = solara.use_reactive(PLAY_INTERVAL_MS)

    def step():
        model.value.step()
        force_update()

    def play():
        while playing.value and model.value.running:
            step()
            pacer.wait_to_play(model.value.steps)
            time.sleep(pause_ms.value / 1000)

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)  # pyright: ignore[reportPrivateImportUsage]

    def reset():
        playing.set(False)
        pacer.drawn(-1)
        model.set(CoGovApp(**parameters.value))

    with solara.Row(justify="space-between"):
        solara.Button("Reset", color="primary", on_click=reset)
        solara.Button(
            "❚❚" if playing.value else "▶",
            color="primary",
            on_click=lambda: playing.set(not playing.value),
        )
        solara.Button("Step", color="primary", on_click=step, disabled=playing.value)
    solara.SliderInt(
        f"{tr('play_interval')}: {pause_ms.value}", value=pause_ms, min=0, max=500, step=10
    )


@solara.component  # pyright: ignore[reportPrivateImportUsage]
def Page():
    """The controls and the next run's parameters in the sidebar; the running model's grid
    and charts side by side."""
    model = solara.use_reactive(solara.use_memo(CoGovApp, []))  # pyright: ignore[reportPrivateImportUsage]
    parameters = solara.use_reactive(DEFAULT_PARAMETERS)
    pacer = solara.use_memo(Pacer, [])  # pyright: ignore[reportPrivateImportUsage]
    with solara.AppBar():
        solara.AppBarTitle(tr("title"))
    with solara.Sidebar():
        with solara.Card(tr("controls")):
            Controls(model, parameters, pacer)
        with solara.Card(tr("next_run")):
            Parameters(parameters, model.value.config)
    RunningModel(model.value, pacer)
