"""The dashboard's files and the service's security headers, without a browser.

What a strict Content-Security-Policy relies on is checked on the files themselves: no inline
script, style or event handler in the page, no HTML parsing of strings in the scripts (OWASP's
DOM-XSS prevention rules: build DOM with textContent/createElement, never innerHTML with data),
and the headers on every kind of response. The browser test (test_dashboard_browser.py) then
checks that Chromium reports no violation."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from spacecommons.service.dashboard import WEB, cesium_script
from spacecommons.service.headers import API_DOCS_CSP, DASHBOARD_CSP

SCRIPTS = sorted(WEB.rglob("*.js"))


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from spacecommons.service import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    folder = tmp_path_factory.mktemp("files")
    app = create_app(f"sqlite:///{folder / 'f.db'}", blob_root=str(folder / "blobs"))
    yield TestClient(app)
    app.state.engine.dispose()


def test_the_page_has_no_inline_script_style_or_handler():
    page = (WEB / "index.html").read_text()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
    assert scripts == [(' type="module" src="/web/app.js"', "")]
    assert "<style" not in page
    assert not re.search(r"\sstyle\s*=", page)
    assert not re.search(r"\son[a-z]+\s*=", page)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(WEB)))
def test_scripts_build_the_dom_without_parsing_strings_as_html(script):
    code = re.sub(r"^\s*//.*$|/\*.*?\*/", "", script.read_text(), flags=re.M | re.S)  # comments may name them
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in code, f"{script.name} uses {sink}"
    assert ".style." not in code and 'setAttribute("style"' not in code, f"{script.name} sets inline style"


def test_every_module_the_app_imports_is_served(client):
    imports = {m for s in SCRIPTS for m in re.findall(r'from "\.{1,2}/([\w/.]+)"', s.read_text())}
    assert {"api.js", "dom.js", "globe.js", "pages/screening.js", "pages/neo.js", "pages/lunar.js"} <= imports
    for path in ["app.js", *sorted(imports)]:
        r = client.get(f"/web/{path}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript"), path


@pytest.mark.parametrize("path", ["/", "/web/app.js", "/web/app.css", "/web/config.json", "/api/v1/health", "/nope"])
def test_every_response_carries_the_security_headers(client, path):
    r = client.get(path)
    assert r.headers["content-security-policy"] == DASHBOARD_CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_the_policy_admits_no_inline_script_and_no_eval():
    directives = dict(d.split(" ", 1) for d in DASHBOARD_CSP.split("; "))
    assert directives["script-src"] == "'self' blob: 'wasm-unsafe-eval'"
    assert directives["default-src"] == "'self'" and directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"


def test_only_the_api_docs_pages_load_swagger_from_its_cdn(client):
    assert client.get("/docs").headers["content-security-policy"] == API_DOCS_CSP
    assert client.get("/openapi.json").headers["content-security-policy"] == DASHBOARD_CSP


def test_config_says_where_cesium_is(client):
    from spacecommons.config import Settings

    installed = (Path(Settings().cesium_dir) / "Cesium.js").exists()
    assert client.get("/web/config.json").json() == {"cesium_base_url": "/cesium/" if installed else None}
    if installed:
        served = client.get("/cesium/Cesium.js")
        assert served.headers["content-type"].startswith("text/javascript")
        assert b'(0,eval)("this")' not in served.content


def test_cesium_script_replaces_knockouts_global_lookup_and_nothing_else(tmp_path):
    bundle = tmp_path / "Cesium.js"
    bundle.write_bytes(b'var t=this||(0,eval)("this"),n=t.document;x="(0,eval)";')
    assert cesium_script(bundle) == b'var t=this||globalThis,n=t.document;x="(0,eval)";'
