"""The live app (app.py): rendered by solara in-process, and served to a headless Chromium
with no CDN to fall back on."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import ipyvuetify as v
import ipywidgets
import numpy as np
import pytest
import solara
from solara.components.echarts import EchartsWidget
from solara.server import server, settings

import app
from experiments.bench import CHROMIUM, app_page, page_day, play, serving_app
from experiments.labels import LABELS
from model.config import CONFIG_DIR

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


# -- in-process render ----------------------------------------------------------------------


@pytest.fixture
def rendered():
    """The app's page inside an app layout (which hosts the sidebar of controls)."""
    app.grid_colouring.set("participation")
    _, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    yield rc
    rc.close()


def _grid(rc) -> bytes:
    """The PNG of the households."""
    (picture,) = (w for w in rc.find(ipywidgets.Image).widgets if "grid" in w._dom_classes)
    return bytes(picture.value)


def _charts(rc) -> dict[str, dict]:
    """Chart title -> the ECharts option it shows."""
    return {w.attributes["class"]: w.option for w in rc.find(EchartsWidget).widgets}


def _text(rc, css_class: str) -> str:
    return rc.find(v.Html, class_=css_class).widget.children[0]


def _status(rc) -> str:
    """The line saying which structure and shock are running, and the day."""
    return _text(rc, "status")


def _select(rc, label: str, choice: str) -> None:
    rc.find(v.Select, label=label).widget.v_model = choice


def _click(rc, text: str) -> None:
    rc.find(v.Btn, children=[text]).widget.click()


def _sliders(rc) -> dict[str, v.Slider]:
    """Slider label without its value -> slider."""
    return {w.label.rsplit(": ", 1)[0]: w for w in rc.find(v.Slider).widgets}


def _checkbox(rc, label: str) -> v.Checkbox:
    return rc.find(v.Checkbox, label=label).widget


def test_page_has_controls_grid_and_charts(rendered):
    selects = {w.label: w.items for w in rendered.find(v.Select).widgets}
    presets = list((CONFIG_DIR / "structure").glob("*.yaml"))
    assert len(selects["structure"]) == len(presets)
    assert "three-society linkage" in selects["structure"]
    assert selects["shock"] == ["no shock", "epidemic", "disaster"]
    assert selects["colour by"] == ["participation", "trust"]
    for button in ("Reset", "▶", "Step"):
        rendered.find(v.Btn, children=[button]).assert_single()
    assert _grid(rendered).startswith(b"\x89PNG")
    charts = _charts(rendered)
    assert list(charts) == list(app.CHARTS)
    assert [s["name"] for s in charts["shares"]["series"]] == [
        "participation rate",
        "institutional trust",
        "satisfaction",
    ]
    assert _status(rendered) == "structure: co-governance · shock: no shock · day: 0"


def test_every_lever_of_the_table_has_a_control_and_a_place_in_the_levers_line(rendered):
    labels = {*(w.label for w in rendered.find(v.Slider).widgets)}
    labels |= {w.label for w in rendered.find(v.Checkbox).widgets}
    levers_line = _text(rendered, "levers")
    for lever in app.LEVERS:
        shown = lever.shown(lever.value_in(app.DEFAULT))
        if lever.step is None:
            assert app.tr(lever.key) in labels
        else:
            assert f"{app.tr(lever.key)}: {shown}" in labels  # each slider shows its value
        assert f"{app.tr(lever.key)} {shown}" in levers_line
    assert set(app.DEFAULT_PARAMETERS["levers"]) == set(app.LEVER_BY_KEY)


def test_sliders_show_their_value(rendered):
    _sliders(rendered)["seed"].v_model = 7
    _sliders(rendered)["co-production synergy r"].v_model = 4.5
    labels = {w.label for w in rendered.find(v.Slider).widgets}
    assert {"seed: 7", "co-production synergy r: 4.5"} <= labels


