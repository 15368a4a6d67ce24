"""The live cogov app: ``uv run solara run app.py`` (``COGOV_LANG=zh`` for Chinese labels).

Households on the grid, coloured by participation or trust, with open issues outlined in
black; a structure selector and sliders for the main levers; live charts of backlog,
response time, participation, trust and satisfaction. As in every Mesa SolaraViz app, new
parameters take effect when Reset rebuilds the model from them.
"""

from __future__ import annotations

import os
from functools import partial

import matplotlib as mpl
import mesa
import solara
from matplotlib.colors import to_rgba
from matplotlib.patches import Patch
from mesa.visualization import Slider, SolaraViz, make_plot_component, make_space_component
from mesa.visualization.components import AgentPortrayalStyle
from mesa.visualization.utils import update_counter

from experiments.labels import SHOCKS, STRUCTURES, label, use_language
from model import CoGovModel, load_config

LANG = os.environ.get("COGOV_LANG", "en")
use_language(LANG)
tr = partial(label, lang=LANG)

WORLD = ("world.width=40", "world.height=40", "world.community_households=400")
"""Small enough to step and draw several times a second."""
CHARTED = ("backlog", "workstation_queue", "participation_rate", "mean_trust", "mean_satisfaction")
PRESET = load_config()  # the default structure: its lever values start the sliders

STRUCTURE_BY_LABEL = {tr(key): key for key in STRUCTURES}
SHOCK_BY_LABEL = {tr(key): key for key in SHOCKS}


def _recorded(model: CoGovModel, name: str) -> float:
    return model.metrics.get(name, float("nan"))


class CoGovApp(CoGovModel):
    """CoGovModel built from the app's parameters (SolaraViz calls ``CoGovApp(**params)`` on
    Reset). Structure and shock are given as keys or as their labels; the institutional levers
    override the structure's preset only when ``custom_levers`` is set. Every charted metric is
    recorded for every structure (NaN where a structure has none)."""

    def __init__(
        self,
        structure: str = PRESET.structure.name,
        shock: str = PRESET.shock.name,
        seed: int = 0,
        synergy: float = PRESET.residents.synergy,
        custom_levers: bool = False,
        authority: float = PRESET.government.devolution.authority,
        resources: float = PRESET.government.devolution.resources,
        data_sharing: float = PRESET.government.data_sharing,
        whistle: bool = PRESET.party.whistle,
    ):
        overrides = [
            *WORLD,
            f"structure={STRUCTURE_BY_LABEL.get(structure, structure)}",
            f"shock={SHOCK_BY_LABEL.get(shock, shock)}",
            f"seed={int(seed)}",
            f"residents.synergy={float(synergy)}",
        ]
        if custom_levers:
            overrides += [
                f"government.devolution.authority={float(authority)}",
                f"government.devolution.resources={float(resources)}",
                f"government.data_sharing={float(data_sharing)}",
                f"party.whistle={str(bool(whistle)).lower()}",
            ]
        super().__init__(load_config(*overrides))
        recorded = sorted({*self.metrics, *CHARTED})
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(_recorded, name=name) for name in recorded}
        )
        self.datacollector.collect(self)


# -- the grid -------------------------------------------------------------------------------

CO_PRODUCER, FREE_RIDER = to_rgba("tab:green"), to_rgba("lightgray")
TRUST_COLOURS = mpl.colormaps["RdYlBu"]
OPEN_ISSUE_EDGE = to_rgba("black")
COLOUR_BY = ("participation", "trust")
COLOUR_BY_LABEL = {tr(key): key for key in COLOUR_BY}
grid_colouring = solara.reactive("participation")  # a view setting: applies without a Reset


def household(agent, colour_by: str) -> AgentPortrayalStyle:
    """A filled square; black outline while the household has an open issue."""
    if colour_by == "trust":
        colour = TRUST_COLOURS(agent.trust)
    else:
        colour = CO_PRODUCER if agent.participating else FREE_RIDER
    has_issue = agent.open_issue >= 0
    return AgentPortrayalStyle(
        color=colour,
        marker="s",
        size=42,
        edgecolors=OPEN_ISSUE_EDGE if has_issue else colour,
        linewidths=1.5 if has_issue else 0.0,
    )


def decorate_grid(ax, colour_by: str) -> None:
    """Square cells, no ticks, a title and a legend for the colours and the outline."""
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{tr('households')}: {tr(colour_by)}")
    open_issue = Patch(facecolor="white", edgecolor=OPEN_ISSUE_EDGE, label=tr("open_issues"))
    if colour_by == "trust":
        colours = mpl.cm.ScalarMappable(mpl.colors.Normalize(0, 1), TRUST_COLOURS)
        ax.figure.colorbar(colours, ax=ax, label=tr("trust"), shrink=0.8)
        handles = [open_issue]
    else:
        handles = [
            Patch(color=CO_PRODUCER, label=tr("co_producer")),
            Patch(color=FREE_RIDER, label=tr("free_rider")),
            open_issue,
        ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=3)


