"""The dashboard in a real browser: Debian's Chromium driven by Playwright (headless, software
WebGL). Loads both pages, clicks through a conjunction to its CDM, checks that the geometry and
the page render (a screenshot that is not blank) and that the console stays free of errors."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from .conftest import SAMPLE, ServedApp

T0 = datetime(2026, 11, 25, tzinfo=UTC)  # a frozen "now" for rows the tests write

CESIUM = (Path(__file__).parents[1] / ".web/node_modules/cesium/Build/Cesium/Cesium.js").exists()
CHROMIUM = os.environ.get("SPACECOMMONS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed (scripts/ensure-chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import ScreeningParams, screen
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.neo.reader import read_orbits
    from spacecommons.service import create_app
    from spacecommons.storage import partners_repo
    from spacecommons.storage.catalog_repo import store_elements
    from spacecommons.storage.neo_repo import store_orbits
    from spacecommons.timescales import iso_to_jd
    from spacecommons.workflows.screening import create_run, finish_run

    folder = tmp_path_factory.mktemp("web")
    app = create_app(f"sqlite:///{folder / 'web.db'}", blob_root=str(folder / "blobs"))
    parsed = read_elements(SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt")
    orbits, _ = read_orbits(SAMPLE / "neo" / "sbdb_2020_jan_approachers.csv")
    orbits += read_orbits(SAMPLE / "neo" / "synthetic_impactor_sbdb_api.json")[0]
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.1, 10.0)
    payload = CatalogPayload.from_elements(parsed.records)
    result = screen(payload, params, workers=1)
    with app.state.session_maker.begin() as s:
        store_elements(s, parsed.records, T0)
        store_orbits(s, orbits, T0)
        run_id = create_run(s, payload, params, T0)
        finish_run(s, run_id, result, T0)
        partners_repo.create_partner(s, "web", T0)
        key = partners_repo.issue_key(s, partners_repo.add_member(s, "web", "a", "analyst", T0).id, T0)
    from spacecommons.cli.demo import _demo_lunar

    _demo_lunar(str(app.state.engine.url), app.state.session_maker, blob_root=str(folder / "blobs"))
    with ServedApp(app) as url:
        yield url, key, len(result.events)


def test_dashboard_click_through_a_conjunction_and_neo_page(server, tmp_path):
    base, key, n_events = server
    errors: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--enable-unsafe-swiftshader"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/")
        page.wait_for_selector("#events tbody tr")
        assert page.locator("#events tbody tr").count() == min(n_events, 500)
        page.locator("#events tbody tr").first.click()
        page.wait_for_function("document.querySelector('#cdm').textContent.includes('CCSDS_CDM_VERS')")
        assert page.locator("#rtn circle").count() == 4  # both objects in both RTN panels
        if CESIUM:
            page.wait_for_function("window.scCatalogPoints > 300 && window.scEventEntities === 2", timeout=120_000)
            page.wait_for_timeout(3000)  # let the globe draw its imagery
            globe = os.path.join(os.environ.get("SPACECOMMONS_SHOTS", str(tmp_path)), "globe.png")
            page.locator("#globe canvas").first.screenshot(path=globe)
            _assert_not_blank(globe)
        page.locator("#events th[data-k='speed_km_s']").click()  # sort by speed
        speeds = [float(t) for t in page.locator("#events tbody tr td:nth-child(5)").all_inner_texts()]
        assert speeds == sorted(speeds)
        shot = os.path.join(os.environ.get("SPACECOMMONS_SHOTS", str(tmp_path)), "safety.png")
        page.screenshot(path=str(shot))
        _assert_not_blank(shot)

        page.fill("#apikey", key)
        page.dispatch_event("#apikey", "change")
        page.click("nav button[data-tab='neo']")
        page.wait_for_selector("#orbits tbody tr")
        assert page.locator("#orbits tbody tr").count() == 17
        page.fill("#ca-end", "2020-01-03")
        page.click("#ca-run")
        page.wait_for_selector("#approaches tbody tr", timeout=120_000)
        rows = page.locator("#approaches tbody tr").count()
        assert rows == 11  # CNEOS: 11 of these objects pass within 0.05 au on 2020-01-01..02
        assert page.locator("#timeline circle").count() == rows
        page.click("#rk-run")
        page.wait_for_selector("#risk tbody tr", timeout=180_000)
        risk = page.locator("#risk tbody tr").first.inner_text()
        assert "SYN2028" in risk and "2028-2028" in risk  # the synthetic impactor: one potential impact
        page.screenshot(path=os.environ.get("SPACECOMMONS_SHOTS", str(tmp_path)) + "/neo.png")

        page.click("nav button[data-tab='lunar']")
        page.wait_for_selector("#products tbody tr")
        assert page.locator("#payloads tbody tr").count() == 1
        assert page.locator("#products tbody tr").count() == 6
        page.select_option("#lx-level", "2B")  # CLPDS 2B -> PDS4 Derived: the DTM and the basemap
        page.click("#lx-search")
        page.wait_for_function("document.querySelectorAll('#products tbody tr').length === 2")
        page.locator("#products tbody tr", has_text="basemap").click()
        page.wait_for_selector("#lx-image")
        page.wait_for_function("document.querySelector('#lx-image').naturalWidth === 720")
        lunar = os.path.join(os.environ.get("SPACECOMMONS_SHOTS", str(tmp_path)), "lunar.png")
        page.screenshot(path=lunar)
        _assert_not_blank(lunar)
        browser.close()
    assert not errors, errors


def _assert_not_blank(path) -> None:
    from PIL import Image

    img = Image.open(path).convert("L")
    lo, hi = img.getextrema()
    assert hi - lo > 100, "the screenshot is blank"