def test_stepping_changes_the_grid_and_the_charts(rendered):
    grid = _grid(rendered)
    for _ in range(3):
        _click(rendered, "Step")
    assert _status(rendered).endswith("day: 3")
    assert _grid(rendered) != grid
    for option in _charts(rendered).values():
        assert all(len(series["data"]) == 4 for series in option["series"])  # days 0 to 3


def test_structure_and_shock_apply_on_reset(rendered):
    _select(rendered, "structure", "three-society linkage")
    _select(rendered, "shock", "epidemic")
    assert _status(rendered).startswith("structure: co-governance")  # not before Reset
    _click(rendered, "Reset")
    assert _status(rendered) == "structure: three-society linkage · shock: epidemic · day: 0"
    assert _text(rendered, "levers") == (  # sanshe's preset, not co_governance's
        "levers in use: co-production synergy r 4 · devolved authority 0 · "
        "devolved resources 0.2 · data sharing 0 · whistle: joint dispatch off"
    )
    assert _text(rendered, "shock-news") == "epidemic from day 180 to day 224"
    _click(rendered, "Step")
    assert _status(rendered).endswith("day: 1")


def test_levers_shown_are_those_of_the_running_model(rendered):
    """The structure's levers show the running preset, locked; overriding starts from it."""
    whistle = "whistle: joint dispatch"
    assert _checkbox(rendered, whistle).v_model and _checkbox(rendered, whistle).disabled
    _select(rendered, "structure", "bureaucratic")
    _click(rendered, "Reset")
    assert not _checkbox(rendered, whistle).v_model  # bureaucratic runs without the whistle
    assert _sliders(rendered)["data sharing"].label == "data sharing: 0"
    assert _sliders(rendered)["data sharing"].disabled

    _checkbox(rendered, "override the structure's levers").v_model = True
    assert not _checkbox(rendered, whistle).v_model and not _checkbox(rendered, whistle).disabled
    _checkbox(rendered, whistle).v_model = True
    _sliders(rendered)["data sharing"].v_model = 0.7
    assert _text(rendered, "levers").endswith("data sharing 0 · whistle: joint dispatch off")
    _click(rendered, "Reset")
    assert _text(rendered, "levers").endswith("data sharing 0.7 · whistle: joint dispatch on")
    assert _checkbox(rendered, whistle).v_model


def test_colour_switch_redraws_the_grid_without_a_reset(rendered):
    _click(rendered, "Step")
    grid = _grid(rendered)
    _select(rendered, "colour by", "trust")
    assert app.grid_colouring.value == "trust"
    assert _grid(rendered) != grid
    assert _status(rendered).endswith("day: 1")
    (legend,) = (w for w in rendered.find(solara.widgets.HTML).widgets)
    assert "trust" in legend.unsafe_innerHTML and "98th percentile" in legend.unsafe_innerHTML


def test_trust_colours_show_the_spread_of_trust():
    """Trust sits in a narrow band around 0.5: the colour scale spans its 2nd to 98th
    percentile, so the map is not one colour, and the legend states that range."""
    model = app.CoGovApp()
    model.run_for(40)
    trust = model.population.trust
    low, high = app.trust_span(trust)
    assert (low, high) == pytest.approx(tuple(np.percentile(trust, app.TRUST_PERCENTILES)))
    assert high - low < 0.2  # the narrow band a fixed 0-1 scale would paint in one colour
    cells = app.grid_picture(model, "trust")[:: app.CELL_PX, :: app.CELL_PX].reshape(-1, 3)
    assert len(np.unique(cells, axis=0)) > 50
    legend = app.grid_legend(model, "trust")
    assert f">{low:.3f}</span>" in legend and f">{high:.3f}</span>" in legend


def test_trust_scale_of_identical_households_is_not_empty():
    assert app.trust_span(np.full(16, 0.5)) == pytest.approx((0.495, 0.505))


