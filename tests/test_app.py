"""The live app (app.py): rendered by solara in-process, and served to a headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import ipyvuetify as v
import ipywidgets
import pytest
import solara
from playwright.sync_api import Locator, expect, sync_playwright

import app
from experiments.labels import cjk_font

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = ROOT / "test-artifacts" / "app.png"


# -- in-process render ----------------------------------------------------------------------


def _all_widgets(widget: ipywidgets.Widget, seen: set[int]):
    """``widget`` and every widget it holds, depth first (in page order)."""
    if id(widget) in seen:
        return
    seen.add(id(widget))
    yield widget
    for name in widget.keys:
        value = getattr(widget, name)
        for child in value if isinstance(value, list | tuple) else [value]:
            if isinstance(child, ipywidgets.Widget):
                yield from _all_widgets(child, seen)


def _pictures(rc) -> list[bytes]:
    """The PNGs on the page: the grid, then the charts of backlog, response time and shares."""
    seen: set[int] = set()
    return [
        bytes(w.value)
        for root in rc.find(ipywidgets.Widget).widgets
        for w in _all_widgets(root, seen)
        if isinstance(w, ipywidgets.Image)
    ]


def _status(rc) -> str:
    """The line saying which structure and shock are running, and the day."""
    return rc.find(v.Html, class_="status").widget.children[0]


def _levers(rc) -> str:
    """The line saying which lever values the running model uses."""
    return rc.find(v.Html, class_="levers").widget.children[0]


@pytest.fixture
def rendered():
    """The app's page inside an app layout (which hosts SolaraViz's sidebar of controls)."""
    app.grid_colouring.set("participation")
    _, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    yield rc
    rc.close()


def _select(rc, label: str, choice: str) -> None:
    rc.find(v.Select, label=label).widget.v_model = choice


def _click(rc, text: str) -> None:
    rc.find(v.Btn, children=[text]).widget.click()


def test_page_has_controls_grid_and_charts(rendered):
    selects = {w.label: w.items for w in rendered.find(v.Select).widgets}
    assert len(selects["structure"]) == 7 and "three-society linkage" in selects["structure"]
    assert selects["shock"] == ["no shock", "epidemic", "disaster"]
    assert selects["colour by"] == ["participation", "trust"]
    sliders = {w.label for w in rendered.find(v.Slider).widgets}
    assert {"seed", "co-production synergy r", "data sharing", "devolved authority"} <= sliders
    for button in ("Reset", "▶", "Step"):
        rendered.find(v.Btn, children=[button]).assert_single()
    assert len(_pictures(rendered)) == 4  # grid, backlog, response time, shares
    assert _status(rendered) == "structure: co-governance · shock: no shock · day: 0"


def test_stepping_changes_the_grid_and_the_charts(rendered):
    before = _pictures(rendered)
    for _ in range(3):
        _click(rendered, "Step")
    assert _status(rendered).endswith("day: 3")
    after = _pictures(rendered)
    grid, backlog, _, shares = (old != new for old, new in zip(before, after, strict=True))
    assert grid and backlog and shares


def test_structure_and_shock_apply_on_reset(rendered):
    _select(rendered, "structure", "three-society linkage")
    _select(rendered, "shock", "epidemic")
    assert _status(rendered).startswith("structure: co-governance")  # not before Reset
    _click(rendered, "Reset")
    assert _status(rendered) == "structure: three-society linkage · shock: epidemic · day: 0"
    assert _levers(rendered) == (  # sanshe's preset, not the sliders' co_governance values
        "levers in use: devolved authority 0 · devolved resources 0.2 · data sharing 0 · "
        "whistle: joint dispatch off"
    )
    before = _pictures(rendered)
    _click(rendered, "Step")
    assert _status(rendered).endswith("day: 1")
    assert _pictures(rendered)[1] != before[1]  # backlog


def test_colour_switch_redraws_the_grid_without_a_reset(rendered):
    _click(rendered, "Step")
    grid = _pictures(rendered)[0]
    _select(rendered, "colour by", "trust")
    assert app.grid_colouring.value == "trust"
    assert _pictures(rendered)[0] != grid
    assert _status(rendered).endswith("day: 1")


@pytest.mark.parametrize(
    ("structure", "levers"),
    [
        ("canonical_pgg", {}),
        ("bureaucratic", {"custom_levers": True, "whistle": True, "data_sharing": 0.7}),
    ],
)
def test_app_model_from_ui_parameters(structure, levers):
    model = app.CoGovApp(structure=structure, seed=3, **levers)
    model.step()
    config = model.config
    assert config.structure.name == structure and config.seed == 3
    assert (config.world.width, config.world.height) == (40, 40)
    if levers:
        assert config.party.whistle and config.government.data_sharing == 0.7
    frame = model.datacollector.get_model_vars_dataframe()
    assert set(app.CHARTED) <= set(frame.columns) and len(frame) == 2


def test_levers_leave_the_preset_alone_unless_custom():
    model = app.CoGovApp(structure="bureaucratic", whistle=True, data_sharing=0.7)
    assert not model.config.party.whistle and model.config.government.data_sharing == 0.0


ZH_PAGE = """
import ipyvuetify as v, solara, app
_, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
rc.find(v.Btn, children=["Step"]).widget.click()
print(*(w.label for w in rc.find(v.Select).widgets), sep="|")
"""


@pytest.mark.skipif(cjk_font() is None, reason="no CJK font (apt-get install fonts-noto-cjk)")
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
    assert "missing from font" not in run.stderr


# -- in a real browser ----------------------------------------------------------------------

SOLARA_FRONT_END = ("@widgetti/solara-vuetify3-app@5.2.0", "requirejs@2.3.6", "font-awesome@4.5.0")
"""The npm packages solara 1.64.1's page loads from its CDN (server/templates/solara.html.j2)."""


