"""report.html of a run and of a sweep, opened from file:// in a real headless Chromium.

The browser tests drive Debian's Chromium (``/usr/bin/chromium``) with playwright's
Python API (playwright's own browsers are never downloaded); they are skipped only when
that Chromium is missing. Each page is loaded with every request recorded and every
console message collected, as Panel's and Streamlit's UI tests do. Set
``HUBOPT_SCREENSHOT_DIR`` to keep the screenshots (``report_html_run.png``,
``report_html_sweep.png``) there.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hubopt.outputs import write_outputs
from hubopt.pipeline import RunResult, run_case
from hubopt.report_html import (
    MAX_NETWORK_FEATURES,
    network_layers,
    page_html,
    read_page_data,
    run_page_data,
    units,
)
from hubopt.settings import OSM_ATTRIBUTION

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 900}
NETWORK_KEYS = ("road", "rail", "sea", "air", "transfers")
RUN_KEYS = ("hubs", "candidates", "demand", "routes", "allocations")
CANVAS_KEYS = (*NETWORK_KEYS, "land")  # drawn on canvas, the others as SVG paths
browser_only = pytest.mark.skipif(not CHROMIUM.exists(),
                                  reason="needs Debian's Chromium at /usr/bin/chromium "
                                         "(apt-get install chromium; CI installs it)")


@pytest.fixture(scope="module")
def run_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    """The default case, run once, and its output folder."""
    result = run_case(None)
    return result, write_outputs(result, tmp_path_factory.mktemp("html") / "out")


# ------------------------------------------------------------------------------------------
# the file


def test_run_writes_a_self_contained_page_under_15_mb(run_out: tuple[RunResult, Path]) -> None:
    _, out = run_out
    page = out / "report.html"
    text = page.read_text(encoding="utf-8")
    assert page.stat().st_size < 15 * 1024 * 1024
    assert OSM_ATTRIBUTION in text
    # nothing is loaded from elsewhere: no external script, style sheet, image or frame
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=", text, re.IGNORECASE)
    assert not re.search(r"<link\b", text, re.IGNORECASE)
    assert "sourceMappingURL" not in text
    assert "Copyright (c) 2010-2023, Volodymyr Agafonkin" in text  # Leaflet's BSD-2 notice


def test_page_text_is_deterministic(run_out: tuple[RunResult, Path]) -> None:
    r, out = run_out
    assert page_html(run_page_data(r)) == (out / "report.html").read_text(encoding="utf-8")


def test_data_block_reads_back_with_hubs_units_and_network(
        run_out: tuple[RunResult, Path]) -> None:
    r, out = run_out
    data = read_page_data(out / "report.html")
    assert data is not None
    sc = data["scenarios"][0]
    assert [h["props"]["name"] for h in sc["hubs"]] == [r.candidates.names[k]
                                                         for k in r.solved.hubs]
    assert sc["units"] == {"money": "EUR", "flow": "t/year", "amount": "t",
                           "unit_cost": "EUR/t", "cost": "EUR/year"}
    assert [t["id"] for t in sc["scorecard"]] == [t.id for t in r.results]
    layers = data["networks"][0]["layers"]
    assert set(layers) == set(NETWORK_KEYS)
    assert not layers["air"]["on"]  # air links are off by default
    assert sum(len(v["coords"]) for v in layers.values()) <= MAX_NETWORK_FEATURES
    land = data["networks"][0]["land"]  # the Gulf of Finland's shores, from shipped data
    assert land is None or (land["land"] and land["attribution"])


def test_units_follow_the_flow_unit() -> None:
    assert units("TEU/week")["cost"] == "EUR/week"
    assert units("TEU/week")["unit_cost"] == "EUR/TEU"
    assert units("t")["cost"] == "EUR"


def test_large_networks_are_thinned_to_the_budget(run_out: tuple[RunResult, Path]) -> None:
    r, _ = run_out
    full = network_layers(r.network, "t/year")
    small = network_layers(r.network, "t/year", max_features=500, max_vertices=1500)
    shown = sum(len(v["coords"]) for v in small["layers"].values())
    vertices = sum(len(c) // 2 for v in small["layers"].values() for c in v["coords"])
    assert shown <= 500 + len(small["layers"])
    assert vertices <= 1500
    assert small["tolerance_deg"] >= full["tolerance_deg"]
    tiny = network_layers(r.network, "t/year", max_features=50, max_vertices=10)
    assert sum(len(v["coords"]) for v in tiny["layers"].values()) <= 50 + len(NETWORK_KEYS)
    assert all(len(c) == 4 for v in tiny["layers"].values() for c in v["coords"])
    for key, layer in small["layers"].items():
        assert layer["total"] == full["layers"][key]["total"]
        assert len(layer["rows"]) == len(layer["coords"])


# ------------------------------------------------------------------------------------------
# in the browser


@dataclass
class Loaded:
    """A page opened in Chromium, with what it logged and requested."""

    page: Any
    console: list[tuple[str, str]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by playwright."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _open(browser: Any, path: Path) -> Loaded:
    page = browser.new_page(viewport=VIEWPORT)
    loaded = Loaded(page)
    page.on("console", lambda m: loaded.console.append((m.type, m.text)))
    page.on("pageerror", lambda e: loaded.console.append(("pageerror", str(e))))
    page.on("request", lambda req: loaded.requests.append(req.url))
    page.goto(path.resolve().as_uri())
    page.wait_for_function("window.huboptReport !== undefined")
    page.wait_for_timeout(300)
    return loaded


@pytest.fixture(scope="module")
def run_page(browser: Any, run_out: tuple[RunResult, Path]) -> Iterator[Loaded]:
    """The run's report.html, open."""
    loaded = _open(browser, run_out[1] / "report.html")
    yield loaded
    loaded.page.close()