def test_grid_picture_is_y_up_with_open_issues_framed():
    model = app.CoGovApp()
    world, population = model.config.world, model.population
    picture = app.grid_picture(model, "participation")
    assert picture.shape == (world.height * app.CELL_PX, world.width * app.CELL_PX, 3)
    x, y = 3, 0  # index x * height + y, drawn in the bottom row
    population.open_issue[x * world.height + y] = 7
    population.participating[x * world.height + y] = True
    cell = app.grid_picture(model, "participation")[-app.CELL_PX :][
        :, x * app.CELL_PX : (x + 1) * app.CELL_PX
    ]
    assert (cell[0, 0] == app.OPEN_ISSUE).all()
    assert (cell[app.CELL_PX // 2, app.CELL_PX // 2] == app.CO_PRODUCER).all()


def test_epidemic_is_announced_and_shaded_on_the_charts():
    model = app.CoGovApp(shock="epidemic")
    start, duration = model.config.shock.start, model.config.shock.duration
    assert app.shock_news(model) == f"epidemic from day {start} to day {start + duration - 1}"
    assert "markArea" not in app.chart_option(model, "backlog")["series"][0]
    model.run_for(start + 1)
    assert app.shock_news(model).startswith(f"epidemic under way: day 2 of {duration}")
    (area,) = app.chart_option(model, "backlog")["series"][0]["markArea"]["data"]
    assert [area[0]["xAxis"], area[1]["xAxis"], area[0]["name"]] == [start, start + 1, "epidemic"]
    assert app.shock_news(app.CoGovApp()) is None


def test_charts_leave_a_gap_for_a_metric_not_measured_yet():
    model = app.CoGovApp(structure="canonical_pgg")
    model.step()
    (series,) = app.chart_option(model, "backlog")["series"]
    assert series["data"] == [None, None]  # JSON has no NaN


def test_playing_waits_for_the_browser_to_draw(monkeypatch):
    monkeypatch.setattr(app, "DRAW_TIMEOUT_S", 0.01)
    pacer = app.Pacer()
    pacer.drawn(5)
    assert pacer.wait_to_play(5 + app.DAYS_AHEAD)
    assert not pacer.wait_to_play(6 + app.DAYS_AHEAD)  # the browser is too far behind
    drawing = threading.Timer(0.001, pacer.drawn, args=[6])
    monkeypatch.setattr(app, "DRAW_TIMEOUT_S", 60)
    drawing.start()
    assert pacer.wait_to_play(6 + app.DAYS_AHEAD)  # woken by the browser's report


@pytest.mark.parametrize(
    ("structure", "levers"),
    [
        ("canonical_pgg", {}),
        ("bureaucratic", {"party.whistle": True, "government.data_sharing": 0.7}),
    ],
)
def test_app_model_from_ui_parameters(structure, levers):
    model = app.CoGovApp(structure=structure, seed=3, custom_levers=True, levers=levers)
    model.step()
    config = model.config
    assert config.structure.name == structure and config.seed == 3
    assert (config.world.width, config.world.height) == (40, 40)
    if levers:
        assert config.party.whistle and config.government.data_sharing == 0.7
    frame = model.datacollector.get_model_vars_dataframe()
    assert set(app.CHARTED) <= set(frame.columns) and len(frame) == 2


def test_levers_leave_the_preset_alone_unless_custom():
    levers = {"party.whistle": True, "government.data_sharing": 0.7, "residents.synergy": 4.5}
    model = app.CoGovApp(structure="bureaucratic", levers=levers)
    assert not model.config.party.whistle and model.config.government.data_sharing == 0.0
    assert model.config.residents.synergy == 4.5  # not set by the structure: always applies


def test_unknown_lever_is_a_one_line_error():
    with pytest.raises(ValueError, match=r"^unknown lever party\.whistel; expected one of: "):
        app.CoGovApp(levers={"party.whistel": True})


def test_app_words_have_both_languages():
    keys = [lever.key for lever in app.LEVERS] + list(app.CHARTS) + list(app.CHARTED)
    assert [key for key in keys if set(LABELS.get(key, {})) != {"en", "zh"}] == []


ZH_PAGE = """
import ipyvuetify as v, solara, app
_, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
rc.find(v.Btn, children=["Step"]).widget.click()
print(*(w.label for w in rc.find(v.Select).widgets), sep="|")
"""


def test_chinese_page_with_cogov_lang_zh():
    env = {**os.environ, "COGOV_LANG": "zh"}
    run = subprocess.run(
        [sys.executable, "-c", ZH_PAGE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert set(run.stdout.splitlines()[-1].split("|")) == {"治理结构", "冲击", "着色"}


# -- served offline -------------------------------------------------------------------------


def _front_end_files() -> set[str]:
    """What solara's page and its echarts component ask the CDN for, with this environment's
    ipywidgets and ipyvue (both the production and the development build)."""
    solara_dir = Path(solara.__file__).parent
    template = (solara_dir / "server/templates/solara.html.j2").read_text()
    other_vue_app = "solara-vuetify-app@" if server.vue3 else "solara-vuetify3-app@"
    paths = {
        path.replace("{{ipywidget_major_version}}", str(server.ipywidgets_major))
        for path in re.findall(r'\{\{cdn\}\}/([^"]+)"', template)
        if other_vue_app not in path
    }
    echarts = (solara_dir / "components/echarts.vue").read_text()
    version = re.search(r'const version = "([^"]+)"', echarts).group(1)
    return paths | {
        settings.assets.fontawesome_path.lstrip("/"),
        f"echarts@{version}/dist/echarts.js",
    }


def test_every_front_end_file_solara_asks_for_is_installed():
    """The page works offline only if each file is where solara's server serves it from
    (after a solara upgrade: vendor/update_solara_cdn.py, then uv sync)."""
    files = _front_end_files()
    assert any(path.endswith(".min.js") for path in files)
    assert any(path.startswith("echarts@") for path in files)
    missing = sorted(p for p in files if not (settings.assets.proxy_cache_dir / p).is_file())
    assert missing == [], f"not in {settings.assets.proxy_cache_dir}"


def _choose(page, label: str, choice: str) -> None:
    page.locator(".v-select", has_text=label).click()
    page.get_by_role("option", name=choice, exact=True).click()
    page.get_by_role("listbox").wait_for(state="hidden")


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
)
def test_app_in_headless_chromium_offline(tmp_path):
    """Serve the app with no CDN to fall back on; switch the structure, step, play 30 days,
    switch the colouring: the grid and the charts are redrawn, and every file the page loaded
    came from this machine. Records the days per second played in
    test-artifacts/app-speed.json and leaves a screenshot beside it."""
    ARTIFACTS.mkdir(exist_ok=True)
    with serving_app(tmp_path / "solara.log") as url, app_page(url) as page:
        try:
            status = page.locator(".status")
            assert status.inner_text() == "structure: co-governance · shock: no shock · day: 0"
            _choose(page, "structure", "three-society linkage")
            page.get_by_role("button", name="Reset").click()
            page.get_by_text(
                "structure: three-society linkage · shock: no shock · day: 0"
            ).wait_for()

            grid, backlog = page.locator("img.grid"), page.locator(".backlog canvas")
            grid_before, backlog_before = grid.get_attribute("src"), backlog.screenshot()
            page.get_by_role("button", name="Step").click()
            page.get_by_text(re.compile(r"day: 1$")).wait_for()
            page.wait_for_function(f"document.querySelector('img.grid').src != {grid_before!r}")

            played, seconds = play(page, 30)
            assert played >= 30 and page_day(page) >= 31
            assert backlog.screenshot() != backlog_before
            speed = {"days": played, "seconds": round(seconds, 2)}
            speed["days_per_second"] = round(played / seconds, 1)
            (ARTIFACTS / "app-speed.json").write_text(json.dumps(speed) + "\n")
            print(f"app in Chromium: {speed['days_per_second']} days/s")

            _choose(page, "colour by", "trust")
            page.get_by_text("98th percentile").wait_for()
            loaded = page.evaluate("performance.getEntriesByType('resource').map(r => r.name)")
            assert any("/_solara/cdn/echarts@" in address for address in loaded)
            assert [address for address in loaded if not address.startswith(url)] == []
        finally:
            page.screenshot(path=ARTIFACTS / "app.png", full_page=True)
