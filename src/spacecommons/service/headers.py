"""Security headers on every response: a strict Content-Security-Policy, nosniff, no framing, no referrer.

The dashboard (``spacecommons/web``) is static files with no inline script, no inline style and no
server string parsed as HTML, so its policy admits scripts from the service's own origin only:
no inline script, no ``eval``, no other host. CesiumJS 1.145 needs three allowances, each as
narrow as it can be: ``blob:`` scripts (its workers start from ``blob:`` URLs and import more),
``'wasm-unsafe-eval'`` (it compiles WebAssembly on the page; this admits WebAssembly only, not
JavaScript ``eval``) and ``'unsafe-inline'`` for styles only (its credit display, canvas feature
detection and timeline write style attributes and a ``<style>`` element; style cannot run
script). Images also from ``data:`` (the favicon) and ``blob:`` (previews fetched with the API key),
workers also from ``blob:``; nothing framed, no plugins, no ``<base>``. The same policy goes on API
responses, where it costs nothing and keeps a JSON or a downloaded file opened in a browser from
running anything.

The one exception is FastAPI's interactive API documentation (``/docs``, ``/redoc``), whose pages
load Swagger UI / ReDoc from jsDelivr and start them with an inline script: those two pages get
a policy that admits exactly that, and nothing else of the service is served under it.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DASHBOARD_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' blob: 'wasm-unsafe-eval'",  # CesiumJS: workers import blob: scripts, WebAssembly
        "style-src 'self' 'unsafe-inline'",  # CesiumJS writes style attributes and a <style>; ours has none
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)
CDN = "https://cdn.jsdelivr.net"  # where FastAPI's get_swagger_ui_html / get_redoc_html load from
API_DOCS_CSP = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' 'unsafe-inline' {CDN}",
        f"style-src 'self' 'unsafe-inline' {CDN} https://fonts.googleapis.com",
        "font-src https://fonts.gstatic.com",
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ]
)
API_DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
    "Referrer-Policy": "no-referrer",
}


def security_headers(path: str) -> dict[str, str]:
    """The headers a response to ``path`` carries."""
    csp = API_DOCS_CSP if path in API_DOCS_PATHS else DASHBOARD_CSP
    return {"Content-Security-Policy": csp, **HEADERS}


class SecurityHeaders:
    """ASGI middleware that sets :func:`security_headers` on every HTTP response (replacing any
    the route set), including the service's own 4xx answers from inner middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