_DRAWN_JS = """(pane) => {
    let n = 0;
    window.huboptReport.map.eachLayer((l) => {
        if (l instanceof L.Path && l.options.pane === pane) { n += 1; }
    });
    return n;
}"""
_PAINTED_JS = """(pane) => {
    let n = 0;
    for (const c of document.querySelectorAll(`.leaflet-${pane}-pane canvas`)) {
        const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < px.length; i += 4) { if (px[i] > 0) { n += 1; } }
    }
    return n;
}"""


def _paths(page: Any, key: str) -> int:
    """Features of a layer on the map: SVG paths in its pane, or (network layers and land,
    drawn on canvas) the Leaflet paths in its pane, checked against the painted pixels."""
    svg = int(page.locator(f".leaflet-hubopt-{key}-pane path").count())
    if key not in CANVAS_KEYS:
        return svg
    drawn = int(page.evaluate(_DRAWN_JS, f"hubopt-{key}"))
    page.wait_for_function(f"(pane) => ({_PAINTED_JS})(pane) {'>' if drawn else '=='} 0",
                           arg=f"hubopt-{key}")
    return drawn


def _keep(png: Path, name: str) -> None:
    folder = os.environ.get("HUBOPT_SCREENSHOT_DIR")
    if folder:
        shutil.copyfile(png, Path(folder) / name)


