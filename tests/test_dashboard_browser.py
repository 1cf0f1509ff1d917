"""The dashboard in a real browser: Debian's Chromium driven by Playwright (headless, software
WebGL). Loads the three pages, clicks through a conjunction to its CDM, checks that the geometry,
the globe and the pages render (screenshots that are not blank), that the strict
Content-Security-Policy is sent and nothing on the page violates it, that a server string made of
markup shows as text and runs nothing, and that the console stays free of errors.

Every wait is on a state of the page (a selector, a data attribute, a predicate), never a fixed
time, so the test passes on a machine whose cores are busy: its timeouts are ceilings only. The
predicates are written as functions: Playwright evaluates a bare expression with eval(), which the
page's CSP (rightly) refuses."""

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
    with app.state.session_maker.begin() as s:
        partners_repo.create_partner(s, "probe", T0)
        operator = partners_repo.issue_key(s, partners_repo.add_member(s, "probe", "o", "operator", T0).id, T0)
    with ServedApp(app) as url:
        _register_markup_payload(url, operator)
        yield url, key, len(result.events)


# A payload registered through the API by a partner whose strings are markup: the dashboard must
# show them as text. If one were parsed as HTML, the <img> would request /x and its handler would
# set window.scXss (and the CSP would refuse the inline handler, a console error).
MARKUP_NAME = '<img src=x onerror="window.scXss=1">'
MARKUP_INSTRUMENT = "<script>window.scXss=2</script>"


def _register_markup_payload(base: str, operator_key: str) -> None:
    import httpx

    headers = {"X-API-Key": operator_key}
    mission = {"name": "PROBE-1", "kind": "orbiter", "proprietary_days": 0, "public_after_days": 0}
    payload = {"name": MARKUP_NAME, "instrument": MARKUP_INSTRUMENT, "mass_kg": 1.0, "power_w": 2.0}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:  # argon2 is slow on a busy machine
        assert client.post("/api/v1/exchange/missions", json=mission).status_code == 201
        r = client.post("/api/v1/exchange/missions/PROBE-1/payloads", json=payload)
        assert r.status_code == 201, r.text


def _shot(page, name: str, tmp_path) -> str:
    """A screenshot of the viewport (1400x1000) kept in $SPACECOMMONS_SHOTS when set, checked not blank."""
    path = os.path.join(os.environ.get("SPACECOMMONS_SHOTS", str(tmp_path)), name)
    page.screenshot(path=path)
    _assert_not_blank(path)
    return path


# Collects every CSP violation the page reports (the init script runs outside the page's CSP).
CSP_LISTENER = """
window.scCspViolations = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.scCspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


def test_dashboard_click_through_a_conjunction_and_neo_page(server, tmp_path):
    base, key, n_events = server
    errors: list[str] = []
    requests: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--enable-unsafe-swiftshader"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)  # a ceiling for a busy machine; every wait is on a state
        page.add_init_script(CSP_LISTENER)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        response = page.goto(base + "/")
        csp = response.headers["content-security-policy"]
        script_src = next(d for d in csp.split("; ") if d.startswith("script-src "))
        assert script_src == "script-src 'self' blob: 'wasm-unsafe-eval'"  # no inline script, no JS eval
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        page.wait_for_selector("#events tbody tr")
        assert page.locator("#events tbody tr").count() == min(n_events, 500)
        page.locator("#events tbody tr").first.click()
        page.wait_for_function("() => document.querySelector('#cdm').textContent.includes('CCSDS_CDM_VERS')")
        assert page.locator("#rtn circle").count() == 4  # both objects in both RTN panels
        if CESIUM:
            # drawn: every imagery tile in and both data sources displayed, then the globe stops
            # rendering (requestRenderMode) until something changes
            page.wait_for_function(
                "() => (g => g.dataset.state === 'drawn' && +g.dataset.catalogPoints > 300"
                " && g.dataset.eventEntities === '2')(document.querySelector('#globe'))",
                timeout=240_000,
            )
            assert page.evaluate("document.querySelector('#globe').dataset.state") == "drawn"
            globe = os.path.join(os.environ.get("SPACECOMMONS_SHOTS", str(tmp_path)), "globe.png")
            page.locator("#globe canvas").first.screenshot(path=globe)
            _assert_not_blank(globe)
        page.locator("#events th[data-k='speed_km_s']").click()  # sort by speed
        speeds = [float(t) for t in page.locator("#events tbody tr td:nth-child(5)").all_inner_texts()]
        assert speeds == sorted(speeds)
        _shot(page, "safety.png", tmp_path)

        page.fill("#apikey", key)
        page.dispatch_event("#apikey", "change")
        page.click("nav button[data-tab='neo']")
        page.wait_for_selector("#orbits tbody tr")
        assert page.url.endswith("#neo")  # the page is in the address: linkable, back button
        assert page.locator("#orbits tbody tr").count() == 17
        page.fill("#ca-end", "2020-01-03")
        page.click("#ca-run")
        page.wait_for_selector("#approaches tbody tr")
        rows = page.locator("#approaches tbody tr").count()
        assert rows == 11  # CNEOS: 11 of these objects pass within 0.05 au on 2020-01-01..02
        assert page.locator("#timeline circle").count() == rows
        page.click("#rk-run")
        page.wait_for_selector("#risk tbody tr", timeout=180_000)
        risk = page.locator("#risk tbody tr").first.inner_text()
        assert "SYN2028" in risk and "2028-2028" in risk  # the synthetic impactor: one potential impact
        _shot(page, "neo.png", tmp_path)

        page.click("nav button[data-tab='lunar']")
        page.wait_for_selector("#products tbody tr")
        assert page.locator("#payloads tbody tr").count() == 2  # the demo's camera and the probe
        probe = page.locator("#payloads tbody tr", has_text="PROBE-1")
        assert probe.locator("td").nth(1).inner_text() == MARKUP_NAME  # shown as the characters sent
        assert probe.locator("td").nth(2).inner_text() == MARKUP_INSTRUMENT
        assert page.locator("#payloads img, #payloads script").count() == 0
        assert page.evaluate("window.scXss") is None
        assert not [u for u in requests if u.rstrip("/").endswith("/x")]
        assert page.locator("#products tbody tr").count() == 6
        page.select_option("#lx-level", "2B")  # CLPDS 2B -> PDS4 Derived: the DTM and the basemap
        page.click("#lx-search")
        page.wait_for_function("() => document.querySelectorAll('#products tbody tr').length === 2")
        page.locator("#products tbody tr", has_text="basemap").click()
        page.wait_for_function("() => document.querySelector('#lx-image')?.naturalWidth === 720")
        _shot(page, "lunar.png", tmp_path)

        page.go_back()  # the router: back to the NEO page
        page.wait_for_selector("#neo.active")
        violations = page.evaluate("window.scCspViolations")
        browser.close()
    assert not violations, violations
    assert not errors, errors


def _assert_not_blank(path) -> None:
    from PIL import Image

    img = Image.open(path).convert("L")
    lo, hi = img.getextrema()
    assert hi - lo > 100, "the screenshot is blank"