@pytest.fixture(scope="session")
def solara_front_end() -> Path:
    """A local copy of the CDN files solara's page needs, for the server's asset proxy to
    serve (the CDN is out of reach here; the npm registry is not). Fetched once with
    ``npm pack`` and kept in the user's cache."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"), "cogov", "solara-cdn")
    missing = [spec for spec in SOLARA_FRONT_END if not (cache / spec).is_dir()]
    if missing and shutil.which("npm") is None:
        pytest.skip("needs npm to fetch solara's front end from the npm registry")
    cache.mkdir(parents=True, exist_ok=True)
    for spec in missing:
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            npm = subprocess.run(
                ["npm", "pack", spec, "--pack-destination", tmp, "--silent"],
                capture_output=True,
                text=True,
                timeout=300,
            )
            if npm.returncode:
                pytest.fail(f"npm pack {spec} failed: {npm.stderr[-2000:]}")
            (tarball,) = Path(tmp).glob("*.tgz")
            with tarfile.open(tarball) as archive:
                archive.extractall(tmp, filter="data")
            (cache / spec).parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(Path(tmp, "package"), cache / spec)
            except OSError:  # another test run fetched it meanwhile
                if not (cache / spec).is_dir():
                    raise
    return cache


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(url: str, server: subprocess.Popen, log: Path, timeout: float = 60):
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"solara exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with no_proxy.open(url, timeout=5):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    pytest.fail(f"solara did not serve {url} within {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def served_app(tmp_path, solara_front_end):
    """``solara run app.py`` on a free loopback port, stopped whatever happens."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {
        **os.environ,
        "COGOV_LANG": "en",
        "SOLARA_ASSETS_PROXY_CACHE_DIR": str(solara_front_end),
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    }
    command = [sys.executable, "-m", "solara", "run", "app.py", "--production", "--no-open"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    log = tmp_path / "solara.log"
    with log.open("w") as output:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
        try:
            _wait_until_serving(url, server, log)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _sources(pictures: Locator) -> list[str]:
    return [pictures.nth(i).get_attribute("src") for i in range(pictures.count())]


def _wait_for_redraw(pictures: Locator, before: list[str], which: list[int], timeout=20):
    """Wait until the pictures at positions ``which`` show new images; return all sources."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = _sources(pictures)
        if all(now[i] != before[i] for i in which):
            return now
        time.sleep(0.1)
    pytest.fail(f"pictures {which} were not redrawn within {timeout} s")


def _settled(status: Locator, pictures: Locator, timeout=20) -> tuple[str, list[str]]:
    """Wait until the status and the pictures stay the same for a second (no step running)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        now = (status.inner_text(), _sources(pictures))
        if now == last:
            return now
        last = now
        time.sleep(1.0)
    pytest.fail(f"the page kept changing for {timeout} s")


def _choose(page, label: str, choice: str) -> None:
    page.locator(".v-select", has_text=label).click()
    page.get_by_role("option", name=choice, exact=True).click()
    expect(page.get_by_role("listbox")).to_be_hidden()


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
)
def test_app_in_headless_chromium(served_app):
    """Load the page, switch the structure, step and play, switch the colouring: the grid
    and the charts are redrawn each time. Leaves a screenshot in test-artifacts/app.png."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        try:
            page.set_default_timeout(20_000)
            page.goto(served_app)
            status = page.locator(".status")
            expect(status).to_have_text(
                "structure: co-governance · shock: no shock · day: 0", timeout=45_000
            )
            pictures = page.locator(".v-main img")  # the grid, then three charts
            expect(pictures).to_have_count(4)

            _choose(page, "structure", "three-society linkage")
            page.get_by_role("button", name="Reset").click()
            expect(status).to_have_text(
                "structure: three-society linkage · shock: no shock · day: 0"
            )

            grid, backlog, shares = 0, 1, 3
            before = _sources(pictures)
            page.get_by_role("button", name="Step").click()
            expect(status).to_have_text(re.compile(r"day: 1$"))
            before = _wait_for_redraw(pictures, before, [grid, backlog, shares])

            page.get_by_role("button", name="▶").click()
            expect(status).to_have_text(re.compile(r"day: ([5-9]|\d\d+)$"))
            page.get_by_role("button", name="❚❚").click()
            expect(page.get_by_role("button", name="Step")).to_be_enabled()
            day, after_play = _settled(status, pictures)
            assert all(after_play[i] != before[i] for i in (grid, backlog, shares))

            _choose(page, "colour by", "trust")
            _wait_for_redraw(pictures, after_play, [grid])
            expect(status).to_have_text(day)  # redrawn without a step
        finally:
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=SCREENSHOT, full_page=True)  # as the test left the page
            browser.close()