def _check_screenshot(png: Path, page: Any) -> None:
    from PIL import Image

    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(io.BytesIO(data)).convert("RGB")
    assert img.size == (VIEWPORT["width"], VIEWPORT["height"])
    box = page.locator("#map").bounding_box()
    crop = img.crop((int(box["x"]), int(box["y"]),
                     int(box["x"] + box["width"]), int(min(box["y"] + box["height"],
                                                          VIEWPORT["height"]))))
    pixels = np.asarray(crop).reshape(-1, 3)
    colours, counts = np.unique(pixels // 16, axis=0, return_counts=True)
    # background, road, rail, sea, hubs, demand: several colours with many pixels each
    assert int((counts > 200).sum()) >= 6, colours[counts > 200]


@browser_only
def test_run_page_loads_offline_without_console_errors(run_page: Loaded) -> None:
    errors = [m for m in run_page.console if m[0] in {"error", "pageerror", "warning"}]
    assert errors == []
    assert run_page.requests
    assert all(u.startswith(("file://", "data:")) for u in run_page.requests), \
        run_page.requests


@browser_only
def test_every_hub_is_named_on_the_map_and_in_the_table(
        run_page: Loaded, run_out: tuple[RunResult, Path]) -> None:
    r, _ = run_out
    page = run_page.page
    names = [r.candidates.names[k] for k in r.solved.hubs]
    labels = page.locator(".leaflet-tooltip.hub-label")
    assert sorted(labels.all_inner_texts()) == sorted(names)
    for name in names:
        assert page.locator(".leaflet-tooltip", has_text=name).first.is_visible()
        assert page.locator("#hubs-table td", has_text=name).first.is_visible()
    assert page.get_by_text(OSM_ATTRIBUTION).first.is_visible()


@browser_only
def test_scorecard_resilience_and_allocation_tables(
        run_page: Loaded, run_out: tuple[RunResult, Path]) -> None:
    r, _ = run_out
    page = run_page.page
    ids = page.locator("#scorecard-table tbody tr td:first-child").all_inner_texts()
    assert ids == [t.id for t in r.results]
    header = " ".join(page.locator("#scorecard-table th").all_inner_texts()).lower()
    for word in ("target", "threshold", "value", "result", "source"):
        assert word in header
    verdicts = page.locator("#scorecard-table .verdict").all_inner_texts()
    assert sorted(v == "PASS" for v in verdicts) == sorted(t.passed for t in r.results)
    rows = page.locator("#resilience-table tbody tr")
    assert rows.count() == len(r.measures.hubs)
    assert "population share losing access" in page.locator("#resilience-table").inner_text()
    access = [ln for ln in r.lines if ln["kind"] == "access"]
    assert page.locator("#allocation-table tbody tr").count() == len(access)
    assert "flow (t/year)" in page.locator("#allocation-table thead").inner_text()


@browser_only
@pytest.mark.parametrize("key", [*CANVAS_KEYS, *RUN_KEYS])
def test_layer_toggle_removes_and_restores_its_features(run_page: Loaded, key: str) -> None:
    from playwright.sync_api import expect

    page = run_page.page
    box = page.locator(f"#layer-{key}")
    assert box.count() == 1
    was = box.is_checked()
    if not was:
        box.check()
    before = _paths(page, key)
    assert before > 0
    try:
        box.uncheck()
        assert _paths(page, key) == 0
        if key == "hubs":  # the names go with the hubs (after Leaflet's fade-out)
            expect(page.locator(".leaflet-tooltip.hub-label")).to_have_count(0)
    finally:
        box.check()
    assert _paths(page, key) == before
    if key == "hubs":
        expect(page.locator(".leaflet-tooltip.hub-label")).to_have_count(before)
    if not was:
        box.uncheck()


@browser_only
def test_defaults_air_off_and_no_web_basemap(run_page: Loaded) -> None:
    page = run_page.page
    assert not page.locator("#layer-air").is_checked()
    assert page.locator("#layer-road").is_checked()
    assert not page.locator("#layer-tiles").is_checked()
    assert page.locator(".leaflet-tile").count() == 0


@browser_only
def test_web_basemap_is_requested_only_when_switched_on(
        browser: Any, run_out: tuple[RunResult, Path]) -> None:
    import base64

    tile = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
                            "z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
    loaded = _open(browser, run_out[1] / "report.html")
    page = loaded.page
    try:  # tiles are answered here: nothing leaves the machine in the test either
        page.route("https://tile.openstreetmap.org/**",
                   lambda route: route.fulfill(status=200, content_type="image/png",
                                               body=tile))
        assert not any(u.startswith("http") for u in loaded.requests)
        page.locator("#layer-tiles").check()
        page.wait_for_function("document.querySelectorAll('.leaflet-tile-loaded').length > 0")
        remote = [u for u in loaded.requests if not u.startswith(("file://", "data:"))]
        assert remote
        assert all(u.startswith("https://tile.openstreetmap.org/") for u in remote)
        page.locator("#layer-tiles").uncheck()
        assert page.locator(".leaflet-tile").count() == 0
    finally:
        page.close()


@browser_only
def test_popup_shows_attributes_with_units(run_page: Loaded) -> None:
    from playwright.sync_api import expect

    page = run_page.page
    page.evaluate("""() => {
        const g = window.huboptReport.layers.hubs.group;
        g.getLayers()[0].openPopup();
    }""")
    text = page.locator(".leaflet-popup-content").inner_text()
    assert "t/year" in text
    assert "EUR/year" in text
    page.evaluate("() => { window.huboptReport.map.closePopup(); }")
    expect(page.locator(".leaflet-popup-content")).to_have_count(0)
    page.evaluate("""() => {
        const g = window.huboptReport.layers.road.group;
        g.getLayers()[0].openPopup();
    }""")
    text = page.locator(".leaflet-popup-content").inner_text()
    for unit in (" km", " h", "EUR/t", "km/h"):
        assert unit in text
    page.evaluate("() => { window.huboptReport.map.closePopup(); }")


@browser_only
def test_run_page_screenshot(run_page: Loaded, tmp_path: Path) -> None:
    png = tmp_path / "report_html_run.png"
    run_page.page.screenshot(path=str(png))
    _check_screenshot(png, run_page.page)
    _keep(png, "report_html_run.png")


# ------------------------------------------------------------------------------------------
# a sweep


@pytest.fixture(scope="module")
def sweep_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-scenario sweep of the default case (p = 2 and 3), run serially."""
    from hubopt.sweep import run_sweep

    out = tmp_path_factory.mktemp("sweep") / "sweep"
    run_sweep("default", ["model.p=2,3"], out, workers=0)
    return out


@pytest.mark.slow
def test_sweep_page_holds_every_scenario_and_one_network(sweep_out: Path) -> None:
    data = read_page_data(sweep_out / "report.html")
    assert data is not None
    assert [s["name"] for s in data["scenarios"]] == ["p-2", "p-3"]
    assert len(data["networks"]) == 1  # the same network is stored once
    assert [len(s["hubs"]) for s in data["scenarios"]] == [2, 3]
    assert data["comparison"]["columns"][:2] == ["model.p", "scenario"]
    assert "seconds" not in data["comparison"]["columns"]
    text = (sweep_out / "report.html").read_text(encoding="utf-8")
    assert page_html(sweep_page_data_again(sweep_out)) == text  # deterministic


def sweep_page_data_again(folder: Path) -> dict[str, Any]:
    """The sweep page's data rebuilt from the sweep folder (its scenarios.csv rows)."""
    import csv

    from hubopt.report_html import sweep_page_data
    from hubopt.sweep import SweepResult

    with (folder / "scenarios.csv").open(encoding="utf-8") as fh:
        rows = tuple(csv.DictReader(fh))
    return sweep_page_data(SweepResult(("model.p",), rows, folder, 0.0))


@browser_only
@pytest.mark.slow
def test_sweep_page_switches_scenarios(browser: Any, sweep_out: Path, tmp_path: Path) -> None:
    loaded = _open(browser, sweep_out / "report.html")
    page = loaded.page
    try:
        assert [m for m in loaded.console if m[0] in {"error", "pageerror", "warning"}] == []
        assert all(u.startswith(("file://", "data:")) for u in loaded.requests)
        select = page.locator("#scenario")
        assert select.locator("option").count() == 2
        assert page.locator("#comparison-table tbody tr").count() == 2

        def hubs() -> list[str]:
            return sorted(page.locator("#hubs-table tbody td:first-child").all_inner_texts())

        first = hubs()
        labels = sorted(page.locator(".leaflet-tooltip.hub-label").all_inner_texts())
        assert labels == first
        assert len(first) == 2
        png = tmp_path / "report_html_sweep.png"
        page.screenshot(path=str(png))
        _check_screenshot(png, page)
        _keep(png, "report_html_sweep.png")
        select.select_option("p-3")
        page.wait_for_timeout(200)
        second = hubs()
        assert len(second) == 3
        assert second != first
        assert sorted(page.locator(".leaflet-tooltip.hub-label").all_inner_texts()) == second
        assert _paths(page, "hubs") == 3
        assert page.locator("#comparison-table tr.current td", has_text="p-3").count() == 1
        ids = page.locator("#scorecard-table tbody tr td:first-child").all_inner_texts()
        assert len(ids) > 0
    finally:
        page.close()


def _with_failed_scenario(folder: Path) -> dict[str, Any]:
    """The sweep's page data with a third scenario that failed (no folder, an error)."""
    data = sweep_page_data_again(folder)
    from hubopt.report_html import sweep_page_data
    from hubopt.sweep import SweepResult

    rows = [*data["comparison"]["rows"]]
    columns = data["comparison"]["columns"]
    failed = dict.fromkeys(columns, "")
    failed.update({"model.p": "10", "scenario": "p-10", "status": "error",
                   "error": "model.p: 10 hubs asked, 8 candidate sites"})
    result = SweepResult(("model.p",), (*(dict(zip(columns, r, strict=True)) for r in rows),
                                        failed), folder, 0.0)
    return sweep_page_data(result)


@pytest.mark.slow
def test_sweep_page_keeps_a_failed_scenario_with_its_error(sweep_out: Path) -> None:
    data = _with_failed_scenario(sweep_out)
    failed = data["scenarios"][2]
    assert failed["name"] == "p-10"
    assert "hubs" not in failed
    assert "8 candidate sites" in failed["error"]
    assert len(data["comparison"]["rows"]) == 3


@browser_only
@pytest.mark.slow
def test_sweep_page_shows_a_failed_scenario_without_stale_results(
        browser: Any, sweep_out: Path, tmp_path: Path) -> None:
    page_file = tmp_path / "report.html"
    page_file.write_text(page_html(_with_failed_scenario(sweep_out)), encoding="utf-8")
    loaded = _open(browser, page_file)
    page = loaded.page
    try:
        page.locator("#scenario").select_option("p-10")
        page.wait_for_timeout(200)
        assert "8 candidate sites" in page.locator("#summary").inner_text()
        assert page.locator("#hubs-table tr").count() == 0
        assert page.locator("#scorecard-table tr").count() == 0
        assert _paths(page, "hubs") == 0
        assert _paths(page, "road") > 0  # the network stays
        page.locator("#scenario").select_option("p-3")
        page.wait_for_timeout(200)
        assert _paths(page, "hubs") == 3
        assert [m for m in loaded.console if m[0] in {"error", "pageerror", "warning"}] == []
    finally:
        page.close()


# ------------------------------------------------------------------------------------------
# [external]: markets and world corridors on the map

@pytest.fixture(scope="module")
def external_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    """A small world-layer region (Vladivostok's cities of 50,000+) with two sea/air markets."""
    import tomllib

    from hubopt.case import BUILTIN_FOLDER, case_from_dict

    path = BUILTIN_FOLDER / "primorye.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data["demand"]["min_population"] = 50000
    data["external"]["markets"] = [
        {"name": "Busan", "country": "KR", "port": "KRPUS", "airport": "PUS"},
        {"name": "Tokyo", "country": "JP", "port": "JPTYO", "airport": "NRT"}]
    result = run_case(case_from_dict(data, path=path))
    return result, write_outputs(result, tmp_path_factory.mktemp("html_ext") / "out")


def test_page_without_external_has_no_market_layers(run_out: tuple[RunResult, Path]) -> None:
    r, _ = run_out
    assert r.external is None
    sc = run_page_data(r)["scenarios"][0]
    assert "markets" not in sc
    assert "corridors" not in sc


def test_page_data_carries_every_market_and_world_link(
        external_out: tuple[RunResult, Path]) -> None:
    r, out = external_out
    data = read_page_data(out / "report.html")
    assert data is not None
    sc = data["scenarios"][0]
    assert [m["props"]["market"] for m in sc["markets"]] == [s["market"] for s in r.markets]
    for m, s in zip(sc["markets"], r.markets, strict=True):
        assert m["props"]["gateway"] == s["gateway"]
        assert m["props"]["modes"] == s["modes"]
        assert m["props"]["cost"] == pytest.approx(s["cost"], rel=1e-6)
    assert r.external is not None
    assert len(sc["corridors"]) == len(r.external.gateways.links)
    assert sum(c["props"]["typical"] for c in sc["corridors"]) == len(r.markets)


@browser_only
def test_markets_and_corridors_are_drawn_named_and_toggle(
        browser: Any, external_out: tuple[RunResult, Path]) -> None:
    from playwright.sync_api import expect

    r, out = external_out
    loaded = _open(browser, out / "report.html")
    page = loaded.page
    try:
        errors = [m for m in loaded.console if m[0] in {"error", "pageerror"}]
        assert not errors, errors
        names = [s["market"] for s in r.markets]
        assert sorted(page.locator(".leaflet-tooltip.market-label").all_inner_texts()) \
            == sorted(names)
        assert r.external is not None
        for key, n in (("markets", len(names)), ("corridors", len(r.external.gateways.links))):
            box = page.locator(f"#layer-{key}")
            assert box.count() == 1
            assert box.is_checked()
            assert _paths(page, key) == n
            box.uncheck()
            assert _paths(page, key) == 0
            box.check()
            assert _paths(page, key) == n
        expect(page.locator(".leaflet-tooltip.market-label")).to_have_count(len(names))
        page.evaluate("() => { window.huboptReport.layers.markets.group.getLayers()[0]"
                      ".openPopup(); }")
        text = page.locator(".leaflet-popup-content").inner_text()
        first = r.markets[0]
        for word in (first["market"], first["gateway"], first["modes"], " h", "EUR/t"):
            assert word in text
    finally:
        page.close()
