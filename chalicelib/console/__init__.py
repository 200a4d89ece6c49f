"""The compliance console's files: the page, its script and styles, one string catalogue per language.

Served as they are (no build step), each read once per function instance, with a policy that lets the
page run its own script against the API of its own origin and fetch export files from their presigned host.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from chalice import Response

HERE = Path(__file__).resolve().parent
PAGE = ("index.html", "text/html; charset=utf-8")
# The files, by the name the page asks for: nothing else under /console is served.
ASSETS = {
    "console.js": ("console.js", "text/javascript; charset=utf-8"),
    "console.css": ("console.css", "text/css; charset=utf-8"),
    "templates.js": ("templates.js", "text/javascript; charset=utf-8"),
    "pages.js": ("pages.js", "text/javascript; charset=utf-8"),
    "dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "standing.js": ("standing.js", "text/javascript; charset=utf-8"),
    "en.json": ("i18n/en.json", "application/json; charset=utf-8"),
    "zh.json": ("i18n/zh.json", "application/json; charset=utf-8"),
}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self' https: http://127.0.0.1:* http://localhost:*; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@cache
def _text(path: str) -> str:
    return (HERE / path).read_text(encoding="utf-8")


def _response(path: str, kind: str) -> Response:
    # A new Response each time: the HTTP middleware adds its own headers to it.
    return Response(body=_text(path), status_code=200, headers={"Content-Type": kind, **HEADERS})


def page() -> Response:
    return _response(*PAGE)


def asset(name: str) -> Response | None:
    """One of ``ASSETS``; ``None`` for a name that is not one."""
    return _response(*ASSETS[name]) if name in ASSETS else None
