"""The dashboard's files: the page at ``/``, its CSS and ES modules under ``/web/``, CesiumJS under ``/cesium/``.

Nothing is generated into the page: what the scripts cannot know by themselves (where CesiumJS
is served, if it is installed) they read from ``/web/config.json``.

CesiumJS's combined build bundles Knockout 3.5, which finds the global object at load time with
``(0,eval)("this")`` — a string evaluation that a Content-Security-Policy without
``'unsafe-eval'`` refuses, leaving ``Cesium`` undefined (CesiumGS/cesium#13412, #13669). The
service serves ``Cesium.js`` with that one expression replaced by ``globalThis``, which is what it
evaluates to in a browser; the script is otherwise byte for byte the npm package's. When the
expression is not found (another CesiumJS version), the file is served as it is.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

WEB = Path(str(files("spacecommons") / "web"))  # index.html, app.css, app.js, dom.js, pages/*.js
KNOCKOUT_GLOBAL_EVAL = b'(0,eval)("this")'


@cache
def cesium_script(path: Path) -> bytes:
    """``Cesium.js`` without its one string evaluation (see the module's docstring)."""
    return path.read_bytes().replace(KNOCKOUT_GLOBAL_EVAL, b"globalThis", 1)


def mount_dashboard(app: FastAPI, cesium_dir: Path) -> None:
    """Serve the dashboard on ``app``; the globe when ``cesium_dir`` holds CesiumJS's ``Build/Cesium``."""
    has_cesium = (cesium_dir / "Cesium.js").exists()

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def dashboard() -> str:
        return (WEB / "index.html").read_text()

    @app.get("/web/config.json", include_in_schema=False)
    def dashboard_config() -> dict:
        """What the dashboard's scripts cannot know by themselves."""
        return {"cesium_base_url": "/cesium/" if has_cesium else None}

    if has_cesium:

        @app.get("/cesium/Cesium.js", include_in_schema=False)
        def cesium() -> Response:
            return Response(cesium_script(cesium_dir / "Cesium.js"), media_type="text/javascript")

        app.mount("/cesium", StaticFiles(directory=cesium_dir), name="cesium")
    app.mount("/web", StaticFiles(directory=WEB), name="web")