GRID_VIEWS = {
    key: make_space_component(
        partial(household, colour_by=key),
        post_process=partial(decorate_grid, colour_by=key),
        draw_grid=False,
    )
    for key in COLOUR_BY
}


def levers_in_use(config) -> str:
    """The slider levers as the running model has them: the structure's preset values, or
    the sliders' when ``custom_levers`` was ticked at the last Reset."""
    government = config.government
    whistle = tr("on") if config.party.whistle else tr("off")
    return (
        f"{tr('levers_in_use')}: {tr('government.devolution.authority')} "
        f"{government.devolution.authority:g} · {tr('government.devolution.resources')} "
        f"{government.devolution.resources:g} · {tr('government.data_sharing')} "
        f"{government.data_sharing:g} · {tr('party.whistle')} {whistle}"
    )


@solara.component
def Households(model: CoGovApp):
    """What is running, the colour switch and the grid."""
    update_counter.get()
    config = model.config
    solara.Text(
        f"{tr('structure')}: {tr(config.structure.name)} · {tr('shock')}: "
        f"{tr(config.shock.name)} · {tr('day')}: {model.steps}",
        classes=["status"],
    )
    solara.Text(levers_in_use(config), classes=["levers"])
    solara.Text(tr("apply_hint"), style={"font-style": "italic"})
    solara.Select(
        label=tr("colour_by"),
        value=tr(grid_colouring.value),
        values=list(COLOUR_BY_LABEL),
        on_value=lambda shown: grid_colouring.set(COLOUR_BY_LABEL[shown]),
    )
    GRID_VIEWS[grid_colouring.value](model)


# -- charts ---------------------------------------------------------------------------------


def decorate_chart(ax, title: str) -> None:
    """A short figure with title and legend in the app's language."""
    ax.figure.set_size_inches(6.4, 3.2)
    for line in ax.get_lines():
        line.set_label(tr(line.get_label()))
    ax.legend(loc="best")
    ax.set_title(title)


def chart(measures: dict[str, str], title: str):
    """Mesa's plot component of DataCollector columns (its page number is not used here)."""
    view, _page = make_plot_component(measures, post_process=partial(decorate_chart, title=title))
    return view


CHARTS = [
    chart({"backlog": "tab:red"}, tr("backlog")),
    chart({"workstation_queue": "tab:purple"}, tr("workstation_queue")),
    chart(
        {
            "participation_rate": "tab:green",
            "mean_trust": "tab:blue",
            "mean_satisfaction": "tab:orange",
        },
        tr("shares"),
    ),
]


model_params = {
    "structure": {
        "type": "Select",
        "value": tr(PRESET.structure.name),
        "values": list(STRUCTURE_BY_LABEL),
        "label": tr("structure"),
    },
    "shock": {
        "type": "Select",
        "value": tr(PRESET.shock.name),
        "values": list(SHOCK_BY_LABEL),
        "label": tr("shock"),
    },
    "seed": Slider(tr("seed"), 0, 0, 99, 1),
    "synergy": Slider(tr("residents.synergy"), PRESET.residents.synergy, 3.0, 6.0, 0.1),
    "custom_levers": {"type": "Checkbox", "value": False, "label": tr("custom_levers")},
    "authority": Slider(
        tr("government.devolution.authority"),
        PRESET.government.devolution.authority,
        0.0,
        1.0,
        0.05,
    ),
    "resources": Slider(
        tr("government.devolution.resources"),
        PRESET.government.devolution.resources,
        0.0,
        1.0,
        0.05,
    ),
    "data_sharing": Slider(
        tr("government.data_sharing"), PRESET.government.data_sharing, 0.0, 1.0, 0.05
    ),
    "whistle": {"type": "Checkbox", "value": PRESET.party.whistle, "label": tr("party.whistle")},
}


@solara.component
def Page():
    """Mesa's SolaraViz for the controls and parameters, the grid and charts beside it.

    The views are laid out here rather than passed to SolaraViz as components: SolaraViz
    puts components in a draggable grid that stays blank in a browser with ipyvue and
    ipyvuetify 3 ("GlobalVue.use is not a function", mesa issue #3806).
    """
    model = solara.use_reactive(solara.use_memo(CoGovApp, []))
    SolaraViz(model, components=[], model_params=model_params, name=tr("title"))
    with solara.Columns([1, 1]):
        Households(model.value)
        with solara.Column():
            for view in CHARTS:
                view(model.value)
